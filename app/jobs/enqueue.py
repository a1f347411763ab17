"""Enqueueing: background work is named here, and only ever started after the commit that
made it necessary. This is the one interface the services use to ask for background work;
it never imports the job functions (``app.jobs.tasks``, named by their dotted paths), the
worker or the inline runner.

A service calls e.g. ``enqueue.score_posts(session, posts)`` *before* it commits; the job
is held on the session and dispatched once the transaction has committed (dropped if it
rolls back). Dispatch means:

- with ``REDIS_URL``: an RQ job carrying ids only, with a deterministic job id and
  ``unique=True`` (the same work queued twice is one job), and ``Retry`` with backoff.
  If Redis is unreachable the data is already committed: the error is logged and the
  sweep (``flask sweep``, or its scheduled job) enqueues the work again later;
- without ``REDIS_URL``: the same job function runs inline, right after the commit
  (``app.jobs.execute``). A failure is logged, never raised into the request that
  committed; the sweep retries. Inside ``app.jobs.inline.inline_in_background()`` (the
  bulk import) inline jobs run in child processes beside the caller, which meanwhile
  writes its next chunk.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import execute
from .spec import QUEUE_DEFAULT, QUEUE_SCORING, QUEUE_WEBHOOKS, QUEUES, JobSpec

__all__ = ["QUEUE_DEFAULT", "QUEUE_SCORING", "QUEUE_WEBHOOKS", "QUEUES", "JobSpec"]  # re-exported

log = logging.getLogger(__name__)

_PENDING = "trustdesk_pending_jobs"


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
        return execute.run_inline(spec)
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
    return JobSpec("app.jobs.tasks.score_posts", ([p for p, _ in posts],), job_id,
                   queue=QUEUE_SCORING)


def score_client_spec(client_id: int, marker: object) -> JobSpec:
    return JobSpec("app.jobs.tasks.score_client", (client_id,),
                   f"score-client-{client_id}-{marker}", queue=QUEUE_SCORING)


def score_clients_spec(client_ids: list[int], marker: object) -> JobSpec:
    """One job scoring many clients in one transaction (a chunk of imported feedback)."""
    ids = sorted(set(client_ids))
    return JobSpec("app.jobs.tasks.score_clients", (ids,),
                   f"score-clients-{_digest([*ids, marker])}", queue=QUEUE_SCORING)


def deliver_outbox_spec(subject_type: str, subject_id: int, event_id: int,
                        at: datetime | None = None) -> JobSpec:
    return JobSpec("app.jobs.tasks.deliver_outbox", (subject_type, subject_id),
                   f"outbox-{subject_type}-{subject_id}-{event_id}", queue=QUEUE_WEBHOOKS,
                   at=at)


def deliver_notices_spec(decision_id: int, at: datetime | None) -> JobSpec:
    return JobSpec("app.jobs.tasks.deliver_notices", (decision_id,),
                   f"notices-{decision_id}", queue=QUEUE_WEBHOOKS, at=at)


def deliver_notices(session: Session, decision_id: int, at: datetime) -> None:
    """Deliver a decision's freelancer notices (webhooks) once its undo window has passed."""
    defer(session, deliver_notices_spec(decision_id, at))


def send_notices_spec(decision_id: int, at: datetime | None) -> JobSpec:
    return JobSpec("app.jobs.tasks.send_notices", (decision_id,), f"notice-mail-{decision_id}",
                   at=at)


def send_notices(session: Session, decision_id: int, at: datetime) -> None:
    """E-mail a decision's freelancer notices once its undo window has passed."""
    defer(session, send_notices_spec(decision_id, at))


def follow_up_spec(outreach_id: int, due_at: datetime | None) -> JobSpec:
    return JobSpec("app.jobs.tasks.follow_up", (outreach_id,), f"follow-up-{outreach_id}",
                   at=due_at)


def send_outreach_spec(outreach_id: int) -> JobSpec:
    return JobSpec("app.jobs.tasks.send_outreach", (outreach_id,),
                   f"send-outreach-{outreach_id}")


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


def score_clients(session: Session, client_ids: list[int], marker: object) -> None:
    """Rescore these clients' negativity in one job; ``marker`` names the state."""
    if client_ids:
        defer(session, score_clients_spec(client_ids, marker))


def deliver_outbox(session: Session, subject_type: str, subject_id: int, event_id: int,
                   at: datetime | None = None) -> None:
    """Deliver the subject's pending marketplace events, in order, up to ``event_id``
    (no earlier than ``at``: a held event)."""
    defer(session, deliver_outbox_spec(subject_type, subject_id, event_id, at))


def follow_up(session: Session, outreach_id: int, due_at: datetime) -> None:
    """Re-check a contacted client when their follow-up window ends."""
    defer(session, follow_up_spec(outreach_id, due_at))


def send_outreach(session: Session, outreach_id: int) -> None:
    """E-mail the outreach message (after the commit that recorded it)."""
    defer(session, send_outreach_spec(outreach_id))


def schedule_sweep(now: datetime | None = None) -> str:
    """Schedule the next periodic sweep (Redis only). Its id names its time slot, so any
    number of workers starting at once schedule it once."""
    from datetime import timezone

    interval = int(current_app.config["SWEEP_INTERVAL_SECONDS"])
    now = now or datetime.now(timezone.utc)
    slot = int(now.timestamp()) // interval + 1
    at = datetime.fromtimestamp(slot * interval, tz=timezone.utc)
    return dispatch(JobSpec("app.jobs.tasks.sweep", (), f"sweep-{slot}", at=at, retry=False,
                            timeout=max(interval * 5, 300)))


def sweep_pending() -> bool:
    """Whether a periodic sweep job is scheduled, queued or running (Redis only)."""
    prefix = full_job_id("sweep-")
    queue = get_queue(QUEUE_DEFAULT)
    return any(job_id.startswith(prefix)
               for registry in (queue.scheduled_job_registry, queue.started_job_registry)
               for job_id in registry.get_job_ids(cleanup=False)) \
        or any(job_id.startswith(prefix) for job_id in queue.get_job_ids())


def ensure_sweep_scheduled() -> str | None:
    """Schedule the periodic sweep unless one is already pending: the worker checks on every
    maintenance pass, so a Redis restarted empty (or a lost sweep job) gets it back."""
    if sweep_pending():
        return None
    return schedule_sweep()


# --- model candidates (app/services/candidates.py) -------------------------------------------

def train_candidate_spec(candidate_id: int) -> JobSpec:
    """Train a candidate: long (minutes), never retried (a failed training is marked failed)."""
    return JobSpec("app.jobs.tasks.train_candidate", (candidate_id,), f"train-candidate-{candidate_id}",
                   retry=False, timeout=3 * 3600)


def rescore_spec(marker: str) -> JobSpec:
    """List what the active models have not scored and queue it in batches (after a
    promotion or a rollback; ``marker`` names it, so the same one queued twice is one job)."""
    return JobSpec("app.jobs.tasks.rescore", (), f"rescore-{marker}", queue=QUEUE_SCORING)


def train_candidate(session: Session, candidate_id: int) -> None:
    defer(session, train_candidate_spec(candidate_id))


def rescore(session: Session, marker: str) -> None:
    defer(session, rescore_spec(marker))
