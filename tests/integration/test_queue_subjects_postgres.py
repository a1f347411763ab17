"""One row per subject on PostgreSQL (issue 21, item 13): with a few thousand open flags,
several per post, every page lists each subject once at its most urgent flag, the counts
agree, and the list query still walks the queue's partial index (no sort, no scan of the
flags) with one index probe per row for the subject's other flags."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import session_scope
from app.services import queue as q
from models import Client, Flag, JobPost, utcnow
from models.moderation import queue_key
from tests.integration.test_queue_search_postgres import _generic_plan

pytestmark = pytest.mark.integration
REASONS = ("scam", "policy", "miscategorised")


def _fill(s, n_posts: int = 1500) -> dict[int, list[tuple[float, int, str]]]:
    """Posts with 1-3 open flags each (and a closed one on some): {post id: [(key, id,
    reason)]} of the open flags."""
    rnd = random.Random(11)
    now = utcnow()
    client = Client(external_id="c-1", name="Busy Client")
    s.add(client)
    s.flush()
    posts = s.execute(sa.insert(JobPost).returning(JobPost.id), [
        {"external_id": f"p{i}", "client_id": client.id, "title": f"Post {i}",
         "description": "telegram me" if i % 5 == 0 else "a plain job", "category": "writing",
         "content_hash": f"h{i}", "posted_at": now} for i in range(n_posts)]).scalars().all()
    rows = []
    for pid in posts:
        for reason in rnd.sample(REASONS, rnd.randint(1, 3)):
            priority, created = round(rnd.random() * 100, 1), now - timedelta(minutes=rnd.randint(0, 5000))
            rows.append({"subject_type": "post", "subject_id": pid, "client_id": client.id,
                         "post_id": pid, "reason": reason, "score": rnd.random(),
                         "priority": priority, "queue_key": queue_key(priority, created),
                         "created_at": created, "status": "open"})
        if pid % 4 == 0:
            rows.append(dict(rows[-1], status="dismissed", priority=999.0, queue_key=1e9))
    s.execute(sa.insert(Flag), rows)
    s.commit()
    s.execute(sa.text("ANALYZE flag"))
    s.execute(sa.text("ANALYZE job_post"))
    ids = s.execute(sa.select(Flag.post_id, Flag.queue_key, Flag.id, Flag.reason)
                    .where(Flag.status == "open")).all()
    out: dict[int, list] = {}
    for pid, key, fid, reason in ids:
        out.setdefault(pid, []).append((key, fid, reason))
    return out


def _walk(s, **filters) -> list:
    seen, cursor = [], None
    while True:
        page = q.page(s, filters=q.Filters(**filters), moderator_id=None, limit=50,
                      cursor=cursor, with_counts=False)
        seen += page.rows
        cursor = page.next_cursor
        if not cursor:
            return seen


def test_one_row_per_subject_with_thousands_of_flags(migrated_app):
    with migrated_app.app_context(), session_scope() as s:
        flags = _fill(s)
        assert sum(len(v) for v in flags.values()) > 2500
        rows = _walk(s)
        # each post once, at its most urgent open flag, in queue order
        top = sorted(((max(v), pid) for pid, v in flags.items()), reverse=True)
        assert [(r.flag.post_id, r.flag.id) for r in rows] == [(pid, k[1]) for k, pid in top]
        for row in rows[:200]:
            others = sorted(reason for _k, fid, reason in flags[row.flag.post_id]
                            if fid != row.flag.id)
            assert sorted(row.display.other_reasons) == others
            assert len(row.display.item.split(",")) == len(flags[row.flag.post_id])
        # under a reason filter: the posts with an open flag of that reason, once each
        policy = _walk(s, reason="policy")
        expected = {pid for pid, v in flags.items() if any(r == "policy" for *_x, r in v)}
        assert [r.flag.post_id for r in policy] and {r.flag.post_id for r in policy} == expected
        assert len(policy) == len(expected) and {r.flag.reason for r in policy} == {"policy"}
        # a search: every matching post once
        found = _walk(s, q="telegram")
        assert len(found) == len({r.flag.post_id for r in found}) == len(
            [p for p in flags if s.get(JobPost, p).description == "telegram me"])
        counts = q.filtered_counts(s, filters=q.Filters(), moderator_id=None)
        assert counts.matching == len(flags)
        assert counts.per_reason["policy"] == len(expected)
        assert q.filtered_counts(s, filters=q.Filters(q="telegram", reason="policy"),
                                 moderator_id=None).matching == len(
            [r for r in found if any(x[2] == "policy" for x in flags[r.flag.post_id])])


def test_the_list_query_walks_the_partial_index_and_probes_each_subject(migrated_app):
    with migrated_app.app_context(), session_scope() as s:
        _fill(s)
        now = utcnow()
        for filters, index in ((q.Filters(), "ix_flag_open_queue"),
                               (q.Filters(reason="scam"), "ix_flag_open_reason_queue")):
            stmt = q._statement(q._Shape.of(filters, None), 51)
            plan = _generic_plan(s, stmt, q._params(filters, moderator_id=None, now=now,
                                                    after=None))
            assert index in plan and "Sort" not in plan, plan
            # the subject's other flags (the one-per-subject test and the badges): probes
            # of the unique partial index on open flags by subject, never a scan of flag
            assert plan.count("uq_flag_open_subject_reason") >= 2, plan
            assert "Seq Scan on flag" not in plan, plan


def test_filtered_counts_stop_at_the_cap_per_reason(migrated_app, monkeypatch):
    """Under a category filter each reason's count reads at most FILTER_COUNT_CAP + 1 of its
    open flags (the UNION of one LIMITed read per reason, as PostgreSQL runs it): exact
    below the cap, cap + 1 beyond; the whole queue's counts stay exact."""
    with migrated_app.app_context(), session_scope() as s:
        flags = _fill(s)
        s.commit()
        true = {r: sum(1 for v in flags.values() for *_x, reason in v if reason == r)
                for r in REASONS}
        exact = q.filtered_counts(s, filters=q.Filters(category="writing"), moderator_id=None)
        assert {r: exact.per_reason[r] for r in REASONS} == true
        assert exact.matching == len(flags)
        cap = min(true.values()) + 10  # the rarest reason under it
        monkeypatch.setattr(q, "FILTER_COUNT_CAP", cap)
        q._filtered_sample.cache_clear()
        try:
            capped = q.filtered_counts(s, filters=q.Filters(category="writing"),
                                       moderator_id=None)
            assert {r: capped.per_reason[r] for r in REASONS} == {
                r: min(n, cap + 1) for r, n in true.items()}
            assert capped.matching > cap
            assert q.filtered_counts(s, filters=q.Filters(), moderator_id=None).per_reason == {
                **{r: n for r, n in true.items()}, "negative_client": 0}
            assert q.filtered_counts(s, filters=q.Filters(category="design"),
                                     moderator_id=None).matching == 0
        finally:
            q._filtered_sample.cache_clear()
