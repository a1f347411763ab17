"""The connection pool on PostgreSQL (app.db): a connection in steady use is handed out
without a ping (no extra round trip per request); one that sat idle is pinged and, dead,
replaced; one that died since its last use (too recently to be pinged) fails the request's
first statement, the user load, which retries once on a new connection. Every request
here answers 200."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import db
from app.db import get_engine
from tests.integration.test_api_postgres import pg_app  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def app(pg_app):  # noqa: F811
    """The conftest's client and login fixtures, on a fresh PostgreSQL database."""
    return pg_app


@pytest.fixture
def pings(app, monkeypatch) -> list:
    calls: list = []
    with app.app_context():
        dialect = get_engine().dialect
    real = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda conn: calls.append(1) or real(conn))
    return calls


def _kill_backends(app, pg_admin) -> int:  # noqa: ANN001
    """Terminate every server process of the app's database (as a restart would)."""
    with app.app_context():
        name = get_engine().url.database
    with pg_admin.connect() as conn:
        return len(conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
            {"d": name}).all())


def test_a_connection_in_steady_use_is_not_pinged(logged_in, pings):
    web = logged_in("moderator")
    for _ in range(5):
        assert web.get("/queue/").status_code == 200
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(app, logged_in, pings, pg_admin,
                                                              monkeypatch):
    web = logged_in("moderator")
    assert web.get("/queue/").status_code == 200
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as idle
    assert _kill_backends(app, pg_admin) >= 1
    assert web.get("/queue/").status_code == 200
    assert pings  # the dead connection was found by the ping, before the request used it


def test_a_connection_that_died_unseen_fails_the_user_load_which_retries(app, logged_in, pings,
                                                                         pg_admin):
    web = logged_in("moderator")
    assert web.get("/queue/").status_code == 200
    assert _kill_backends(app, pg_admin) >= 1
    # within PING_AFTER_IDLE_SECONDS: no ping, the first statement meets the dead connection
    assert web.get("/queue/").status_code == 200
    assert pings == []
    assert web.get("/queue/").status_code == 200
