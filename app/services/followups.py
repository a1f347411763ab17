"""The follow-up re-check: when a contacted client's window ends, did they improve?

Judged on the feedback received since the contact only (the old pattern is why they
were contacted). Not improved means: the pattern detector flags the new feedback, or at
least ``MIN_NEGATIVE_SINCE`` new feedbacks are negative and they are at least half of it.
No new feedback at all counts as improved - nothing new went wrong - and says so.

- improved: outreach outcome ``improved``, client back to ``active``, the client's
  negativity flag resolved; audited.
- not improved: the client's flag (re)opens at top priority, marked "suspend
  recommended", for a moderator to suspend; audited. The outcome stays ``pending``
  until that decision.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from classifiers import FeedbackPoint, client_negativity
from classifiers.client_negativity import NEGATIVE_AT
from models import (Client, ClientStatus, Feedback, Flag, FlagReason, FlagStatus, Outreach,
                    OutreachOutcome, SubjectType, utcnow)

from . import flags as flag_service
from . import locks, rollups
from .audit import SYSTEM, record
from .scoring import get_feedback_scorer, score_feedback_rows

MIN_NEGATIVE_SINCE = 2


def due(now: datetime):
    """SQL condition: the outreach's window has ended and its re-check has not run."""
    return sa.and_(Outreach.outcome == OutreachOutcome.pending, Outreach.rechecked_at.is_(None),
                   Outreach.follow_up_due_at <= now)


def due_ids(session: Session, now: datetime) -> list[int]:
    return list(session.exec(select(Outreach.id).where(due(now)).order_by(Outreach.id)))


def recheck(session: Session, outreach_id: int, *, now: datetime | None = None) -> str:
    """Run the re-check for one outreach (idempotent). Returns what happened."""
    now = now or utcnow()
    outreach = session.get(Outreach, outreach_id)
    if outreach is None:
        return "missing"
    # the client's locks (row, open flags), then the outreach read afresh: a moderator's
    # contact or suspension at the same moment comes strictly before or after this
    locks.lock_client_case(session, outreach.client_id,
                           [outreach.flag_id] if outreach.flag_id else ())
    session.refresh(outreach)
    if outreach.outcome != OutreachOutcome.pending or outreach.rechecked_at is not None:
        return "already-done"
    if outreach.follow_up_due_at > now:
        return "not-due"
    client = session.get(Client, outreach.client_id)
    since = outreach.sent_at or outreach.created_at
    new = list(session.exec(select(Feedback).where(
        Feedback.client_id == client.id, Feedback.created_at >= since,
        Feedback.created_at <= now).order_by(Feedback.created_at)))
    score_feedback_rows(session, get_feedback_scorer(), [f for f in new if f.scored_at is None], now)

    verdict = client_negativity([FeedbackPoint(created_at=f.created_at, negative=f.negative,
                                               rating=f.rating, ref=f.external_id) for f in new],
                                now)
    negatives = [f for f in new if f.negative >= NEGATIVE_AT]
    improved = not (verdict.flagged or (len(negatives) >= MIN_NEGATIVE_SINCE
                                        and 2 * len(negatives) >= len(new)))
    one = len(new) == 1
    summary = (f"{len(negatives)} of {len(new)} {'feedback' if one else 'feedbacks'} since the "
               f"contact on {since:%Y-%m-%d} {'is' if one else 'are'} negative" if new else
               f"no feedback since the contact on {since:%Y-%m-%d}")
    outreach.rechecked_at = now
    session.add(outreach)
    flag = _client_flag(session, client, outreach)
    if improved:
        _mark_improved(session, outreach, client, flag, summary, now)
        result = "improved"
    else:
        _recommend_suspension(session, outreach, client, flag, summary, verdict.score, now)
        result = "not-improved"
    session.commit()
    return result


def _client_flag(session: Session, client: Client, outreach: Outreach) -> Flag | None:
    open_flag = flag_service.open_flag(session, SubjectType.client, client.id,
                                       FlagReason.negative_client)
    if open_flag is not None:
        return open_flag
    return session.get(Flag, outreach.flag_id) if outreach.flag_id else None


def _mark_improved(session, outreach, client, flag, summary, now) -> None:  # noqa: ANN001
    outreach.outcome = OutreachOutcome.improved
    outreach.outcome_at = now
    if client.status == ClientStatus.contacted:
        client.status = ClientStatus.active
        client.status_changed_at = now
        session.add(client)
    if flag is not None and flag.status == FlagStatus.open:
        rollups.touch(session, [flag.id])
        flag.status = FlagStatus.resolved
        flag.closed_at = now
        flag.updated_at = now
        flag.version += 1
        flag.system_note = f"Improved after contact: {summary}."
        session.add(flag)
    record(session, actor=SYSTEM, action="followup.improved", subject_type="client",
           subject_id=client.id, before={"status": ClientStatus.contacted},
           after={"status": client.status, "outreach": outreach.id, "summary": summary})


def _recommend_suspension(session, outreach, client, flag, summary, score, now) -> None:  # noqa: ANN001
    note = f"{flag_service.SUSPEND_RECOMMENDED}: not improved after contact ({summary})."
    if flag is None:  # (a closed flag found here has no open sibling: reopening it is safe)
        flag_id = flag_service.upsert_open_flag(
            session, subject_type=SubjectType.client, subject_id=client.id, client_id=client.id,
            post_id=None, detection=flag_service.Detection(
                reason=FlagReason.negative_client, score=score, model_version=None,
                evidence=[{"label": "negative_client", "why": note, "kind": "pattern"}],
                priority=flag_service.SUSPEND_RECOMMENDED_PRIORITY))
        flag = session.get(Flag, flag_id)
    rollups.touch(session, [flag.id])
    flag.status = FlagStatus.open
    flag.closed_at = None
    flag.claimed_by = None
    flag.claimed_until = None
    flag.priority = flag_service.SUSPEND_RECOMMENDED_PRIORITY
    flag.system_note = note
    flag.updated_at = now
    flag.version += 1
    session.add(flag)
    record(session, actor=SYSTEM, action="followup.not_improved", subject_type="client",
           subject_id=client.id, after={"flag": flag.id, "outreach": outreach.id,
                                        "summary": summary})
