"""Read models of the appeal pages (templates never query): the appeal queue with its
counts and SLA, and one appeal with everything its decider needs. Read-only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Appeal, AppealStatus, Client, Decision, JobPost, Moderator, utcnow

from models.base import MAX_ID

from . import NotFound, appeals, casefile, strikes
from .moderation import reversals
from .audit import Actor

QUEUE_LIMIT = 200
#: the window of the decided counts
DECIDED_DAYS = 30


@dataclass(frozen=True)
class Row:
    appeal: Appeal
    decision: Decision
    subject: str                 # the post's title, or the client's name
    client_name: str
    due_at: datetime
    overdue: bool
    age_hours: float


@dataclass(frozen=True)
class Queue:
    rows: list[Row]
    pending: int
    overdue: int
    upheld: int                  # decided in the last DECIDED_DAYS days
    overturned: int
    sla_hours: int


def due(appeal: Appeal) -> datetime:
    return appeal.created_at + timedelta(hours=appeals.sla_hours())


def queue(session: Session, *, now: datetime | None = None) -> Queue:
    """Pending appeals, oldest first (the SLA runs from when the appeal came in)."""
    now = now or utcnow()
    sla = appeals.sla_hours()
    found = session.execute(
        select(Appeal, Decision, JobPost.title, Client.name)
        .join(Decision, Decision.id == Appeal.decision_id)
        .join(Client, Client.id == Appeal.client_id)
        .join(JobPost, JobPost.id == Appeal.post_id, isouter=True)
        .where(Appeal.status == AppealStatus.pending)
        .order_by(Appeal.created_at, Appeal.id).limit(QUEUE_LIMIT)).all()
    rows = [Row(a, d, title or name, name, due(a), now > due(a),
                (now - a.created_at).total_seconds() / 3600) for a, d, title, name in found]
    pending, overdue = session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(
            Appeal.created_at < now - timedelta(hours=sla)))
        .where(Appeal.status == AppealStatus.pending)).one()
    decided = dict(session.execute(
        sa.select(Appeal.status, sa.func.count())
        .where(Appeal.status != AppealStatus.pending,
               Appeal.decided_at >= now - timedelta(days=DECIDED_DAYS))
        .group_by(Appeal.status)).all())
    return Queue(rows, pending, overdue, decided.get(AppealStatus.upheld, 0),
                 decided.get(AppealStatus.overturned, 0), sla)


@dataclass(frozen=True)
class AppealCase:
    appeal: Appeal
    decision: Decision
    decider: str                       # the original decider's e-mail (or "system")
    appeal_decider: str | None
    entered_by: str | None
    post: JobPost | None
    client: casefile.ClientSummary
    judged: list[dict[str, Any]]       # the judged snapshots (a suspension: one per post)
    evidence: list[dict[str, Any]]   # the flag's evidence, as the decider saw it
    standing: strikes.Standing
    other_appeals: list[Appeal]
    moderators: dict[int, str]
    due_at: datetime
    may_decide: bool
    undoable: bool
    #: a later decision that stands and repeats the appealed one (the client suspended
    #: again, the post taken down again): an overturn then corrects the record only
    later: Decision | None = None
    #: the appealed decision ids among the client's recent decisions (their "Record an
    #: appeal" link becomes a link to the appeal: ``{decision id: appeal id}``)
    appealed: dict[int, int] | None = None


def _emails(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(sa.select(Moderator.id, Moderator.email)
                                .where(Moderator.id.in_(ids))).all())


def case(session: Session, *, appeal_id: int, actor: Actor, is_admin: bool,
         now: datetime | None = None) -> AppealCase:
    now = now or utcnow()
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal #{appeal_id}")
    decision = session.get(Decision, appeal.decision_id)
    client = session.get(Client, appeal.client_id)
    post = session.get(JobPost, appeal.post_id) if appeal.post_id else None
    summary = casefile.client_summary(session, client, now=now)
    details = decision.details or {}
    if "judged" in details:
        judged = [details["judged"]]
    else:  # a suspension keeps the judged snapshot of each post it took down
        judged = [item["judged"] for item in details.get("posts", []) if item.get("judged")]
    evidence = [e for e in (judged[0].get("evidence") or []) if isinstance(e, dict)] \
        if judged else []
    emails = _emails(session, {decision.moderator_id, appeal.decided_by, appeal.entered_by,
                               *(d.moderator_id for d in summary.decisions)})
    others = list(session.exec(select(Appeal).where(Appeal.client_id == client.id,
                                                    Appeal.id != appeal.id)
                               .order_by(Appeal.id.desc()).limit(20)))
    return AppealCase(
        appeal=appeal, decision=decision, decider=emails.get(decision.moderator_id, "system"),
        appeal_decider=emails.get(appeal.decided_by) if appeal.decided_by else None,
        entered_by=emails.get(appeal.entered_by) if appeal.entered_by else None,
        post=post, client=summary, judged=judged, evidence=evidence,
        standing=strikes.standing(session, client.id, now=now), other_appeals=others,
        moderators=emails, due_at=due(appeal),
        may_decide=(appeal.status == AppealStatus.pending
                    and appeals.may_decide(session, decision, actor)),
        undoable=appeals.can_undo(appeal, actor, is_admin=is_admin, now=now),
        later=reversals.later_standing(session, decision)
        if appeal.status == AppealStatus.pending else None,
        appealed=appeals.appealed_of(session, [d.id for d in summary.decisions]
                                     + [decision.id]))



@dataclass(frozen=True)
class NewAppeal:
    """The console's form to enter an appeal that came by e-mail."""
    decision: Decision
    client: Client
    post: JobPost | None
    deadline: datetime
    existing: Appeal | None
    open: bool                         # whether an appeal would be accepted now


def new_appeal(session: Session, *, decision_id: int, now: datetime | None = None) -> NewAppeal:
    now = now or utcnow()
    decision = session.get(Decision, decision_id) if 0 < decision_id <= MAX_ID else None
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    existing = session.exec(select(Appeal).where(Appeal.decision_id == decision_id)).first()
    return NewAppeal(decision, session.get(Client, decision.client_id),
                     session.get(JobPost, decision.post_id) if decision.post_id else None,
                     appeals.deadline(decision), existing,
                     existing is None and appeals.appealable(decision, now=now))
