"""Undo a recent decision within ``UNDO_SECONDS`` (see the package docstring for what can
be undone and how the marketplace is told)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import (Client, ClientStatus, Decision, Flag, FlagStatus, JobPost, Moderator, Outreach,
                    OutreachOutcome, PostStatus, Role, utcnow)

from .. import ServiceError, flags, holds, notices, rollups
from ..audit import Actor, record
from .common import (A, UNDOABLE, InvalidTransition, StaleCase, _client_event, _get, _lock_client,
                     _lock_flag, _post_event, _stale, decision_use_case, lock_client_case,
                     lock_clients, lock_post_case, undo_seconds)
from .post_actions import _set_category


def undo_deadline(decision: Decision) -> datetime:
    return decision.created_at + timedelta(seconds=undo_seconds())


def can_undo(decision: Decision | None, actor: Actor, *, is_admin: bool = False,
             now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (decision is not None and decision.action in UNDOABLE
            and decision.undone_at is None and now <= undo_deadline(decision)
            and not _reverses_appeal(decision)
            and (decision.moderator_id == actor.moderator_id or is_admin))


@decision_use_case
def undo(session: Session, *, decision_id: int, actor: Actor,
         now: datetime | None = None) -> Decision:
    """Reverse a recent decision (see the module docstring for what can be undone)."""
    now = now or utcnow()
    decision = _get(session, Decision, decision_id, "decision")
    moderator = session.get(Moderator, actor.moderator_id) if actor.moderator_id else None
    is_admin = moderator is not None and moderator.role == Role.admin
    if decision.action not in UNDOABLE:
        raise InvalidTransition(f"a {decision.action} cannot be undone"
                                + (": the message has been sent" if decision.action == A.contact
                                   else ""))
    if _reverses_appeal(decision):
        raise InvalidTransition("this decision carried out an overturned appeal: undo it from "
                                "the appeal's page")
    if decision.undone_at is not None:
        raise StaleCase("That decision was already undone.")
    if decision.moderator_id != actor.moderator_id and not is_admin:
        raise ServiceError("only the moderator who decided (or an admin) may undo it")
    if now > undo_deadline(decision):
        raise InvalidTransition(f"the undo window ({undo_seconds()} s) has passed")
    details = decision.details or {}
    _lock_subject(session, decision, details)
    rollups.touch(session, [decision.flag_id],
                  decision_ids=[decision.id] if decision.flag_id is None else [])
    handler = _UNDO[decision.action]
    try:
        handler(session, decision, details, now)
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise StaleCase("A new case was opened for this subject meanwhile, so the old one "
                        "cannot be reopened. Nothing was undone.") from exc
    result = session.execute(
        sa.update(Decision).where(Decision.id == decision.id, Decision.undone_at.is_(None))
        .values(undone_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        raise StaleCase("That decision was already undone.")
    session.refresh(decision)
    if decision.action in (A.remove, A.suspend):  # its strike is gone: re-rank the client's flags
        flags.rerank(session, [decision.client_id], now=now)
    record(session, actor=actor, action="decision.undo",
           subject_type=decision.subject_type, subject_id=decision.subject_id,
           before={"decision": decision.id, "action": decision.action},
           after={"undone": True})
    session.commit()
    return decision


def _reverses_appeal(decision: Decision) -> bool:
    """The reversal of an overturned appeal (services.appeals): its undo is the appeal's."""
    return bool((decision.details or {}).get("appeal"))


def _lock_subject(session: Session, decision: Decision, details: dict) -> None:
    """The locks of the decision's subject (docs/concurrency.md), with the flags it closed."""
    flag_ids = [decision.flag_id, *(item["id"] for item in details.get("closed_flags", []))]
    if decision.post_id is not None:
        if decision.action == A.remove:  # the strike goes: the client's flags are re-ranked
            lock_clients(session, [decision.client_id])
        lock_post_case(session, [decision.post_id], flag_ids)
    else:
        lock_client_case(session, decision.client_id, flag_ids,
                         posts=decision.action == A.suspend)


def _reopen_flag(session: Session, decision: Decision, details: dict, now: datetime) -> None:
    if decision.flag_id is None:
        return
    _lock_flag(session, decision.flag_id, details.get("flag_version"), now,
               status=FlagStatus.open, closed_at=None)


def _reopen_closed(session: Session, closed: list[dict], now: datetime) -> None:
    """Reopen the flags the decision closed, through the version-checked path: each at the
    version the decision left it (a flag changed since makes the undo stale). Decisions
    written before the version was kept: a flag still resolved is reopened at its own."""
    for item in closed:
        other = session.get(Flag, item["id"])
        if other is None:
            continue
        version = item.get("version")
        if version is None:
            if other.status != FlagStatus.resolved:
                continue
            version = other.version
        _lock_flag(session, other.id, version, now, status=FlagStatus.open, closed_at=None)


def _undo_dismiss(session, decision, details, now):  # noqa: ANN001
    # a flag reopens only on the post it was dismissed on: not on one removed since
    was = details.get("before", {}).get("post")
    post = session.get(JobPost, decision.post_id) if decision.post_id is not None else None
    if post is not None and post.status == PostStatus.live and was == PostStatus.under_review:
        holds.unsettle(session, decision, post)  # the dismissal had released a held post
    if was is not None and post is not None and post.status != was:
        raise _stale("post")
    _reopen_flag(session, decision, details, now)


def _undo_escalate(session, decision, details, now):  # noqa: ANN001
    # the escalation marker is the decision itself: undoing it clears the mark
    _lock_flag(session, decision.flag_id, details.get("flag_version"), now)


def _undo_note(session, decision, details, now):  # noqa: ANN001
    pass


def _undo_recategorise(session, decision, details, now):  # noqa: ANN001
    _reopen_flag(session, decision, details, now)
    post = session.get(JobPost, decision.post_id)
    client = session.get(Client, decision.client_id)
    if post.category != details.get("to"):
        raise _stale("post")
    _set_category(session, post, details.get("from"), now)
    holds.unsettle(session, decision, post)
    _post_event(session, "post.recategorised", post, client, category=post.category,
                previous_category=details.get("to"), undo_of=decision.id,
                notice="The earlier category change was reverted.")


def _undo_remove(session, decision, details, now):  # noqa: ANN001
    _reopen_flag(session, decision, details, now)
    post = session.get(JobPost, decision.post_id)
    client = session.get(Client, decision.client_id)
    if post.status != PostStatus.removed:
        raise _stale("post")
    post.status = details.get("before", {}).get("post", PostStatus.live)
    post.updated_at = now
    session.add(post)
    _reopen_closed(session, details.get("closed_flags", []), now)
    if holds.unsettle(session, decision, post):
        return  # held again (a post.held event), not visible
    _post_event(session, "post.reinstated", post, client, undo_of=decision.id,
                notice="The removal was reverted; the post is visible again.")
    notices.withdraw(session, decision_id=decision.id, now=now)


def _undo_suspend(session, decision, details, now):  # noqa: ANN001
    client = session.get(Client, decision.client_id)
    _lock_client(session, client, details.get("client_token", ""), now,
                 status=details.get("before", {}).get("status", ClientStatus.active))
    if decision.flag_id is not None and details.get("flag_version") is not None:
        _reopen_flag(session, decision, details, now)
    _reopen_closed(session, details.get("closed_flags", []), now)
    for item in details.get("posts", []):
        post = session.get(JobPost, item["id"])
        if post is not None and post.status == PostStatus.removed:
            post.status = item["status"]
            post.updated_at = now
            session.add(post)
            if holds.unsettle(session, decision, post):
                continue  # held again (a post.held event), not visible
            _post_event(session, "post.reinstated", post, client, undo_of=decision.id,
                        notice="The suspension was reverted; the post is visible again.")
    for outreach_id in details.get("outreach", []):
        outreach = session.get(Outreach, outreach_id)
        if outreach is not None and outreach.outcome == OutreachOutcome.suspended:
            outreach.outcome = OutreachOutcome.pending
            outreach.outcome_at = None
            session.add(outreach)
    _client_event(session, "client.reinstated", client, undo_of=decision.id,
                  reason="suspension undone")
    notices.withdraw(session, decision_id=decision.id, now=now)


_UNDO = {A.dismiss: _undo_dismiss, A.escalate: _undo_escalate, A.note: _undo_note,
         A.recategorise: _undo_recategorise, A.remove: _undo_remove, A.suspend: _undo_suspend}
