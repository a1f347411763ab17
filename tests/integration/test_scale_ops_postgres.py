"""Issue 27 on the real PostgreSQL: the System page's backlog from the planner's
estimates past a size (never a scan of job_post per view), exact below it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import session_scope
from app.services import statistics
from app.services import sweep as sweep_service
from models import JobPost, utcnow
from tests.integration.test_api_postgres import pg_app  # noqa: F401
from tests.support import factories as f

pytestmark = pytest.mark.integration


@pytest.fixture
def app(pg_app):
    """The conftest's client and login fixtures, on a fresh PostgreSQL database."""
    return pg_app


def _posts(pg_app, scored: int, unscored: int) -> None:
    with pg_app.app_context(), session_scope() as s:
        c = f.client(s)
        for i in range(scored + unscored):
            f.post(s, c, f"p{i}", "Need a logo", "A logo for my bakery, $50.",
                   scored_at=utcnow() if i < scored else None,
                   updated_at=utcnow() - timedelta(hours=1))
        s.commit()
        s.execute(sa.text("ANALYZE job_post, feedback"))
        s.commit()


def test_backlog_is_exact_below_the_size_and_estimated_above(pg_app, monkeypatch):
    _posts(pg_app, scored=300, unscored=100)
    with pg_app.app_context(), session_scope() as s:
        status = sweep_service.status(s)
        assert status["backlog"]["posts_unscored"] == 100
        assert status["backlog"]["posts_overdue"] == 100
        assert status["estimated"] == set()
        monkeypatch.setattr(statistics, "EXACT_COUNT_BELOW", 10)
        status = sweep_service.status(s)
        assert status["estimated"] == {"posts_unscored", "posts_overdue"}
        # the planner's estimate from ANALYZE's statistics: near the truth, not a count
        assert 50 <= status["backlog"]["posts_unscored"] <= 200
        assert status["backlog"]["feedback_unscored"] == 0  # an empty table: counted


def test_estimate_reads_no_row_of_the_table(pg_app, monkeypatch):
    """The estimate is an EXPLAIN: no scan (the table's sequential scan counter stays)."""
    _posts(pg_app, scored=20, unscored=20)
    monkeypatch.setattr(statistics, "EXACT_COUNT_BELOW", 10)
    with pg_app.app_context(), session_scope() as s:
        rows = sa.select(JobPost.id).where(JobPost.scored_at.is_(None))
        value, exact = statistics.count_or_estimate(s, JobPost.__table__, rows)
        assert not exact and value >= 1
        value, exact = statistics.count_or_estimate(
            s, JobPost.__table__, rows.where(JobPost.updated_at <= utcnow()))
        assert not exact and value >= 1


def test_system_page_says_about_for_an_estimate(pg_app, logged_in, monkeypatch):
    _posts(pg_app, scored=30, unscored=10)
    client = logged_in("admin")
    r = client.get("/system/")
    assert r.status_code == 200 and 'id="backlog-estimated"' not in r.text
    monkeypatch.setattr(statistics, "EXACT_COUNT_BELOW", 10)
    r = client.get("/system/")
    assert r.status_code == 200
    assert 'id="backlog-estimated"' in r.text and "about " in r.text


# --- bulk actions, set-based ------------------------------------------------------------------

@pytest.mark.parametrize("action", ["dismiss", "remove"])
def test_bulk_statements_do_not_grow_with_the_items(pg_app, action):
    from tests.unit.test_bulk_actions import statements_of_bulk  # noqa: PLC0415

    with pg_app.app_context(), session_scope() as s:
        actor = _actors(s)[0]
        few = statements_of_bulk(s, {"moderator": actor}, action, 2)
        many = statements_of_bulk(s, {"moderator": actor}, action, 60)
    # a fixed number: the reads and locks, the dashboard counts' read before the change
    # (rollups), the contacts lookup of a removal (notices), one write per kind of row, and
    # a removal's strike re-rank (the clients' standing read and one UPDATE of their flags)
    assert len(many) == len(few) <= (22 if action == "remove" else 20), (few, many)


def _actors(s):
    from app.services.audit import Actor  # noqa: PLC0415
    from models import Moderator  # noqa: PLC0415

    out = []
    for email in ("a@example.com", "b@example.com"):
        m = s.exec(sa.select(Moderator).where(Moderator.email == email)).scalar_one_or_none()
        if m is None:
            m = Moderator(email=email, password_hash="x", role="moderator")
            s.add(m)
            s.flush()
        out.append(Actor.of(m))
    s.commit()
    return out


def test_two_bulk_actions_over_shared_cases_one_wins_whole_the_other_writes_nothing(pg_app):
    """Overlapping selections, in opposite orders, at the same moment: the locks (posts,
    then flags, by id) make one wait for the other, which then finds the shared cases'
    versions gone: a conflict with nothing written - never a deadlock, never half."""
    from app.services import moderation  # noqa: PLC0415
    from models import Decision, Flag  # noqa: PLC0415
    from tests.integration.test_concurrency_postgres import _race  # noqa: PLC0415
    from tests.unit.console_fixtures import scam_case  # noqa: PLC0415

    with pg_app.app_context(), session_scope() as s:
        mod_a, mod_b = _actors(s)
    for _ in range(8):
        with pg_app.app_context(), session_scope() as s:
            flags = [scam_case(s)[2] for _ in range(30)]
            s.commit()
            ids = [f.id for f in flags]
        first = [(i, 1) for i in ids[:20]]
        second = [(i, 1) for i in reversed(ids[10:])]
        outcomes = _race(
            pg_app,
            lambda s: moderation.bulk(s, action="dismiss", items=first, actor=mod_a),
            lambda s: moderation.bulk(s, action="remove", items=second, actor=mod_b,
                                      reason_code="scam"))
        assert sorted(outcomes) == ["conflict", "ok"], outcomes
        winner = first if outcomes[0] == "ok" else second
        with pg_app.app_context(), session_scope() as s:
            decided = set(s.exec(sa.select(Decision.flag_id)
                                 .where(Decision.flag_id.in_(ids))).scalars())
            assert decided == {i for i, _ in winner}
            status = {f.id: f.status for f in s.exec(sa.select(Flag).where(Flag.id.in_(ids)))
                      .scalars()}
            assert all((status[i] != "open") == (i in decided) for i in ids)


# --- feedback scoring, a chunk of clients per job -------------------------------------------

def test_two_jobs_scoring_overlapping_clients_at_once_do_not_deadlock(pg_app):
    """Each job locks its clients' rows by id, then their open flags by id: two jobs over
    overlapping clients (named in opposite orders) wait for each other, never deadlock, and
    leave every client scored and flagged once."""
    from app.services import scoring  # noqa: PLC0415
    from models import Client, Flag  # noqa: PLC0415
    from tests.integration.test_concurrency_postgres import _race  # noqa: PLC0415

    with pg_app.app_context(), session_scope() as s:
        scoring.get_scorer()
        ids = []
        for n in range(12):
            c = f.client(s, f"neg{n}")
            f.history(s, c, "PNNNNN")
            ids.append(c.id)
        s.commit()
    for _ in range(3):
        outcomes = _race(pg_app, lambda s: scoring.score_clients(s, ids[:8]),
                         lambda s: scoring.score_clients(s, list(reversed(ids[4:]))))
        assert outcomes == ["ok", "ok"], outcomes
    with pg_app.app_context(), session_scope() as s:
        assert all(c.scored_at is not None
                   for c in s.exec(sa.select(Client).where(Client.id.in_(ids))).scalars())
        flags = s.exec(sa.select(Flag.subject_id).where(Flag.reason == "negative_client",
                                                        Flag.status == "open")).scalars().all()
        assert sorted(flags) == sorted(ids)


# --- the client page's reads ----------------------------------------------------------------

def test_client_page_on_postgresql_reads_records_in_one_pipeline(pg_app, logged_in):
    from app.services import moderation  # noqa: PLC0415
    from app.services.audit import Actor  # noqa: PLC0415
    from models import Moderator  # noqa: PLC0415
    from tests.unit.console_fixtures import (make_client, make_feedback,  # noqa: PLC0415
                                             make_flag, make_post)

    web = logged_in("moderator")
    with pg_app.app_context(), session_scope() as s:
        c = make_client(s, name="<b>Grumpy</b> Ltd")
        make_post(s, c, title="Logo <i>please</i>")
        for i in range(60):
            make_feedback(s, c, rating=1 + i % 5, negative=0.9, days_ago=1 + i,
                          comment=f"late again {i:02d}")
        make_flag(s, client=c, reason="negative_client", score=0.8, evidence=[
            {"label": "negative_client", "why": "a pattern", "kind": "pattern"}])
        s.commit()
        mod = s.exec(sa.select(Moderator)).scalars().first()
        moderation.add_note(s, text="Checked the history", actor=Actor.of(mod), client_id=c.id)
        client_id = c.id
    r = web.get(f"/clients/{client_id}")
    assert r.status_code == 200
    assert "&lt;b&gt;Grumpy&lt;/b&gt; Ltd" in r.text and "Logo &lt;i&gt;please&lt;/i&gt;" in r.text
    assert "Checked the history" in r.text and "moderator@example.com" in r.text
    assert "a pattern" in r.text and "late again 00" in r.text and "late again 55" not in r.text
    older = re.search(r'hx-get="([^"]+)" hx-target="#feedback-more"', r.text).group(1)
    assert older == f"/clients/{client_id}/feedback?after={older.rsplit('=', 1)[1]}"
    panel = web.get(older, headers={"HX-Request": "true", "HX-Target": "feedback-more"}).text
    assert "late again 10" in panel and "late again 55" in panel and "late again 09" not in panel
    assert "late again 59" in panel and 'id="feedback-more"' not in panel  # 10 + 50: the end


# --- the audit export: the unit tests' cases on PostgreSQL (aware datetimes, jsonb) ------------

from tests.unit.console_fixtures import db, staff  # noqa: E402, F401
from tests.unit.test_audit_export import (  # noqa: E402, F401
    log, test_the_export_is_byte_identical_to_the_old_one, test_the_export_streams_chunk_by_chunk)
