"""Admin operations on background jobs (the data comes from ``app.jobs.failed``)."""
from __future__ import annotations

from sqlmodel import Session

from ..jobs import enqueue, failed
from .audit import Actor, record


def requeue(session: Session, *, job_id: str, actor: Actor) -> bool:
    """Put a failed job back on its queue (audited). False if it is not failed/known."""
    if enqueue.redis_url() is None or not failed.requeue(job_id):
        return False
    record(session, actor=actor, action="job.requeue", subject_type="job", subject_id=job_id[:64])
    session.commit()
    return True
