"""Enqueue helpers: background work is named here, and only ever started after the
commit that made it necessary.

A service calls e.g. ``jobs.score_post(session, post)`` *before* it commits; the job is
held on the session and dispatched once the transaction has committed (dropped if it
rolls back). Dispatch means:

- with ``REDIS_URL``: an RQ job carrying ids only, with a deterministic job id and
  ``unique=True`` (the same work queued twice is one job), and ``Retry`` with backoff.
  If Redis is unreachable the data is already committed: the error is logged and the
  sweep (``flask sweep``, or its scheduled job) enqueues the work again later;
- without ``REDIS_URL``: the same job function runs inline, right after the commit. A
  failure is logged, never raised into the request that committed; the sweep retries.
  Inside ``inline_in_background()`` (the bulk import, on PostgreSQL) inline jobs run in
  order on one thread beside the caller, which meanwhile writes its next chunk.
"""
from __future__ import annotations

import hashlib
import importlib
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from queue import Queue
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUE_SCORING = "scoring"
QUEUE_DEFAULT = "default"
QUEUE_WEBHOOKS = "webhooks"
QUEUES = (QUEUE_SCORING, QUEUE_WEBHOOKS, QUEUE_DEFAULT)  # worker priority order

_PENDING = "trustdesk_pending_jobs"


@dataclass(frozen=True)
class JobSpec:
    """Everything needed to run a job: the function's dotted path and plain arguments."""

    func: str
    args: tuple[Any, ...]
    job_id: str
    queue: str = QUEUE_DEFAULT
    at: datetime | None = None  # run no earlier than this (scheduled)
    retry: bool = True
    timeout: int = 600
    meta: dict[str, Any] = field(default_factory=dict)


# --- holding jobs on the session until it commits ---------------------------------------

def defer(session: Session, spec: JobSpec) -> None:
    """Dispatch ``spec`` after ``session`` commits (and never if it rolls back)."""
    session.info.setdefault(_PENDING, []).append(spec)


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    specs = session.info.pop(_PENDING, [])
    seen: set[str] = set()
    for spec in specs:
        if spec.job_id not in seen:
            seen.add(spec.job_id)
            dispatch(spec)


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, _previous) -> None:  # noqa: ANN001
    session.info.pop(_PENDING, None)


# --- dispatch ---------------------------------------------------------------------------

def dispatch(spec: JobSpec, *, revive: bool = False) -> str:
    """Enqueue (Redis) or run inline (no Redis). Returns what happened, for logs and tests:
    ``enqueued``, ``duplicate``, ``revived``, ``redis-down``, ``inline``, ``inline-failed``,
    ``inline-deferred`` (a scheduled job with no scheduler: the sweep runs it when due) or
    ``inline-background`` (handed to ``inline_in_background``'s thread).

    ``revive`` (the sweep): if the same job id already exists but is dead - failed,
    stopped or cancelled - requeue it instead of treating it as a duplicate."""
    if redis_url() is None:
        return _run_inline(spec)
    from redis.exceptions import RedisError
    from rq.exceptions import DuplicateJobError

    try:
        enqueue(spec)
        return "enqueued"
    except DuplicateJobError:
        if revive and _revive(spec):
            return "revived"
        return "duplicate"
    except RedisError as exc:
        log.warning("Redis unavailable; %s left for the sweep: %s", spec.job_id, exc)
        return "redis-down"


def _revive(spec: JobSpec) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(full_job_id(spec.job_id), connection=get_connection())
    except NoSuchJobError:  # vanished between the two calls: enqueue afresh
        enqueue(spec)
        return True
    status = job.get_status(refresh=True)
    if status == JobStatus.FAILED:
        job.requeue()
        return True
    if status in (JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED, None):
        job.delete()
        enqueue(spec)
        return True
    return False  # queued, started, scheduled or deferred: it will run


def enqueue(spec: JobSpec):
    """Put ``spec`` on its RQ queue. Raises DuplicateJobError if the id is already there."""
    from rq import Retry

    queue = get_queue(spec.queue)
    options: dict[str, Any] = {
        "job_id": full_job_id(spec.job_id),
        "unique": True,
        "timeout": spec.timeout,
        "result_ttl": 0,  # a finished job frees its id: the same work may come again later
        "failure_ttl": 30 * 24 * 3600,  # failed jobs stay visible for a month
        "meta": spec.meta,
        "description": f"{spec.func}{spec.args!r}"[:200],
    }
    if spec.retry:
        intervals = retry_intervals()
        options["retry"] = Retry(max=len(intervals), interval=intervals)
    if spec.at is not None:
        # enqueue_at takes the job's options as keywords, with the timeout as job_timeout
        options["job_timeout"] = options.pop("timeout")
        return queue.enqueue_at(ceil_second(spec.at), spec.func, *spec.args, **options)
    return queue.enqueue_call(spec.func, args=spec.args, **options)


def _run_inline(spec: JobSpec) -> str:
    if spec.at is not None:
        from models import utcnow

        if spec.at > utcnow():
            return "inline-deferred"
    background = _background.get()
    if background is not None:
        background.submit(spec)
        return "inline-background"
    return _run_now(spec)


def _run_now(spec: JobSpec) -> str:
    try:
        resolve(spec.func)(*spec.args)
        return "inline"
    except Exception:  # noqa: BLE001 - committed data is safe; the sweep retries
        log.exception("inline job %s failed; the sweep will retry it", spec.job_id)
        return "inline-failed"


# --- inline jobs beside the caller (bulk import) ---------------------------------------------

class InlineRunner:
    """One thread that runs inline jobs in the order they were dispatched, in its own app
    context (and so its own database sessions). ``submit`` blocks while ``depth`` jobs
    wait: the caller never gets more than that far ahead, and memory stays constant."""

    def __init__(self, app, depth: int):
        self.failed = 0
        self._jobs: Queue[JobSpec | None] = Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, args=(app,), name="inline-jobs",
                                        daemon=True)
        self._thread.start()

    def _run(self, app) -> None:  # noqa: ANN001
        with app.app_context():
            while (spec := self._jobs.get()) is not None:
                try:
                    ok = _run_now(spec) != "inline-failed"
                except BaseException:  # noqa: BLE001 - never leave submit() blocked
                    log.exception("inline job %s stopped; the sweep will retry it", spec.job_id)
                    ok = False
                self.failed += not ok

    def submit(self, spec: JobSpec) -> None:
        self._jobs.put(spec)

    def close(self, *, run_waiting: bool = True) -> int:
        """Stop the thread once it has run what was submitted (``run_waiting``), or only the
        job in progress: an interrupted caller drops the jobs still waiting (their rows are
        committed and unscored, and the sweep scores them). Returns the number dropped."""
        dropped = 0
        while not run_waiting and not self._jobs.empty():
            self._jobs.get_nowait()  # only this (the submitting) thread puts: no race
            dropped += 1
        self._jobs.put(None)
        self._thread.join()
        return dropped


_background: ContextVar[InlineRunner | None] = ContextVar("trustdesk_inline_runner",
                                                          default=None)


@contextmanager
def inline_in_background(depth: int = 2) -> Iterator[InlineRunner | None]:
    """Within this block, jobs that would run inline after a commit (no ``REDIS_URL``) run on
    one background thread instead, so the caller's next write and this write's job overlap:
    the job's database round trips (and the caller's) run while the other thread holds the
    interpreter. All of them have run when the block ends; failures are logged and counted
    (``runner.failed``), and the sweep retries them as it does any inline failure. A block
    left by an exception (Ctrl-C) waits only for the job in progress and drops the others:
    their rows are committed and unscored, for the sweep.

    Only where the database takes concurrent writers: on SQLite a job that read before the
    caller's next commit could not write after it (WAL snapshots: "database is locked"), so
    there jobs stay in line (yields None), as they do with Redis (workers run them)."""
    from .db import get_engine

    if redis_url() is not None or get_engine().dialect.name == "sqlite":
        yield None
        return
    runner = InlineRunner(current_app._get_current_object(), depth)
    token = _background.set(runner)
    finished = False
    try:
        yield runner
        finished = True
    finally:  # left by Ctrl-C or an error: stop soon, after the job in progress
        _background.reset(token)
        dropped = runner.close(run_waiting=finished)
        if not finished:
            log.warning("interrupted: %d waiting job(s) dropped; what was committed but not "
                        "yet scored is left for the sweep (flask sweep)", dropped)


def resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


# --- Redis / RQ plumbing ----------------------------------------------------------------

def redis_url() -> str | None:
    return current_app.config.get("REDIS_URL") if has_app_context() else None


def get_connection():
    """One Redis connection pool per app (RQ jobs need decode_responses=False)."""
    from redis import Redis

    app = current_app._get_current_object()
    conn = app.extensions.get("trustdesk_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                              socket_timeout=10, health_check_interval=30)
        app.extensions["trustdesk_redis"] = conn
    return conn


def full_job_id(job_id: str) -> str:
    """Job ids are global in Redis: namespace them like the queues."""
    return f"{current_app.config['RQ_QUEUE_PREFIX']}-{job_id}"


def retry_intervals() -> list[int]:
    """Seconds between retries of a failed job (RQ needs --with-scheduler for these)."""
    return list(current_app.config["JOB_RETRY_INTERVALS"])


def queue_name(name: str) -> str:
    return f"{current_app.config['RQ_QUEUE_PREFIX']}-{name}"


def get_queue(name: str):
    from rq import Queue

    return Queue(queue_name(name), connection=get_connection())


def all_queues() -> list:
    return [get_queue(name) for name in QUEUES]


# --- the named jobs -----------------------------------------------------------------------

def _digest(parts: Iterable[object]) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:20]


def score_posts_spec(posts: list[tuple[int, str]], marker: str | None = None) -> JobSpec:
    """One job per post, or one batch job (vectorised once) for many. The id names the
    content, so an edit is a new job and the same content queued twice is one; ``marker``
    names another reason to rescore the same content (e.g. the client's facts changed)."""
    if marker is not None:
        job_id = f"score-posts-{_digest([*sorted(posts), marker])}"
    elif len(posts) == 1:
        post_id, content_hash = posts[0]
        job_id = f"score-post-{post_id}-{content_hash[:16]}"
    else:
        job_id = f"score-posts-{_digest(sorted(posts))}"
    return JobSpec("app.tasks.score_posts", ([p for p, _ in posts],), job_id, queue=QUEUE_SCORING)


def score_client_spec(client_id: int, marker: object) -> JobSpec:
    return JobSpec("app.tasks.score_client", (client_id,), f"score-client-{client_id}-{marker}",
                   queue=QUEUE_SCORING)


def deliver_outbox_spec(subject_type: str, subject_id: int, event_id: int) -> JobSpec:
    return JobSpec("app.tasks.deliver_outbox", (subject_type, subject_id),
                   f"outbox-{subject_type}-{subject_id}-{event_id}", queue=QUEUE_WEBHOOKS)


def follow_up_spec(outreach_id: int, due_at: datetime | None) -> JobSpec:
    return JobSpec("app.tasks.follow_up", (outreach_id,), f"follow-up-{outreach_id}", at=due_at)


def ceil_second(at: datetime) -> datetime:
    """``at`` rounded up to a whole second. RQ's scheduler keeps whole seconds (it truncates),
    so a job scheduled for 12:00:00.6 could run at 12:00:00.0, before it is due (a follow-up
    re-check would find its window still open and do nothing until the sweep)."""
    return at if at.microsecond == 0 else (at + timedelta(seconds=1)).replace(microsecond=0)


def score_posts(session: Session, posts: list[tuple[int, str]], *,
                marker: str | None = None) -> None:
    """Score these ``(post_id, content_hash)`` pairs after the commit."""
    if posts:
        defer(session, score_posts_spec(posts, marker))


def score_client(session: Session, client_id: int, marker: object) -> None:
    """Rescore a client's negativity; ``marker`` names the state (e.g. its latest feedback)."""
    defer(session, score_client_spec(client_id, marker))


def deliver_outbox(session: Session, subject_type: str, subject_id: int, event_id: int) -> None:
    """Deliver the subject's pending marketplace events, in order, up to ``event_id``."""
    defer(session, deliver_outbox_spec(subject_type, subject_id, event_id))


def follow_up(session: Session, outreach_id: int, due_at: datetime) -> None:
    """Re-check a contacted client when their follow-up window ends."""
    defer(session, follow_up_spec(outreach_id, due_at))


def schedule_sweep(now: datetime | None = None) -> str:
    """Schedule the next periodic sweep (Redis only). Its id names its time slot, so any
    number of workers starting at once schedule it once."""
    from datetime import timezone

    interval = int(current_app.config["SWEEP_INTERVAL_SECONDS"])
    now = now or datetime.now(timezone.utc)
    slot = int(now.timestamp()) // interval + 1
    at = datetime.fromtimestamp(slot * interval, tz=timezone.utc)
    return dispatch(JobSpec("app.tasks.sweep", (), f"sweep-{slot}", at=at, retry=False,
                            timeout=max(interval * 5, 300)))


# --- failed jobs (CLI and the admin page) ----------------------------------------------------

def failed_jobs() -> list[dict[str, Any]]:
    """Every job in the failed registries, newest first (empty without Redis)."""
    if redis_url() is None:
        return []
    from rq.job import Job

    rows = []
    for queue in all_queues():
        registry = queue.failed_job_registry
        for job in Job.fetch_many(registry.get_job_ids(), connection=get_connection()):
            if job is None:
                continue
            result = job.latest_result()
            lines = ((result.exc_string if result else None) or "").strip().splitlines()
            rows.append({
                "id": job.id, "queue": queue.name, "func": job.func_name, "args": job.args,
                "ended_at": job.ended_at, "error": lines[-1] if lines else "",
                "description": job.description,
            })
    rows.sort(key=lambda r: r["ended_at"].timestamp() if r["ended_at"] else 0.0, reverse=True)
    return rows


def requeue(job_id: str) -> bool:
    """Put a failed job back on its queue. False if it is not in a failed registry."""
    for queue in all_queues():
        registry = queue.failed_job_registry
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            return True
    return False
