"""The embedded tick: without Redis, a served process runs the due follow-ups (and the rest of
the sweep) on its own, one process at a time (a lease row); off in testing and with Redis."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import SQLModel

from app.db import get_engine, session_scope
from app.jobs import ticker
from app.services import sweep as sweep_service
from app.services import tick
from config import Config
from models import Lease, Outreach, utcnow
from tests.helpers import make_app
from tests.support.waiting import wait_for
from tests.unit.test_followups import contacted_client


@pytest.fixture
def ticking_app(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'tick.db'}", EMBEDDED_TICK_SECONDS=1)
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
    yield app
    running = app.extensions.get(ticker.EXTENSION)
    if running is not None:
        running.stop()
        running.join(timeout=30)
    with app.app_context():
        get_engine().dispose()


def test_a_served_process_without_redis_runs_due_follow_ups_by_itself(ticking_app):
    with ticking_app.app_context(), session_scope() as s:
        _c, _flag, outreach = contacted_client(s)
        outreach_id = outreach.id
    assert ticking_app.test_client().get("/login").status_code == 200  # the first request

    def rechecked() -> bool:
        with ticking_app.app_context(), session_scope() as s:
            return s.get(Outreach, outreach_id).rechecked_at is not None

    wait_for(rechecked, timeout=30, what="the tick re-checking the due follow-up")
    with ticking_app.app_context(), session_scope() as s:
        lease = s.get(Lease, tick.NAME)
        assert lease.last_run_at is not None and lease.locked_until <= utcnow()


def test_the_tick_is_off_in_testing_and_with_redis(app, tmp_path, monkeypatch):
    assert Config().EMBEDDED_TICK_SECONDS == 0  # TRUSTDESK_ENV=testing (tests/conftest.py)
    monkeypatch.setenv("TRUSTDESK_ENV", "development")
    assert Config().EMBEDDED_TICK_SECONDS == 60
    app.test_client().get("/login")
    assert ticker.EXTENSION not in app.extensions
    with_redis = make_app(f"sqlite:///{tmp_path / 'r.db'}", EMBEDDED_TICK_SECONDS=1,
                          REDIS_URL="redis://127.0.0.1:1/0")
    with_redis.test_client().get("/login")
    assert ticker.EXTENSION not in with_redis.extensions


def two_at_once(app, monkeypatch) -> list:  # noqa: ANN001
    """Two threads take a tick at the same moment (a barrier); the sweep of whichever runs
    is held until the other has returned. Returns both results."""
    release, results = threading.Event(), []

    def held_sweep(session, **kwargs):  # noqa: ANN001, ANN003
        release.wait(30)
        return {"ran": threading.current_thread().name}

    monkeypatch.setattr(sweep_service, "run", held_sweep)
    barrier = threading.Barrier(2)

    def contender(name: str) -> None:
        with app.app_context(), session_scope() as s:
            barrier.wait()
            results.append(tick.run_once(s, owner=name, interval=60))

    threads = [threading.Thread(target=contender, args=(f"p{i}",), name=f"p{i}")
               for i in range(2)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(results) == 1, timeout=30, what="one contender turned away")
    finally:
        release.set()
        for t in threads:
            t.join(timeout=30)
    return results


def test_two_processes_ticking_at_once_run_the_sweep_once_on_sqlite(ticking_app, monkeypatch):
    results = two_at_once(ticking_app, monkeypatch)
    assert sorted(r is None for r in results) == [False, True]
    with ticking_app.app_context(), session_scope() as s:  # and it was given back
        lease = s.get(Lease, tick.NAME)
        assert lease.locked_until <= utcnow() and lease.last_run_at is not None
        assert tick.run_once(s, owner="later", interval=60) is None  # ran less than 30 s ago
