"""Issue 27 on the real PostgreSQL: the System page's backlog from the planner's
estimates past a size (never a scan of job_post per view), exact below it."""
from __future__ import annotations

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
