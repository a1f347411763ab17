"""Bulk dismiss and remove, set-based (issue 27): the rows, checks and answers of deciding
the items one by one in order, in a number of statements that does not grow with them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import get_engine
from app.services import NotFound, ServiceError, moderation
from app.services.moderation import StaleCase
from models import AuditEvent, Decision, Flag, JobPost, OutboxEvent
from tests.unit.console_fixtures import (db, make_client, make_flag, make_post,  # noqa: F401
                                         scam_case, staff)


def _written(db) -> tuple[int, int, int]:
    count = lambda m: db.exec(select(sa.func.count()).select_from(m)).one()  # noqa: E731
    return count(Decision), count(OutboxEvent), count(AuditEvent)


def test_dismiss_writes_each_items_decision_and_audit_event(db, staff):
    flags = [scam_case(db)[2] for _ in range(3)]
    flags[0].claimed_by = staff["moderator"].moderator_id
    db.commit()
    done = moderation.bulk(db, action="dismiss", items=[(f.id, 1) for f in flags],
                           actor=staff["moderator"])
    db.expire_all()
    assert [d.flag_id for d in done] == [f.id for f in flags]
    for flag, d in zip(flags, done, strict=True):
        fresh = db.get(Flag, flag.id)
        assert (fresh.status, fresh.version, fresh.claimed_by) == ("dismissed", 2, None)
        assert fresh.closed_at is not None
        assert d.action == "dismiss" and d.reason == "bulk dismiss" and d.post_id == flag.post_id
        assert d.details["flag_version"] == 2 and d.details["bulk"] is True
        assert d.details["before"] == {"flag": "open", "post": "live"}
        assert d.details["judged"]["title"] == db.get(JobPost, flag.post_id).title
    audits = db.exec(select(AuditEvent).where(AuditEvent.action == "post.dismiss")
                     .order_by(AuditEvent.id)).all()
    assert [a.after for a in audits] == [{"flag": f.id, "decision": d.id, "bulk": True}
                                         for f, d in zip(flags, done, strict=True)]
    bulk = db.exec(select(AuditEvent).where(AuditEvent.action == "bulk.dismiss")).one()
    assert bulk.after == {"count": 3, "flags": [f.id for f in flags]}


def test_remove_closes_the_posts_other_flags_and_skips_a_second_item_of_a_removed_post(db, staff):
    client = make_client(db)
    post = make_post(db, client)
    a = make_flag(db, post, reason="scam")
    b = make_flag(db, post, reason="policy", policy_types=["off_platform"])
    c = make_flag(db, post, reason="miscategorised")  # not selected: closed with the post
    _c2, other_post, d = scam_case(db)
    db.commit()
    done = moderation.bulk(db, action="remove", items=[(a.id, 1), (b.id, 1), (d.id, 1)],
                           actor=staff["moderator"], reason_code="scam")
    db.expire_all()
    assert [x.flag_id for x in done] == [a.id, d.id]  # b is closed with its post
    assert {db.get(JobPost, p).status for p in (post.id, other_post.id)} == {"removed"}
    assert {db.get(Flag, f).status for f in (a.id, b.id, c.id, d.id)} == {"resolved"}
    assert all(db.get(Flag, f).version == 2 for f in (a.id, b.id, c.id, d.id))
    first = done[0].details
    assert first["closed_flags"] == [{"id": b.id, "status": "open", "version": 2},
                                     {"id": c.id, "status": "open", "version": 2}]
    assert first["before"] == {"flag": "open", "post": "live"} and first["flag_version"] == 2
    assert first["reason_code"] == "scam" and first["label"] == "violation"
    assert done[1].details["closed_flags"] == []
    assert done[0].reason == "bulk remove"
    events = db.exec(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(e.event_type, e.subject_id, e.payload["decision"]) for e in events] == [
        ("post.removed", post.id, done[0].id), ("post.removed", other_post.id, done[1].id)]
    assert events[0].payload["client"] == client.external_id
    assert "was removed" in events[0].payload["notice"]
    audits = db.exec(select(AuditEvent).where(AuditEvent.action == "post.remove")
                     .order_by(AuditEvent.id)).all()
    assert audits[0].after == {"post": "removed", "reason": "scam", "decision": done[0].id,
                               "closed_flags": [b.id, c.id], "freelancers_notified": 0}
    assert audits[0].before["flag"] == "open" and "judged" in audits[0].before


def test_the_same_flag_twice_is_stale_and_nothing_is_written(db, staff):
    flags = [scam_case(db)[2] for _ in range(2)]
    db.commit()
    before = _written(db)
    with pytest.raises(StaleCase):
        moderation.bulk(db, action="dismiss", items=[(flags[0].id, 1), (flags[1].id, 1),
                                                     (flags[0].id, 1)],
                        actor=staff["moderator"])
    db.expire_all()
    assert _written(db) == before
    assert {db.get(Flag, f.id).status for f in flags} == {"open"}


def test_an_old_version_or_a_removed_post_anywhere_in_the_list_writes_nothing(db, staff):
    flags = [scam_case(db)[2] for _ in range(3)]
    db.commit()
    before = _written(db)
    with pytest.raises(StaleCase):
        moderation.bulk(db, action="remove", items=[(flags[0].id, 1), (flags[1].id, 1),
                                                    (flags[2].id, 7)],
                        actor=staff["moderator"], reason_code="scam")
    post = db.get(JobPost, flags[1].post_id)
    post.status = "removed"
    db.add(post)
    db.commit()
    with pytest.raises(StaleCase, match="already removed"):
        moderation.bulk(db, action="remove", items=[(f.id, 1) for f in flags],
                        actor=staff["moderator"], reason_code="scam")
    db.expire_all()
    assert _written(db) == before
    assert {db.get(Flag, f.id).status for f in flags} == {"open"}
    assert db.get(JobPost, flags[0].post_id).status == "live"


def test_a_client_case_or_a_missing_one_is_refused_and_nothing_is_written(db, staff):
    flag = scam_case(db)[2]
    client_flag = make_flag(db, client=make_client(db), reason="negative_client")
    db.commit()
    before = _written(db)
    with pytest.raises(ServiceError, match="about a client"):
        moderation.bulk(db, action="dismiss", items=[(flag.id, 1), (client_flag.id, 1)],
                        actor=staff["moderator"])
    db.rollback()
    with pytest.raises(NotFound):
        moderation.bulk(db, action="dismiss", items=[(flag.id, 1), (10**6, 1)],
                        actor=staff["moderator"])
    db.rollback()
    assert _written(db) == before and db.get(Flag, flag.id).status == "open"


def statements_of_bulk(db, staff, action: str, n: int) -> list[str]:
    """The SQL statements one bulk action on ``n`` fresh cases sends."""
    items = [(scam_case(db)[2].id, 1) for _ in range(n)]
    db.commit()
    seen: list[str] = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731
    sa.event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        moderation.bulk(db, action=action, items=items, actor=staff["moderator"],
                        reason_code="scam" if action == "remove" else None)
    finally:
        sa.event.remove(get_engine(), "before_cursor_execute", listener)
    return seen


@pytest.mark.parametrize("action", ["dismiss", "remove"])
def test_the_reads_and_updates_do_not_grow_with_the_items(db, staff, action):
    """Set-based: 2 items and 40 items read and update in as many statements. (SQLite
    inserts row by row; on PostgreSQL, where the inserts are multi-row, the whole count
    stays: tests/integration/test_scale_ops_postgres.py.)"""
    def not_inserts(n: int) -> int:
        return sum(not s.startswith("INSERT") for s in statements_of_bulk(db, staff, action, n))

    assert not_inserts(2) == not_inserts(40)
