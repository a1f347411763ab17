"""Appeals against decisions: filed (by the marketplace's API, or entered by a moderator for
an appeal that came by e-mail), then decided - upheld or overturned - by someone other than
the original decider (an admin may take any). One use case, one transaction each.

Filing. One appeal per decision (the database's unique index arbitrates two at once), of a
removal, a recategorisation or a suspension that was not undone, within
``APPEAL_WINDOW_DAYS`` (20) of it: a second one is a ``Conflict`` (409), a late one or one
about another kind of decision a ``ServiceError`` (422), an unknown decision ``NotFound``.

Deciding. Like every decision: the subject's row locks first (``locks``), then the appeal's
version check (``UPDATE ... WHERE version = :v AND status = 'pending'``): of two deciders
the second gets a ``StaleCase`` (409) and nothing is written. An overturn reverses the
decision through the same writers as the QA adjudication (``moderation.reversals``): the
removed post is live again, the suspended client active again with the posts the
suspension took down, the moved post back in its category. The overturned decision's
training label is superseded (``labels``) and its strike is gone (``strikes`` skips an
overturned decision). The marketplace gets ``appeal.decided`` and the reversal's own event.

Undo. Within ``UNDO_SECONDS`` the decider (or an admin) may undo the appeal's decision: the
reversal is put back (the post removed again, the category moved back, the client
suspended again), its decisions stamped undone, and the appeal is pending again
(``appeal.reopened``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import (Appeal, AppealSource, AppealStatus, Client, ClientStatus, Decision,
                    DecisionAction, JobPost, Moderator, PostStatus, Role, utcnow)

from models.base import MAX_ID

from . import Conflict, NotFound, ServiceError, flags
from .audit import Actor, record
from .locks import lock_client_case, lock_clients, lock_post_case
from .moderation import reversals
from .moderation.common import (InvalidTransition, StaleCase, _clean, _client_event, _post_event,
                                decision_use_case, undo_seconds)
from .moderation.post_actions import _set_category
from .transactions import owns_transaction

A = DecisionAction
#: the decisions an appeal may contest (the ones that act on the client's post or account)
APPEALABLE = (A.remove, A.recategorise, A.suspend)
OUTCOMES = {"uphold": AppealStatus.upheld, "overturn": AppealStatus.overturned}
TEXT_MAX = 10_000


def window_days() -> int:
    return int(current_app.config.get("APPEAL_WINDOW_DAYS", 20)) if has_app_context() else 20


def sla_hours() -> int:
    return int(current_app.config.get("APPEAL_SLA_HOURS", 72)) if has_app_context() else 72


def deadline(decision: Decision) -> datetime:
    """The last moment an appeal against ``decision`` is accepted."""
    return decision.created_at + timedelta(days=window_days())


def decision_of(session: Session, appeal: Appeal) -> Decision:
    return session.get(Decision, appeal.decision_id)


def appealable(decision: Any, *, now: datetime | None = None) -> bool:
    """Whether an appeal against this decision would be accepted now (bar a duplicate)."""
    now = now or utcnow()
    return (decision.action in APPEALABLE and decision.undone_at is None
            and now <= deadline(decision))


def _is_admin(session: Session, actor: Actor) -> bool:
    moderator = session.get(Moderator, actor.moderator_id) if actor.moderator_id else None
    return moderator is not None and moderator.role == Role.admin


# --- filing ----------------------------------------------------------------------------------

@owns_transaction
def file(session: Session, *, decision_id: int, text: str, actor: Actor,
         appellant: str | None = None, source: str = AppealSource.api,
         now: datetime | None = None) -> Appeal:
    """Record an appeal against ``decision_id``. ``appellant`` is the client's external id
    (from the API it must name the decision's client; entered in the console it defaults to
    it)."""
    now = now or utcnow()
    decision = session.get(Decision, decision_id) if 0 < decision_id <= MAX_ID else None
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    if decision.action not in APPEALABLE:
        raise ServiceError(f"a {decision.action} decision cannot be appealed: only removals, "
                           "recategorisations and suspensions can")
    if decision.undone_at is not None:
        raise ServiceError(f"decision {decision_id} was undone: there is nothing to appeal")
    existing = session.exec(select(Appeal).where(Appeal.decision_id == decision_id)).first()
    if existing is not None:
        raise Conflict(f"decision {decision_id} already has an appeal (#{existing.id}, "
                       f"{existing.status}): one appeal per decision")
    if now > deadline(decision):
        raise ServiceError(f"the appeal window of {window_days()} days for decision "
                           f"{decision_id} ended on {deadline(decision):%Y-%m-%d %H:%M} UTC")
    client = session.get(Client, decision.client_id)
    if appellant is not None and appellant != client.external_id:
        raise ServiceError(f"appellant {appellant!r} is not the client of decision "
                           f"{decision_id}")
    text = (text or "").strip()
    if not text:
        raise ServiceError("the appeal text is required")
    if len(text) > TEXT_MAX:
        raise ServiceError(f"the appeal text is at most {TEXT_MAX} characters")
    appeal = Appeal(decision_id=decision.id, client_id=decision.client_id,
                    post_id=decision.post_id, appellant=client.external_id, text=text,
                    source=source, entered_by=actor.moderator_id, created_at=now)
    session.add(appeal)
    try:
        session.flush()
    except IntegrityError as exc:  # a second appeal filed at the same moment
        session.rollback()
        raise Conflict(f"decision {decision_id} already has an appeal: one appeal per "
                       "decision") from exc
    record(session, actor=actor, action="appeal.file", subject_type=decision.subject_type,
           subject_id=decision.subject_id,
           after={"appeal": appeal.id, "decision": decision.id, "source": source})
    session.commit()
    return appeal


def appealed_of(session: Session, decision_ids: list[int]) -> dict[int, int]:
    """Which of these decisions have an appeal: ``{decision id: appeal id}`` (one query; the
    case pages list them so a decision's "Record an appeal" becomes a link to its appeal)."""
    ids = sorted({i for i in decision_ids if i is not None})
    if not ids:
        return {}
    return dict(session.execute(sa.select(Appeal.decision_id, Appeal.id)
                                .where(Appeal.decision_id.in_(ids))).all())


# --- deciding --------------------------------------------------------------------------------

def _lock(session: Session, decision: Decision) -> None:
    """The subject's locks (docs/concurrency.md): the post's case, or the client with its
    posts (a suspension's reversal puts posts back)."""
    if decision.post_id is not None:
        lock_clients(session, [decision.client_id])  # its flags are re-ranked (strikes)
        lock_post_case(session, [decision.post_id])
    else:
        lock_client_case(session, decision.client_id, posts=True)


def _load(session: Session, appeal_id: int | None) -> tuple[Appeal, Decision]:
    if appeal_id is None:
        raise ServiceError("the form does not say which appeal; reload the page")
    appeal = session.get(Appeal, appeal_id) if 0 < appeal_id <= MAX_ID else None
    if appeal is None:
        raise NotFound(f"no appeal #{appeal_id}")
    return appeal, session.get(Decision, appeal.decision_id)


def _stale() -> StaleCase:
    return StaleCase("This appeal was changed by someone else while you were looking at it. "
                     "Nothing was done; here is the appeal as it is now.")


def _set(session: Session, appeal: Appeal, version: int, where_status: str,
         **values: Any) -> None:
    """The appeal's optimistic lock: apply ``values`` iff still at ``version``."""
    done = session.execute(
        sa.update(Appeal).where(Appeal.id == appeal.id, Appeal.version == version,
                                Appeal.status == where_status)
        .values(version=Appeal.version + 1, **values)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        session.rollback()
        raise _stale()
    session.refresh(appeal)


def may_decide(session: Session, decision: Decision, actor: Actor) -> bool:
    """Someone other than the original decider; an admin may take any appeal."""
    return actor.moderator_id is not None and (
        decision.moderator_id != actor.moderator_id or _is_admin(session, actor))


@owns_transaction
@decision_use_case
def decide(session: Session, *, appeal_id: int, version: int | None, outcome: str, reason: str,
           actor: Actor, now: datetime | None = None) -> Appeal:
    """Uphold or overturn (``outcome``: "uphold" / "overturn"); a reason is required."""
    now = now or utcnow()
    if outcome not in OUTCOMES:
        raise ServiceError("choose uphold or overturn")
    reason = _clean(reason, required=True)
    appeal, decision = _load(session, appeal_id)
    if not may_decide(session, decision, actor):
        raise ServiceError("you took the decision under appeal: another moderator (or an "
                           "admin) decides the appeal")
    if version is None:
        raise ServiceError("the form is missing the appeal's version; reload the page")
    _lock(session, decision)
    session.refresh(appeal)
    if appeal.version != version or appeal.status != AppealStatus.pending:
        raise _stale()
    session.refresh(decision)
    if decision.undone_at is not None:
        raise InvalidTransition("the decision under appeal was undone since: there is "
                                "nothing to decide")
    status = OUTCOMES[outcome]
    reversal = _reverse(session, appeal, decision, actor=actor, reason=reason, now=now) \
        if status == AppealStatus.overturned else None
    _set(session, appeal, version, AppealStatus.pending, status=status, decided_at=now,
         decided_by=actor.moderator_id, outcome_reason=reason, reversal=reversal)
    if reversal is not None:  # the overturned decision's strike is gone: re-rank
        flags.rerank(session, [decision.client_id], now=now)
    later = {"superseded_by": reversal["superseded_by"]} \
        if reversal and reversal.get("superseded_by") else {}
    _event(session, "appeal.decided", appeal, decision, outcome=str(status), reason=reason,
           reversal=(reversal or {}).get("decisions", []), **later)
    record(session, actor=actor, action=f"appeal.{outcome}", subject_type=decision.subject_type,
           subject_id=decision.subject_id,
           before={"appeal": appeal.id, "status": AppealStatus.pending},
           after={"status": status, "decision": decision.id, "reason": reason,
                  "reversal": reversal})
    session.commit()
    return appeal


def _event(session: Session, event_type: str, appeal: Appeal, decision: Decision,
           **payload: Any) -> None:
    client = session.get(Client, decision.client_id)
    base = {"appeal": appeal.id, "decision": decision.id, **payload}
    if decision.post_id is not None:
        _post_event(session, event_type, session.get(JobPost, decision.post_id), client, **base)
    else:
        _client_event(session, event_type, client, **base)


def _reverse(session: Session, appeal: Appeal, decision: Decision, *, actor: Actor, reason: str,
             now: datetime) -> dict[str, Any]:
    """Undo what ``decision`` changed, through the shared writers; returns what was done.

    A removal or suspension that a later decision repeated, and that later decision stands
    (the client suspended again, the post taken down again: ``reversals.later_standing``),
    is overturned on the record only: its label and strike go, the later decision and the
    state it put the subject in stay (``{"decisions": [], "superseded_by": id}``)."""
    details = decision.details or {}
    note = f"Appeal #{appeal.id} overturned decision {decision.id}: {reason}"
    mark = {"appeal": appeal.id, "overturns": decision.id}
    later = reversals.later_standing(session, decision)
    if later is not None:
        return {"decisions": [], "superseded_by": later.id, "superseded_action": later.action}
    if decision.action == A.remove:
        post = session.get(JobPost, decision.post_id)
        if post.status != PostStatus.removed:
            raise InvalidTransition("the post is no longer removed: there is nothing to reverse")
        was = details.get("before", {}).get("post") or PostStatus.live
        done = reversals.reinstate_post(session, post, actor=actor, reason=note, details=mark,
                                        event_reason="appeal_overturned", now=now, status=was,
                                        reverses=decision.id)
        return {"decisions": [done.id], "posts": [post.id]}
    if decision.action == A.recategorise:
        post = session.get(JobPost, decision.post_id)
        if post.category != details.get("to"):
            raise InvalidTransition("the post's category changed since the decision: there "
                                    "is nothing to reverse")
        done = reversals.restore_category(session, post, details.get("from"), actor=actor,
                                          reason=note, details=mark,
                                          event_reason="appeal_overturned", now=now)
        return {"decisions": [done.id], "category": details.get("to")}
    client = session.get(Client, decision.client_id)
    if client.status != ClientStatus.suspended:
        raise InvalidTransition("the client is no longer suspended: there is nothing to reverse")
    posts = []
    for item in details.get("posts", []):
        post = session.get(JobPost, item["id"])
        if post is not None and post.status == PostStatus.removed:
            posts.append((post, item.get("status") or PostStatus.live))
    done = reversals.reinstate_client(session, client, actor=actor, reason=note, details=mark,
                                      event_reason="appeal_overturned", now=now, posts=posts,
                                      reverses=decision.id)
    return {"decisions": [done.id], "posts": [p.id for p, _ in posts],
            "client_changed_at": client.status_changed_at.isoformat()}


# --- undo ------------------------------------------------------------------------------------

def can_undo(appeal: Appeal, actor: Actor, *, is_admin: bool = False,
             now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (appeal.status != AppealStatus.pending and appeal.decided_at is not None
            and now <= appeal.decided_at + timedelta(seconds=undo_seconds())
            and (appeal.decided_by == actor.moderator_id or is_admin))


@owns_transaction
@decision_use_case
def undo(session: Session, *, appeal_id: int, actor: Actor,
         now: datetime | None = None) -> Appeal:
    """Take back an appeal's decision within ``UNDO_SECONDS``: the appeal is pending again
    and an overturn's reversal is put back."""
    now = now or utcnow()
    appeal, decision = _load(session, appeal_id)
    if appeal.status == AppealStatus.pending:
        raise StaleCase("That appeal is not decided (or its decision was already undone).")
    if appeal.decided_by != actor.moderator_id and not _is_admin(session, actor):
        raise ServiceError("only the moderator who decided the appeal (or an admin) may undo it")
    if now > appeal.decided_at + timedelta(seconds=undo_seconds()):
        raise InvalidTransition(f"the undo window ({undo_seconds()} s) has passed")
    _lock(session, decision)
    session.refresh(appeal)
    was, version, reversal = appeal.status, appeal.version, appeal.reversal or {}
    if was == AppealStatus.overturned and not reversal.get("superseded_by"):
        _reapply(session, appeal, decision, reversal, now)
    _set(session, appeal, version, was, status=AppealStatus.pending, decided_at=None,
         decided_by=None, outcome_reason="", reversal=None)
    if was == AppealStatus.overturned:  # the decision's strike is back
        flags.rerank(session, [decision.client_id], now=now)
    _event(session, "appeal.reopened", appeal, decision, undo_of=str(was))
    record(session, actor=actor, action="appeal.undo", subject_type=decision.subject_type,
           subject_id=decision.subject_id, before={"appeal": appeal.id, "status": was},
           after={"status": AppealStatus.pending})
    session.commit()
    return appeal


def _reapply(session: Session, appeal: Appeal, decision: Decision, reversal: dict[str, Any],
             now: datetime) -> None:
    """Put back what the overturn reversed (it must be as the overturn left it)."""
    client = session.get(Client, decision.client_id)
    notice = f"The overturn of appeal #{appeal.id} was undone."
    for decision_id in reversal.get("decisions", []):
        done = session.execute(
            sa.update(Decision).where(Decision.id == decision_id, Decision.undone_at.is_(None))
            .values(undone_at=now).execution_options(synchronize_session=False)).rowcount
        if done != 1:
            session.rollback()
            raise _stale()
    if decision.action == A.recategorise:
        post = session.get(JobPost, decision.post_id)
        if post.category != (decision.details or {}).get("from"):
            session.rollback()
            raise _stale()
        _set_category(session, post, reversal.get("category"), now)
        _post_event(session, "post.recategorised", post, client, category=post.category,
                    undo_of=appeal.id, notice=notice)
        return
    if decision.action == A.suspend:
        if client.status != ClientStatus.active or \
                client.status_changed_at.isoformat() != reversal.get("client_changed_at"):
            session.rollback()
            raise _stale()
        client.status = ClientStatus.suspended
        client.status_changed_at = client.updated_at = now
        session.add(client)
        _client_event(session, "client.suspended", client, undo_of=appeal.id,
                      reason=notice, decision=decision.id)
    for post_id in reversal.get("posts", []):
        post = session.get(JobPost, post_id)
        if post.status == PostStatus.removed:
            session.rollback()
            raise _stale()
        post.status = PostStatus.removed
        post.updated_at = now
        session.add(post)
        _post_event(session, "post.removed", post, client, undo_of=appeal.id, notice=notice,
                    reason=(decision.details or {}).get("reason_code", "client_suspended"),
                    decision=decision.id)
