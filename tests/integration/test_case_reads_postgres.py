"""The post case page's reads on PostgreSQL (``services.reads``: psycopg's cursor, one
pipelined round trip, records instead of ORM entities) give what the ORM gives, in UTC
whatever the database's time zone, and the page shows it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import session_scope
from app.services import casefile, moderation, reads
from app.services.audit import Actor
from models import Client, Decision, Flag, JobPost, utcnow
from tests.helpers import PASSWORD, login
from tests.unit.console_fixtures import make_client, make_flag, make_post, scam_case

pytestmark = pytest.mark.integration


def _fields(entity) -> dict:
    return {c.key: getattr(entity, c.key) for c in entity.__table__.c}


def _case(s):
    """A scam case claimed by a moderator, a second open flag, a closed one, decisions by
    people and by the system on the post and on its client, feedback: every part of the
    page has something to show."""
    from app.services import users
    from app.services.audit import CLI

    mod = users.create_moderator(s, email="mod@example.com", password=PASSWORD,
                                 role="moderator", actor=CLI)
    admin = users.create_moderator(s, email="admin@example.com", password=PASSWORD,
                                   role="admin", actor=CLI)
    client, post, flag = scam_case(s)
    second = make_flag(s, post, reason="policy", priority=20.0, policy_types=["off_platform"])
    make_flag(s, post, reason="miscategorised", status="dismissed", priority=5.0,
              suggested_category="writing")
    make_flag(s, make_post(s, client), reason="policy")
    make_flag(s, make_post(s, make_client(s)), reason="scam")  # another client's
    now = utcnow()
    flag.claimed_by, flag.claimed_until = mod.id, now + timedelta(minutes=10)
    s.add(flag)
    for i, (who, action, on_post) in enumerate([(mod, "note", True), (None, "note", True),
                                                (admin, "escalate", True),
                                                (mod, "contact", False)]):
        s.add(Decision(flag_id=flag.id if on_post else None,
                       subject_type="post" if on_post else "client",
                       subject_id=post.id if on_post else client.id, client_id=client.id,
                       post_id=post.id if on_post else None,
                       moderator_id=who.id if who else None, action=action,
                       created_at=now - timedelta(minutes=10 - i)))
    s.flush()
    return mod, admin, client, post, flag, second


@pytest.fixture
def ny_app(migrated_app, pg_url):
    """The app on a database whose own time zone is not UTC (the app's connections set
    their own: psycopg returns timestamptz values in the session's time zone)."""
    admin_engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as c:
        c.execute(sa.text(f'ALTER DATABASE "{admin_engine.url.database}" '
                          "SET timezone TO 'America/New_York'"))
    admin_engine.dispose()
    return migrated_app


def test_post_case_records_equal_the_orm_entities_in_utc(ny_app):
    with ny_app.app_context(), session_scope() as s:
        assert s.execute(sa.text("SHOW timezone")).scalar() == "UTC"
        mod, admin, client, post, flag, second = _case(s)
        s.commit()
        s.expire_all()  # flag.category was set by the database (a trigger on flag)
        for who, is_admin in ((Actor.of(mod), False), (Actor.of(admin), True)):
            case = casefile.post_case(s, post_id=post.id, flag_id=None, actor=who,
                                      is_admin=is_admin)
            assert type(case.post) is reads.record(JobPost.__table__)
            assert case.post._asdict() == _fields(s.get(JobPost, post.id))
            assert case.client.client._asdict() == _fields(s.get(Client, client.id))
            flags = s.exec(select(Flag).where(Flag.post_id == post.id)
                           .order_by(Flag.priority.desc(), Flag.id.desc())).all()
            assert [f._asdict() for f in case.open_flags + case.closed_flags] == \
                [_fields(f) for f in flags]
            assert case.flag.id == flag.id and case.version == flag.version
            decisions = s.exec(select(Decision).where(Decision.post_id == post.id)
                               .order_by(Decision.id.desc())).all()
            assert [d._asdict() for d in case.decisions] == [_fields(d) for d in decisions]
            assert [d.action for d in case.client.decisions] == \
                ["contact", "escalate", "note", "note"]
            assert case.post.created_at.utcoffset() == timedelta(0)
            assert case.moderators == {mod.id: "mod@example.com", admin.id: "admin@example.com"}
            assert case.claim.claimed_by == mod.id and case.claim.mine == (who == Actor.of(mod))
            assert case.escalated
            assert case.allowed == moderation.allowed_actions(
                flag=s.get(Flag, flag.id), post=s.get(JobPost, post.id),
                client=s.get(Client, client.id))
            assert (case.client.posts_total, case.client.flags_total, case.client.flags_open) \
                == (2, 4, 3)
            assert [m.email for m in case.staff] == \
                (["admin@example.com", "mod@example.com"] if is_admin else [])
        with pytest.raises(casefile.NotFound):
            casefile.post_case(s, post_id=post.id + 1000, flag_id=None, actor=Actor.of(mod),
                               is_admin=False)


def test_post_case_page_on_postgresql(ny_app):
    """The page, served from those records: claim, names, times in UTC, escalation."""
    with ny_app.app_context(), session_scope() as s:
        mod, _admin, _client, post, flag, _second = _case(s)
        created = s.get(Decision, s.exec(select(Decision.id).where(
            Decision.action == "escalate")).one()).created_at
        s.commit()
        post_id = post.id
    client = ny_app.test_client()
    login(client, "admin@example.com")
    html = client.get(f"/posts/{post_id}").get_data(as_text=True)
    assert "Claimed by mod@example.com" in html
    assert "escalated to admins" in html
    assert created.strftime("%Y-%m-%d %H:%M UTC") in html
    assert re.search(r'<option value="\d+">mod@example.com</option>', html)
    assert client.get(f"/posts/{post_id + 1000}").status_code == 404


def test_reads_without_pipeline_mode_give_the_same_rows(ny_app, monkeypatch):
    """Where libpq has no pipeline mode the statements run one by one: the same rows."""
    with ny_app.app_context(), session_scope() as s:
        mod, _admin, _client, post, _flag, _second = _case(s)
        s.commit()
        piped = casefile.post_case(s, post_id=post.id, flag_id=None, actor=Actor.of(mod),
                                   is_admin=True)
        monkeypatch.setattr(reads, "_pipelines", lambda: False)
        one_by_one = casefile.post_case(s, post_id=post.id, flag_id=None,
                                        actor=Actor.of(mod), is_admin=True)
        assert piped == one_by_one and piped.decisions and piped.staff
