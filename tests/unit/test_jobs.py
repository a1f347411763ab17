"""Jobs start only after the commit that needs them; inline without Redis."""
from __future__ import annotations

import pytest

from app import jobs
from app.db import session_scope
from models import Client


@pytest.fixture
def ran(monkeypatch):
    calls = []
    monkeypatch.setattr(jobs, "resolve", lambda name: lambda *args: calls.append((name, args)))
    return calls


def test_deferred_job_runs_inline_after_commit(app, ran):
    with app.app_context(), session_scope() as s:
        s.add(Client(external_id="c1", name="A"))
        jobs.score_posts(s, [(1, "a" * 64)])
        assert ran == []  # not before the commit
        s.commit()
        assert ran == [("app.tasks.score_posts", ([1],))]


def test_deferred_job_is_dropped_on_rollback(app, ran):
    with app.app_context(), session_scope() as s:
        s.add(Client(external_id="c1", name="A"))
        s.flush()
        jobs.score_posts(s, [(1, "a" * 64)])
        s.rollback()
        s.commit()
        assert ran == []


def test_same_job_deferred_twice_in_one_transaction_runs_once(app, ran):
    with app.app_context(), session_scope() as s:
        jobs.score_client(s, 7, marker=3)
        jobs.score_client(s, 7, marker=3)
        jobs.score_client(s, 7, marker=4)
        s.commit()
    assert [args for _, args in ran] == [(7,), (7,)]


def test_job_ids_are_deterministic_and_name_the_content():
    one = jobs.score_posts_spec([(5, "abc" * 20)])
    assert one.job_id == jobs.score_posts_spec([(5, "abc" * 20)]).job_id
    assert one.job_id != jobs.score_posts_spec([(5, "xyz" * 20)]).job_id
    batch = jobs.score_posts_spec([(1, "h1"), (2, "h2")])
    assert batch.job_id == jobs.score_posts_spec([(2, "h2"), (1, "h1")]).job_id
    assert batch.args == ([1, 2],) or batch.args == ([2, 1],)


def test_inline_failure_is_logged_not_raised(app, monkeypatch, caplog):
    def boom(*_):
        raise RuntimeError("model exploded")
    monkeypatch.setattr(jobs, "resolve", lambda name: boom)
    with app.app_context():
        assert jobs.dispatch(jobs.score_client_spec(1, "x")) == "inline-failed"
    assert "the sweep will retry" in caplog.text


def test_future_scheduled_job_waits_for_the_sweep_inline(app, ran):
    from datetime import timedelta

    from models import utcnow
    with app.app_context():
        assert jobs.dispatch(jobs.follow_up_spec(1, utcnow() + timedelta(days=1))) == \
            "inline-deferred"
        assert jobs.dispatch(jobs.follow_up_spec(1, utcnow() - timedelta(seconds=1))) == "inline"
    assert ran == [("app.tasks.follow_up", (1,))]


def test_unreachable_redis_does_not_fail_the_commit(tmp_path):
    from tests.helpers import make_app

    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        assert jobs.dispatch(jobs.score_client_spec(1, "x")) == "redis-down"


def test_failed_jobs_cli_needs_redis(runner):
    r = runner.invoke(args=["jobs", "failed"])
    assert r.exit_code == 1 and "REDIS_URL is not set" in r.output


def test_scheduled_jobs_are_never_enqueued_before_they_are_due(app, monkeypatch):
    """RQ keeps whole seconds and truncates: every scheduled job's time is rounded up."""
    from datetime import datetime, timezone

    scheduled = []

    class Queue:
        def enqueue_at(self, at, func, *args, **options):
            scheduled.append((at, func))

    monkeypatch.setattr(jobs, "get_queue", lambda name: Queue())
    due = datetime(2026, 11, 26, 12, 0, 0, 600_000, tzinfo=timezone.utc)
    exact = datetime(2026, 11, 26, 12, 0, 5, tzinfo=timezone.utc)
    with app.app_context():
        jobs.enqueue(jobs.follow_up_spec(7, due))
        jobs.enqueue(jobs.follow_up_spec(8, exact))
    assert scheduled == [(datetime(2026, 11, 26, 12, 0, 1, tzinfo=timezone.utc), "app.tasks.follow_up"),
                         (exact, "app.tasks.follow_up")]


def test_inline_jobs_stay_in_line_on_sqlite(app, ran):
    """SQLite cannot take a job's write beside the caller's: no background thread there."""
    with app.app_context():
        with jobs.inline_in_background() as runner:
            assert runner is None
            assert jobs.dispatch(jobs.score_client_spec(1, "x")) == "inline"
            assert ran == [("app.tasks.score_client", (1,))]


def test_inline_runner_runs_jobs_in_order_beside_the_caller(app, monkeypatch, caplog):
    """Jobs handed to the runner run one at a time, in order, in an app context of their own
    thread; the caller blocks once ``depth`` jobs wait; a failure is logged and counted, and
    the jobs after it still run; ``close`` returns once all have run."""
    import threading
    import time

    from flask import current_app

    ran, threads = [], set()
    gate = threading.Event()

    def job(n):
        gate.wait(5)
        threads.add(threading.current_thread().name)
        assert current_app.name == app.name
        if n == 2:
            raise RuntimeError("model exploded")
        if n == 3:
            raise SystemExit(1)  # not even this stops the thread
        ran.append(n)

    monkeypatch.setattr(jobs, "resolve", lambda name: job)
    runner = jobs.InlineRunner(app, depth=2)
    specs = [jobs.score_client_spec(n, "x") for n in range(6)]
    submitted = threading.Thread(target=lambda: [runner.submit(s) for s in specs])
    submitted.start()
    time.sleep(0.2)
    assert submitted.is_alive()  # one job held by the gate, two waiting: the caller waits
    assert ran == []
    gate.set()
    submitted.join(5)
    runner.close()
    assert ran == [0, 1, 4, 5] and runner.failed == 2
    assert threads == {"inline-jobs"}
    assert "model exploded" in caplog.text


def test_an_interrupted_runner_drops_the_waiting_jobs(app, monkeypatch):
    """Ctrl-C in the caller: the job in progress ends, the waiting ones are dropped (their
    rows are committed; the sweep scores them), and nothing blocks."""
    from tests.support.waiting import GatedJob

    job = GatedJob()
    monkeypatch.setattr(jobs, "resolve", lambda name: job)
    runner = jobs.InlineRunner(app, depth=2)
    for n in range(3):
        runner.submit(jobs.score_client_spec(n, "x"))
    assert job.started.wait(5)
    job.open_soon()
    assert runner.close(run_waiting=False) == 2
    assert job.ran == [0] and runner.failed == 0
