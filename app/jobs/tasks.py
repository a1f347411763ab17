"""RQ job functions. They take ids (never ORM objects), open their own session, call a
service, and let exceptions raise so RQ retries them and the failed registry shows them.

They run in a worker (``flask worker``, or ``rq worker`` with
``-w app.jobs.worker.AppWorker``, which provides the app context) or inline right after a
commit when no Redis is set (``app.jobs.execute``). Their dotted paths
(``app.jobs.tasks.score_posts``...) are what ``app.jobs.enqueue`` puts in Redis.
"""
from __future__ import annotations

from flask import current_app

from ..db import session_scope


def score_posts(post_ids: list[int]) -> dict:
    from ..services import scoring

    with session_scope() as session:
        return scoring.score_posts(session, post_ids,
                                   coalesce=current_app.config["SCORING_COALESCE"])


def score_client(client_id: int) -> dict:
    from ..services import scoring

    with session_scope() as session:
        return scoring.score_client(session, client_id)


def score_clients(client_ids: list[int]) -> dict:
    from ..services import scoring

    with session_scope() as session:
        results = scoring.score_clients(session, client_ids)
    return {"clients": len(results), "flagged": sum(bool(r.get("flagged")) for r in results)}


def deliver_outbox(subject_type: str, subject_id: int) -> int:
    from ..services import webhooks

    with session_scope() as session:
        return webhooks.deliver_pending(session, subject_type, subject_id)


def follow_up(outreach_id: int) -> str:
    from ..services import followups

    with session_scope() as session:
        return followups.recheck(session, outreach_id)


def send_outreach(outreach_id: int) -> bool:
    from ..services import mailer

    with session_scope() as session:
        return mailer.send_outreach(session, outreach_id)


def deliver_notices(decision_id: int) -> int:
    from ..services import notices

    with session_scope() as session:
        return notices.deliver(session, decision_id)


def send_notices(decision_id: int) -> int:
    from ..services import notices

    with session_scope() as session:
        return notices.send_emails(session, decision_id)


def sweep() -> dict:
    """The periodic sweep: runs, then schedules the next one (with Redis)."""
    from ..services import sweep as sweep_service
    from . import enqueue

    try:
        with session_scope() as session:
            return sweep_service.run(session)
    finally:
        if enqueue.redis_url():
            enqueue.schedule_sweep()


def train_candidate(candidate_id: int) -> dict:
    from ..services import candidates

    with session_scope() as session:
        return candidates.run_training(session, candidate_id)


def rescore() -> dict:
    from ..services import candidates

    with session_scope() as session:
        return candidates.queue_rescoring(session)
