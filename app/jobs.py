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
  Inside ``inline_runner.inline_in_background()`` (the bulk import) inline jobs run in
  child processes beside the caller, which meanwhile writes its next chunk.
"""
from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    ``inline-background`` (handed to ``inline_in_background``'s child processes).

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
    from .inline_runner import background_runner

    background = background_runner()
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


def freeze_long_lived_objects() -> None:
    """Move every object alive now out of the cyclic garbage collector's way (``gc.freeze``),
    in a process that has just loaded what it keeps until it ends (the app, the models): its
    full collections then traverse only what came after, instead of the hundreds of
    thousands of objects of the models. Nothing frozen is leaked: reference counting still
    frees it; only a reference cycle among frozen objects would wait for the process end."""
    import gc

    gc.collect()
    gc.freeze()


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
