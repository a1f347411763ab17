"""The worker rides out what kills or stalls plain RQ: Redis going away (and coming back
empty), a `kill -9` of the worker and its scheduler, the jobs such a kill leaves started,
and failed webhook jobs whose events were delivered since. Real `flask worker` processes,
real PostgreSQL, real Redis (a private `redis-server` for the outage)."""
from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import timedelta

import pytest
from rq.job import Job
from sqlmodel import select

from app.db import get_engine, session_scope
from app.jobs import enqueue, failed
from app.services import outbox
from app.services import sweep as sweep_service
from models import OutboxEvent, utcnow
from tests.helpers import make_app
from tests.integration.test_worker_real import app, bulk_posts, env, scored  # noqa: F401 (fixtures)
from tests.integration.worker_support import PrivateRedis, WorkerEnv, wait_for
from tests.support import factories as f
from tests.support import processes
from tests.support.services import migrate

pytestmark = pytest.mark.integration


@pytest.fixture
def private_env(pg_url, tmp_path):
    """A WorkerEnv on a private redis-server (down until the test starts it)."""
    migrate(pg_url)
    private = PrivateRedis(tmp_path)
    if private.binary is None:
        pytest.skip("redis-server is not installed")
    env = WorkerEnv(pg_url, private.url, tmp_path, SWEEP_INTERVAL_SECONDS="2",
                    WORKER_MAINTENANCE_SECONDS="2")
    app = make_app(pg_url, **env.app_overrides())
    yield env, private, app
    env.stop_workers()
    private.stop()
    with app.app_context():
        get_engine().dispose()


def _log_count(env: WorkerEnv, text: str) -> int:
    return env.worker_log(0).count(text)


def test_the_worker_rides_out_redis_outages_and_restores_the_sweep(private_env):
    """Started while Redis is down, the worker waits for it; when Redis restarts empty (the
    sweep's schedule and RQ's scheduler gone with it), the same process works on: the
    periodic sweep comes back and scores what was stored meanwhile."""
    env, private, app = private_env
    worker = env.start_worker()
    wait_for(lambda: _log_count(env, "Redis is unreachable") >= 1, timeout=120,
             what="the worker noticing Redis is down", env=env)
    private.start()
    bulk_posts(app, 2, tag="first")
    wait_for(lambda: scored(app) == 2, timeout=60, what="the sweep scoring after Redis came up",
             env=env)

    outages = _log_count(env, "could not connect") + _log_count(env, "unreachable")
    private.stop()  # Redis goes away ...
    wait_for(lambda: _log_count(env, "could not connect") + _log_count(env, "unreachable")
             > outages, timeout=60, what="the worker noticing the outage", env=env)
    private.start()  # ... and comes back empty: no schedule, no queues, no locks
    bulk_posts(app, 3, tag="after")
    wait_for(lambda: scored(app) == 5, timeout=60,
             what="the sweep, scheduled again, scoring after Redis restarted empty", env=env)
    assert worker.poll() is None, "the worker process exited"


def _kill_group(proc) -> None:  # noqa: ANN001
    """kill -9 of the worker and its scheduler child at once."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: not processes.group_alive(proc), timeout=20, what="the killed group gone")


def _scheduler_registered(app) -> bool:  # noqa: ANN001
    """The scheduler holds the lock and runs (its process registered itself)."""
    from rq.scheduler import RQScheduler

    with app.app_context():
        conn = enqueue.get_connection()
        holder = conn.get(RQScheduler.get_locking_key(enqueue.queue_name(enqueue.QUEUE_DEFAULT)))
        return holder is not None and conn.hexists(b"rq:scheduler:" + holder, "pid")


def test_after_kill_9_of_worker_and_scheduler_the_restarted_worker_schedules_at_once(env, app):
    env.start_worker()
    wait_for(lambda: _scheduler_registered(app), timeout=120, what="the scheduler running",
             env=env)
    _kill_group(env.workers[0])
    assert _scheduler_registered(app), "the dead scheduler's lock should outlive it"
    posts = bulk_posts(app, 2)
    with app.app_context():
        spec = replace(enqueue.score_posts_spec(posts), at=utcnow() + timedelta(seconds=2))
        assert enqueue.dispatch(spec) == "enqueued"  # a scheduled job: only the scheduler runs it
    env.start_worker()
    wait_for(lambda: scored(app) == 2, timeout=60,
             what="the scheduled job run by the restarted worker's scheduler", env=env)


def test_jobs_left_started_by_a_killed_worker_are_recovered_without_a_sweep(env, app):
    posts = bulk_posts(app, 2000)
    with app.app_context():
        assert enqueue.dispatch(enqueue.score_posts_spec(posts)) == "enqueued"
    env.start_worker()
    wait_for(lambda: scored(app) > 0, timeout=120, interval=0.05, what="first chunk committed",
             env=env)
    _kill_group(env.workers[0])
    assert 0 < scored(app) < 2000, "the kill did not land mid-batch"
    with app.app_context():
        assert enqueue.get_queue(enqueue.QUEUE_SCORING).started_job_registry.count == 1

    env.start_worker()  # another name; the sweep is an hour away (SWEEP_INTERVAL_SECONDS)
    wait_for(lambda: scored(app) == 2000, timeout=180,
             what="the abandoned job retried by the restarted worker", env=env)
    with app.app_context():
        queue = enqueue.get_queue(enqueue.QUEUE_SCORING)
        wait_for(lambda: queue.started_job_registry.count == 0, timeout=30,
                 what="the started registry empty", env=env)
        assert failed.failed_jobs() == []


def _fail(app, spec) -> str:  # noqa: ANN001
    """Move a queued job to its failed registry, as a worker whose retries ran out does."""
    with app.app_context():
        conn = enqueue.get_connection()
        job = Job.fetch(enqueue.full_job_id(spec.job_id), connection=conn)
        queue = enqueue.get_queue(spec.queue)
        queue.remove(job)
        queue.failed_job_registry.add(job, ttl=3600, exc_string="WebhookDeliveryError: HTTP 503")
        return job.id


def test_failed_webhook_jobs_leave_the_failed_list_once_their_events_are_delivered(env):
    env.settings.update(MARKETPLACE_WEBHOOK_URL="http://127.0.0.1:1/down",
                        WEBHOOK_SECRET="whsec-x-0123456789")
    app = make_app(env.settings["DATABASE_URL"], **env.app_overrides())
    try:
        with app.app_context(), session_scope() as s:
            delivered_client, pending_client = f.client(s, "delivered"), f.client(s, "pending")
            events = {}
            for c in (delivered_client, pending_client):
                events[c.id] = outbox.emit(s, event_type="client.suspended",
                                           subject_type="client", subject_id=c.id, payload={})
            s.commit()
            specs = {cid: enqueue.deliver_outbox_spec("client", cid, e.id)
                     for cid, e in events.items()}
            delivered_id = events[delivered_client.id].id
        stale = _fail(app, specs[delivered_client.id])
        live = _fail(app, specs[pending_client.id])
        with app.app_context(), session_scope() as s:
            event = s.get(OutboxEvent, delivered_id)
            event.delivered_at = utcnow()  # delivered since, by a later job
            s.add(event)
            s.commit()
            assert {r["id"] for r in failed.failed_jobs()} == {stale, live}
            report = sweep_service.run(s, delay=3600)
            assert report["failed_pruned"] == 1
            assert [r["id"] for r in failed.failed_jobs()] == [live]
            pending = s.exec(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))).all()
            assert [e.subject_id for e in pending] == [pending_client.id]
    finally:
        with app.app_context():
            get_engine().dispose()


def _left_started(app, spec, worker_name: str) -> Job:  # noqa: ANN001
    """The job as a worker killed while running it leaves it: status started, its execution
    in the started registry under the worker's name, for the job's whole lease."""
    from rq.executions import Execution
    from rq.job import JobStatus

    with app.app_context():
        conn = enqueue.get_connection()
        assert enqueue.dispatch(spec) == "enqueued"
        job = Job.fetch(enqueue.full_job_id(spec.job_id), connection=conn)
        enqueue.get_queue(spec.queue).remove(job)
        with conn.pipeline() as pipe:
            job.set_status(JobStatus.STARTED, pipeline=pipe)
            Execution.create(job, ttl=600, pipeline=pipe, worker_name=worker_name)
            pipe.execute()
        return job


def test_abandoned_jobs_are_retried_or_failed_per_their_retry_policy(env, app):
    from rq.job import JobStatus

    from app.jobs import recovery
    from app.jobs.spec import JobSpec

    posts = bulk_posts(app, 1)
    gone = f"{env.prefix}-gone"  # no hash any more: its lease ended, or Redis restarted
    retrying = _left_started(app, enqueue.score_posts_spec(posts), gone)
    one_shot = _left_started(app, JobSpec("app.jobs.tasks.sweep", (), "sweep-abandoned",
                                          retry=False), gone)
    mine = _left_started(app, enqueue.send_outreach_spec(1), f"{env.prefix}-me")
    with app.app_context():
        conn = enqueue.get_connection()
        recovered = recovery.recover_abandoned_jobs(conn, enqueue.all_queues(),
                                                    running_worker=f"{env.prefix}-me")
        assert recovered == 2
        retrying.refresh()
        assert retrying.get_status() == JobStatus.SCHEDULED  # retried after its interval
        assert retrying.retries_left == len(enqueue.retry_intervals()) - 1
        [row] = failed.failed_jobs()
        assert row["id"] == one_shot.id and "AbandonedJobError" in row["error"]
        assert mine.get_status(refresh=True) == JobStatus.STARTED  # a live worker's job
        default = enqueue.get_queue(enqueue.QUEUE_DEFAULT).started_job_registry
        assert [job_id for job_id, _ in default.get_job_and_execution_ids()] == [mine.id]
