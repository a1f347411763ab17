"""The flagging worker for real: PostgreSQL, Redis, `flask worker` subprocesses.

Each test gets a fresh database (migrated with Alembic), its own RQ queue/job prefix and
Redis keys (deleted afterwards), and stops its workers.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.jobs import enqueue
from app.db import get_engine, session_scope
from app.services import outbox, tokens, webhooks
from app.services.audit import CLI
from app.services.content import post_content_hash
from models import Client, Flag, JobPost, OutboxEvent, Outreach, utcnow
from tests.helpers import make_app
from tests.integration.conftest import REDIS_URL
from tests.support.services import migrate
from tests.integration.worker_support import ROOT, PrivateRedis, WorkerEnv, wait_for
from tests.support import factories as f
from tests.support import processes
from tests.support.receiver import Receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def env(pg_url, redis_client, tmp_path):
    migrate(pg_url)
    e = WorkerEnv(pg_url, REDIS_URL, tmp_path)
    yield e
    e.stop_workers()
    e.cleanup_redis()


@pytest.fixture
def app(env):
    app = make_app(env.settings["DATABASE_URL"], **env.app_overrides())
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def api(app):
    """A test client with a bearer token for the marketplace API."""
    with app.app_context(), session_scope() as s:
        _row, token = tokens.create_token(s, name="marketplace", actor=CLI)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def count(app, stmt) -> int:
    with app.app_context(), session_scope() as s:
        return s.exec(stmt).one()


def scored(app) -> int:
    return count(app, select(sa.func.count()).select_from(JobPost)
                 .where(JobPost.scored_at.is_not(None)))


def assert_one_open_flag_per_subject_and_reason(app) -> int:
    with app.app_context(), session_scope() as s:
        rows = s.exec(select(Flag.subject_type, Flag.subject_id, Flag.reason)
                      .where(Flag.status == "open")).all()
    assert len(rows) == len(set(rows)), "duplicate open flags"
    return len(rows)


def bulk_posts(app, n: int, *, scam_every: int = 3, tag: str = "bulk") -> list[tuple[int, str]]:
    """n posts stored directly (no jobs), a third of them scams, of a new client ``tag``;
    returns every post stored."""
    with app.app_context(), session_scope() as s:
        c = f.client(s, tag)
        rows = []
        for i in range(n):
            title, desc = (f.SCAM if i % scam_every == 0 else f.HONEST)
            desc = f"{desc} ({tag} {i})"
            rows.append(dict(external_id=f"{tag}-{i}", client_id=c.id, title=title,
                             description=desc, category="admin_support", posted_at=utcnow(),
                             status="live", created_at=utcnow(), updated_at=utcnow(),
                             content_hash=post_content_hash(title=title, description=desc,
                                                            category="admin_support",
                                                            skills=None, budget=None)))
        s.execute(sa.insert(JobPost), rows)
        s.commit()
        return [tuple(r) for r in s.exec(select(JobPost.id, JobPost.content_hash)
                                         .order_by(JobPost.id)).all()]


def test_ingest_to_flag_end_to_end(env, app, api):
    env.start_worker()
    assert api.put("/api/v1/clients/c-1", json={"name": "Acme Ltd"}).status_code == 201
    posts = {"scam-1": (*f.SCAM, "admin_support"), "honest-1": (*f.HONEST, "design_creative")}
    for ext, (title, desc, category) in posts.items():
        r = api.put(f"/api/v1/posts/{ext}", json={"client_id": "c-1", "title": title,
                                                  "description": desc,
                                                  "category": category,
                                                  "posted_at": utcnow().isoformat()})
        assert r.status_code == 201, r.get_json()
    wait_for(lambda: scored(app) == 2, what="both posts scored by the worker", env=env)
    scam = api.get("/api/v1/posts/scam-1").get_json()
    honest = api.get("/api/v1/posts/honest-1").get_json()
    assert "scam" in {flag["reason"] for flag in scam["open_flags"]}
    assert honest["open_flags"] == []
    assert assert_one_open_flag_per_subject_and_reason(app) >= 1


def test_same_post_enqueued_twice_is_one_job(env, app):
    [(post_id, content_hash)] = bulk_posts(app, 1)
    with app.app_context():
        spec = enqueue.score_posts_spec([(post_id, content_hash)])
        assert enqueue.dispatch(spec) == "enqueued"
        assert enqueue.dispatch(spec) == "duplicate"
        assert enqueue.get_queue(enqueue.QUEUE_SCORING).count == 1


def test_two_workers_scoring_the_same_posts_leave_exactly_one_flag_each(env, app):
    posts = bulk_posts(app, 600)
    with app.app_context():
        # overlapping jobs with different ids: both workers score every post at once
        for chunk in range(0, 600, 100):
            enqueue.dispatch(enqueue.score_posts_spec(posts[chunk:chunk + 100]))
            enqueue.dispatch(enqueue.score_posts_spec(list(reversed(posts))[chunk:chunk + 100]))
    env.start_worker()
    env.start_worker()
    wait_for(lambda: scored(app) == 600, what="600 posts scored", env=env)
    with app.app_context():
        wait_for(lambda: enqueue.get_queue(enqueue.QUEUE_SCORING).count == 0, what="queue drained", env=env)
    n_flags = assert_one_open_flag_per_subject_and_reason(app)
    assert n_flags >= 200  # every scam got its flags, once


def test_worker_killed_mid_batch_then_restarted_scores_everything_once(env, app):
    posts = bulk_posts(app, 4000)
    with app.app_context():
        assert enqueue.dispatch(enqueue.score_posts_spec(posts)) == "enqueued"
    worker = env.start_worker()
    wait_for(lambda: scored(app) > 0, timeout=120, interval=0.05, what="first chunk committed", env=env)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    # its forked RQ scheduler must not live on, orphaned, holding the scheduler lock
    wait_for(lambda: not processes.group_alive(worker), timeout=20, what="the killed worker's scheduler exited")
    partial = scored(app)
    assert 0 < partial < 4000, "the kill did not land mid-batch"

    env.start_worker()
    env.flask("sweep")  # re-enqueues the unscored rest (the killed job is abandoned)
    wait_for(lambda: scored(app) == 4000, timeout=180, what="all posts scored after restart", env=env)
    assert assert_one_open_flag_per_subject_and_reason(app) >= 1333


def test_redis_down_during_ingest_then_the_sweep_catches_up(pg_url, tmp_path, redis_client):
    migrate(pg_url)
    private = PrivateRedis(tmp_path)
    env = WorkerEnv(pg_url, private.url, tmp_path)
    app = make_app(pg_url, **env.app_overrides())
    try:
        with app.app_context(), session_scope() as s:
            _row, token = tokens.create_token(s, name="marketplace", actor=CLI)
        api = app.test_client()
        api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        # Redis is down: the API still stores and answers
        assert api.put("/api/v1/clients/c-1", json={"name": "Acme"}).status_code == 201
        r = api.put("/api/v1/posts/p-1", json={"client_id": "c-1", "title": f.SCAM[0],
                                               "description": f.SCAM[1],
                                               "posted_at": utcnow().isoformat()})
        assert r.status_code == 201
        assert scored(app) == 0
        # Redis comes back; a worker and the sweep pick up what was missed
        private.start()
        env.start_worker()
        report = json.loads(env.flask("sweep").stdout)
        assert report["posts"] == 1 and report["dispatch"] == {"enqueued": 1}
        wait_for(lambda: scored(app) == 1, what="post scored after Redis came back", env=env)
        assert assert_one_open_flag_per_subject_and_reason(app) >= 1
    finally:
        env.stop_workers()
        private.stop()
        with app.app_context():
            get_engine().dispose()


def test_webhooks_retry_a_failing_endpoint_and_arrive_in_order_signed(env, tmp_path):
    receiver = Receiver()
    receiver.fail_next = 2
    secret = "whsec-integration-0123456789"
    env.settings.update(MARKETPLACE_WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=secret)
    app = make_app(env.settings["DATABASE_URL"], **env.app_overrides())
    try:
        with app.app_context(), session_scope() as s:
            c = f.client(s)
            for i in range(3):
                outbox.emit(s, event_type="client.contacted", subject_type="client",
                            subject_id=c.id, payload={"seq": i})
            s.commit()  # three delivery jobs enqueued after the commit
        env.start_worker()
        wait_for(lambda: len(receiver.received) == 3, timeout=60, what="3 deliveries", env=env)
        seqs = [json.loads(r["body"])["data"]["seq"] for r in receiver.received]
        assert seqs == [0, 1, 2]
        for r in receiver.received:
            assert webhooks.verify(r["body"], r["headers"]["X-TrustDesk-Signature"], secret)
        keys = [r["headers"]["Idempotency-Key"] for r in receiver.received]
        assert len(set(keys)) == 3
        with app.app_context(), session_scope() as s:
            events = s.exec(select(OutboxEvent).order_by(OutboxEvent.id)).all()
            assert all(e.delivered_at for e in events) and events[0].attempts == 3
    finally:
        receiver.close()
        with app.app_context():
            get_engine().dispose()


def test_follow_up_rechecks_run_on_the_scheduler_both_ways(env, app):
    with app.app_context(), session_scope() as s:
        outreach_ids = {}
        for name, after in {"improved": "PPP", "worse": "NPN"}.items():
            c = f.client(s, name)
            f.history(s, c, "PNNNNN", start_days_ago=60, prefix=f"{name}-before")
            c.status = "contacted"
            sent = utcnow() - timedelta(days=14)
            o = Outreach(client_id=c.id, template="tone", body="Please be kind.", sent_at=sent,
                         follow_up_due_at=utcnow() + timedelta(seconds=2))
            s.add_all([c, o])
            s.commit()
            for i, kind in enumerate(after):
                f.feedback(s, c, f"{name}-after-{i}", 1 if kind == "N" else 5,
                           f.NEGATIVE if kind == "N" else f.POSITIVE,
                           created_at=utcnow() - timedelta(days=5 - i))
            enqueue.follow_up(s, o.id, o.follow_up_due_at)
            s.commit()  # scheduled with enqueue_at for the end of the window
            outreach_ids[name] = o.id
        scheduled = enqueue.get_queue(enqueue.QUEUE_DEFAULT).scheduled_job_registry.count
        assert scheduled == 2
    env.start_worker()

    def rechecked() -> bool:
        with app.app_context(), session_scope() as s:
            return all(s.get(Outreach, i).rechecked_at for i in outreach_ids.values())

    wait_for(rechecked, timeout=60, what="both follow-ups rechecked by the worker", env=env)
    with app.app_context(), session_scope() as s:
        assert s.get(Outreach, outreach_ids["improved"]).outcome == "improved"
        assert s.get(Client, s.get(Outreach, outreach_ids["improved"]).client_id).status == "active"
        worse = s.get(Outreach, outreach_ids["worse"])
        assert worse.outcome == "pending"
        flag = s.exec(select(Flag).where(Flag.client_id == worse.client_id,
                                         Flag.status == "open")).one()
        assert flag.priority >= 1000 and flag.system_note.startswith("suspend recommended")


def test_failed_jobs_are_listed_and_requeued(env, app):
    env.settings.update(MARKETPLACE_WEBHOOK_URL="http://127.0.0.1:1/down",
                        WEBHOOK_SECRET="whsec-x-0123456789", JOB_RETRY_INTERVALS="0")
    app = make_app(env.settings["DATABASE_URL"], **env.app_overrides())
    with app.app_context(), session_scope() as s:
        c = f.client(s)
        outbox.emit(s, event_type="client.suspended", subject_type="client", subject_id=c.id,
                    payload={})
        s.commit()
    env.start_worker()

    def failed() -> list[str]:
        out = env.flask("jobs", "failed").stdout
        return [line for line in out.splitlines() if "\t" in line]

    wait_for(lambda: len(failed()) == 1, timeout=60, what="the job in the failed registry", env=env)
    [line] = failed()
    assert "app.jobs.tasks.deliver_outbox" in line and "WebhookDeliveryError" in line
    job_id = line.split("\t")[0]
    r = env.flask("jobs", "requeue", job_id)
    assert "requeued 1" in r.stdout
    r = env.flask("jobs", "requeue", "no-such-job", check=False)
    assert r.returncode == 1 and "not in a failed registry" in r.stderr
    with app.app_context():
        get_engine().dispose()


def test_the_worker_runs_the_sweep_periodically(env, app):
    """A post stored with no job at all (lost enqueue) is scored by the scheduled sweep."""
    env.settings["SWEEP_INTERVAL_SECONDS"] = "2"
    bulk_posts(app, 3)
    assert scored(app) == 0
    env.start_worker()
    wait_for(lambda: scored(app) == 3, timeout=60, what="the periodic sweep scored them", env=env)
    app2 = make_app(env.settings["DATABASE_URL"], **env.app_overrides())
    with app2.app_context():
        registry = enqueue.get_queue(enqueue.QUEUE_DEFAULT).scheduled_job_registry
        wait_for(lambda: any("sweep-" in j for j in registry.get_job_ids()), timeout=10,
                 what="the next sweep scheduled", env=env)
        get_engine().dispose()


def test_plain_rq_worker_with_the_documented_worker_class(env, app):
    """`rq worker -w app.jobs.worker.AppWorker` gets the app context and the models too."""
    posts = bulk_posts(app, 5)
    with app.app_context():
        enqueue.dispatch(enqueue.score_posts_spec(posts))
    _plain_rq_worker(env, app, "app.jobs.worker.AppWorker")
    assert scored(app) == 5


def _plain_rq_worker(env, app, worker_class: str) -> None:  # noqa: ANN001
    """``rq worker --burst -w <worker_class>`` on every queue, in a process of its own."""
    with app.app_context():
        queues = [enqueue.queue_name(q) for q in enqueue.QUEUES]
    result = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "-w", worker_class,
         "--url", env.redis_url, "--name", f"{env.prefix}-plain", *queues],
        cwd=ROOT, env=env.env(), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deprecated_paths_still_work_for_one_release(env, app):
    """Upgrading: `rq worker -w app.worker.AppWorker` (the old documented class) still runs,
    and a job enqueued before the upgrade under its old path (`app.tasks.score_posts`, the
    name stored in Redis) still resolves."""
    from dataclasses import replace

    posts = bulk_posts(app, 3)
    with app.app_context():
        old = replace(enqueue.score_posts_spec(posts), func="app.tasks.score_posts")
        assert enqueue.dispatch(old) == "enqueued"
    _plain_rq_worker(env, app, "app.worker.AppWorker")
    assert scored(app) == 3


def test_the_worker_loads_the_models_then_freezes_them(migrated_app, redis_client, redis_prefix):
    """An AppWorker loads the models before its first job and then moves everything it holds
    out of the cyclic collector's way (its full collections no longer walk the models)."""
    import gc

    from app.jobs.worker import AppWorker

    assert gc.get_freeze_count() == 0
    try:
        worker = AppWorker([f"{redis_prefix}-scoring"], connection=redis_client,
                           app=migrated_app)
        assert gc.get_freeze_count() > 100_000  # the app, the models, all of this process
    finally:
        gc.unfreeze()
    assert worker.app is migrated_app
