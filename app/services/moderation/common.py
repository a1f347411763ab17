"""What every moderator action shares: the transition table (``TRANSITIONS``,
``allowed_actions``), the optimistic-locking helpers (flag versions, client state tokens),
the decision/event/audit writers, the settings, and the live-escalation queries. See the
package docstring for the rules they implement."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlmodel import Session, select

from models import (Client, ClientStatus, Decision, DecisionAction, Flag, FlagReason, FlagStatus,
                    JobPost, Moderator, PolicyType, PostStatus, Role, SubjectType)
from models.taxonomy import NOT_A_JOB

from .. import Conflict, NotFound, ServiceError
from ..audit import Actor
from ..locks import (lock_case_of, lock_client_case, lock_clients, lock_flags, lock_post_case,  # noqa: F401
                     lock_subject, open_only)
from .. import rollups
from ..outbox import emit
from ..transactions import lost_race

A = DecisionAction
#: why a post may be removed: a scam, one of the policy types, or the wrong section (a
#: freelancer advertising themselves in the jobs section: the marketplace takes such posts
#: down from it; they are not recategorised, "not a job" is no category to move a post to)
REMOVE_REASONS: dict[str, str] = {
    "scam": "Scam or fraud",
    PolicyType.off_platform: "Payment or contact off the platform",
    PolicyType.unpaid_work: "Unpaid test work",
    PolicyType.academic_dishonesty: "Academic dishonesty",
    PolicyType.fake_reviews: "Fake reviews",
    PolicyType.account_rental: "Account rental",
    NOT_A_JOB: "Wrong section: not a job",
}
#: where a freelancer's offer of their services belongs (the wrong-section notice)
WHERE_SELF_ADS_BELONG = ("Posts offering your own services belong on your freelancer "
                         "profile or in the services catalogue, where clients look for "
                         "freelancers; the jobs section is for clients hiring.")
NOTE_MAX = 4000

UNDOABLE = frozenset({A.dismiss, A.recategorise, A.remove, A.escalate, A.note, A.suspend})


def removal_reason(flag: Any) -> str:
    """The removal reason a form preselects for a flag (a scam flag: scam; a policy flag:
    its first policy type; otherwise none - the moderator chooses)."""
    if flag is None:
        return ""
    if flag.reason == FlagReason.scam:
        return "scam"
    if flag.reason == FlagReason.policy and flag.policy_types:
        return flag.policy_types[0]
    if is_self_ad(flag):
        return NOT_A_JOB
    return ""


def is_self_ad(flag: Any) -> bool:
    """A miscategorised flag whose model reads the post as a freelancer advertising
    themselves (suggested category ``not_a_job``): its primary action is the removal."""
    return (flag is not None and flag.reason == FlagReason.miscategorised
            and getattr(flag, "suggested_category", None) == NOT_A_JOB)


def removal_notice(reason_code: str, title: str) -> str:
    """What the poster is told when their post comes down for ``reason_code``."""
    if reason_code == NOT_A_JOB:
        return (f"Your post \"{title}\" was removed from the jobs section: it offers your "
                f"services rather than a job to be done. {WHERE_SELF_ADS_BELONG} You can "
                "reply to this message if you think this is a mistake.")
    return (f"Your job post \"{title}\" was removed: {REMOVE_REASONS[reason_code]}. "
            "You can reply to this message if you think this is a mistake.")


def removal_label(reason_code: str) -> str:
    """The decision's label: a violation, or a post in the wrong section."""
    return "wrong_section" if reason_code == NOT_A_JOB else "violation"


class StaleCase(Conflict):
    """The case changed since the form was rendered (optimistic lock)."""


class InvalidTransition(ServiceError):
    """The action is not allowed from the subject's current state."""


@dataclass(frozen=True)
class Rule:
    flag: frozenset[str] = frozenset()      # allowed flag statuses (empty: no flag involved)
    post: frozenset[str] = frozenset()      # allowed post statuses (empty: any)
    client: frozenset[str] = frozenset()    # allowed client statuses (empty: any)
    undoable: bool = False


_OPEN = frozenset({FlagStatus.open})
_ANY_FLAG = frozenset(FlagStatus)
_NOT_REMOVED = frozenset({PostStatus.live, PostStatus.under_review})
_NOT_SUSPENDED = frozenset({ClientStatus.active, ClientStatus.contacted})

#: action -> the states it may start from
TRANSITIONS: dict[str, Rule] = {
    # post cases (subject: the flag and its post)
    A.dismiss: Rule(flag=_OPEN, undoable=True),
    A.recategorise: Rule(flag=_OPEN, post=_NOT_REMOVED, undoable=True),
    A.remove: Rule(flag=_OPEN, post=_NOT_REMOVED, undoable=True),
    A.escalate: Rule(flag=_OPEN, undoable=True),
    A.note: Rule(flag=_ANY_FLAG, undoable=True),
    # client cases
    A.contact: Rule(client=_NOT_SUSPENDED),
    A.suspend: Rule(client=_NOT_SUSPENDED, undoable=True),
    A.reinstate: Rule(client=frozenset({ClientStatus.suspended})),
}
#: what each action leaves behind
RESULTS: dict[str, str] = {
    A.dismiss: "flag dismissed (not a violation); post unchanged",
    A.recategorise: "flag resolved; post category changed; client notified",
    A.remove: "flag and the post's other open flags resolved; post removed; client notified",
    A.escalate: "flag stays open, marked escalated for admins",
    A.note: "note added; nothing else changes",
    A.contact: "client contacted; follow-up window opens; client's open flag resolved",
    A.suspend: "client suspended; live posts removed; client's open flags resolved",
    A.reinstate: "client active again; posts stay removed",
}


def allowed_actions(*, flag: Flag | None = None, post: JobPost | None = None,
                    client: Client | None = None) -> set[str]:
    """The actions the transition table allows for these subjects as they are now."""
    allowed = set()
    for action, rule in TRANSITIONS.items():
        if rule.flag and (flag is None or flag.status not in rule.flag):
            continue
        if rule.post and (post is None or post.status not in rule.post):
            continue
        if rule.client and (client is None or client.status not in rule.client):
            continue
        if not rule.flag and action in (A.dismiss, A.recategorise, A.remove, A.escalate):
            continue
        allowed.add(action)
    return allowed


def _check(action: str, *, flag: Flag | None = None, post: JobPost | None = None,
           client: Client | None = None, version: int | None = None,
           client_version: str | None = None) -> None:
    """Refuse an action the table does not allow. A form rendered from an older state is
    a conflict (409 + fresh case), not a wrong action: that is checked first."""
    if flag is not None and version is not None and flag.version != version:
        raise _stale("case")
    if client is not None and client_version is not None:
        _parse_client_token(client_version)  # a malformed token is a bad form, not a conflict
        if client_version != client_token(client):
            raise _stale("client")
    rule = TRANSITIONS[action]
    if rule.flag and flag is not None and flag.status not in rule.flag:
        raise InvalidTransition(f"cannot {action}: the flag is {flag.status}")
    if rule.post and post is not None and post.status not in rule.post:
        raise InvalidTransition(f"cannot {action}: the post is {post.status.replace('_', ' ')}")
    if rule.client and client is not None and client.status not in rule.client:
        raise InvalidTransition(f"cannot {action}: the client is {client.status}")


# --- settings ----------------------------------------------------------------------------

def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def undo_seconds() -> int:
    return _setting("UNDO_SECONDS", 30)


def undo_ends(now: datetime) -> datetime:
    """When a decision taken ``now`` can no longer be undone: its freelancer notices are
    held until then (``app/services/notices.py``)."""
    return now + timedelta(seconds=undo_seconds())


def claim_minutes() -> int:
    return _setting("CLAIM_MINUTES", 15)


def follow_up_days() -> int:
    return _setting("FOLLOW_UP_DAYS", 14)


# --- locking helpers ---------------------------------------------------------------------

def client_token(client: Client) -> str:
    """The optimistic-lock token of a client's state (rendered into client forms)."""
    changed = client.status_changed_at.isoformat() if client.status_changed_at else ""
    return f"{client.status}|{changed}"


def _parse_client_token(token: str) -> tuple[str, datetime | None]:
    status, _, changed = (token or "").partition("|")
    if status not in set(ClientStatus):
        raise ServiceError("the form is missing the client's state; reload the page")
    try:
        return status, datetime.fromisoformat(changed) if changed else None
    except ValueError as exc:
        raise ServiceError("the form's client state is malformed; reload the page") from exc


def _stale(what: str) -> StaleCase:
    return StaleCase(f"This {what} was changed by someone else while you were looking at it. "
                     "Nothing was done; here is the case as it is now.")


def _lock_flag(session: Session, flag_id: int, version: int | None, now: datetime,
               **values: Any) -> Flag:
    """Apply ``values`` to the flag iff it is still at ``version``; bumps the version."""
    if version is None:
        raise ServiceError("the form is missing the case version; reload the page")
    rollups.touch(session, [flag_id])
    result = session.execute(
        sa.update(Flag).where(Flag.id == flag_id, Flag.version == version)
        .values(version=Flag.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        raise _stale("case")
    flag = session.get(Flag, flag_id)
    session.refresh(flag)
    return flag


def _lock_client(session: Session, client: Client, token: str, now: datetime,
                 **values: Any) -> Client:
    status, changed = _parse_client_token(token)
    cond = [Client.id == client.id, Client.status == status]
    cond.append(Client.status_changed_at.is_(None) if changed is None
                else Client.status_changed_at == changed)
    result = session.execute(
        sa.update(Client).where(*cond)
        .values(status_changed_at=now, updated_at=now, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        raise _stale("client")
    session.refresh(client)
    return client


def _get(session: Session, model, ident: int | None, what: str):  # noqa: ANN001
    if ident is None:
        raise ServiceError(f"the form does not say which {what}; reload the page")
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"no {what} #{ident}")
    return row


def _require_admin(session: Session, actor: Actor) -> None:
    moderator = session.get(Moderator, actor.moderator_id) if actor.moderator_id else None
    if moderator is None or moderator.role != Role.admin:
        raise ServiceError("only admins may do that")


def _decision(session: Session, *, action: str, flag: Flag | None, client_id: int,
              post_id: int | None, actor: Actor, reason: str = "",
              details: dict[str, Any] | None = None, now: datetime) -> Decision:
    subject_type = SubjectType.post if post_id is not None else SubjectType.client
    if flag is not None:
        rollups.touch(session, [flag.id])
    decision = Decision(
        flag_id=flag.id if flag else None, subject_type=subject_type,
        subject_id=post_id if post_id is not None else client_id, client_id=client_id,
        post_id=post_id, moderator_id=actor.moderator_id, action=action, reason=reason,
        details=details or {}, created_at=now)
    session.add(decision)
    session.flush()
    if flag is None:
        rollups.created(session, decision_ids=[decision.id])
    return decision


def judged(post: JobPost, flag: Flag | None = None) -> dict[str, Any]:
    """What the moderator judged, kept with the decision and its audit event: the
    marketplace may edit the post afterwards (the case page then shows both)."""
    return {"title": post.title, "description": post.description, "category": post.category,
            "content_hash": post.content_hash, "scores": post.scores,
            "evidence": list(flag.evidence or []) if flag is not None else []}


def _post_event(session: Session, event_type: str, post: JobPost, client: Client,
                **payload: Any) -> None:
    emit(session, event_type=event_type, subject_type=SubjectType.post, subject_id=post.id,
         payload={"post": post.external_id, "client": client.external_id, **payload})


def _client_event(session: Session, event_type: str, client: Client, **payload: Any) -> None:
    emit(session, event_type=event_type, subject_type=SubjectType.client, subject_id=client.id,
         payload={"client": client.external_id, **payload})


def _post_flag(session: Session, flag_id: int) -> tuple[Flag, JobPost, Client]:
    flag = _get(session, Flag, flag_id, "case")
    if flag.subject_type != SubjectType.post or flag.post_id is None:
        raise ServiceError("that case is about a client, not a post")
    return flag, _get(session, JobPost, flag.post_id, "post"), _get(session, Client,
                                                                     flag.client_id, "client")


_CLOSE = dict(claimed_by=None, claimed_until=None)


def _close_other_flags(session: Session, *, post_id: int | None = None,
                       client_id: int | None = None, except_id: int | None,
                       now: datetime) -> list[dict[str, Any]]:
    """Resolve the subject's other open flags through the version-checked path (the caller
    holds the subject's locks: see ``lock_post_case``); returns what they were and the
    version they were left at, so an undo can reopen exactly those."""
    subject = Flag.post_id == post_id if post_id is not None else Flag.client_id == client_id
    closed = []
    for other in lock_flags(session, open_only(subject)):
        if other.id == except_id:
            continue
        was = other.status
        other = _lock_flag(session, other.id, other.version, now, status=FlagStatus.resolved,
                           closed_at=now, **_CLOSE)
        closed.append({"id": other.id, "status": was, "version": other.version})
    return closed


def decision_use_case(fn):  # noqa: ANN001, ANN201
    """A moderator action that lost a race in the database (see ``lost_race``) is the same
    answer as a stale form: rolled back, ``StaleCase`` (409), nothing written."""
    @functools.wraps(fn)
    def wrapper(session: Session, *args: Any, **kwargs: Any):  # noqa: ANN202
        try:
            return fn(session, *args, **kwargs)
        except sa.exc.DBAPIError as exc:
            if not lost_race(exc):
                raise
            session.rollback()
            raise _stale("case") from exc
    return wrapper


# --- helpers -----------------------------------------------------------------------------

def _clean(text: str | None, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ServiceError("please write a reason or note")
    if len(text) > NOTE_MAX:
        raise ServiceError(f"at most {NOTE_MAX} characters")
    return text


def is_live_escalation(decision: Decision) -> bool:
    """``decision`` keeps its flag escalated: ``live_escalation`` for a loaded decision."""
    return decision.action == A.escalate and decision.undone_at is None


def live_escalation():
    """SQL condition, correlated on ``Flag.id``: the flag carries a live escalation (a
    not-undone escalate decision; escalations clear when the flag closes). The same test
    in Python, for decisions already loaded: ``is_live_escalation``."""
    # the action as a literal, not a bound parameter: only then can PostgreSQL's generic
    # plan (a prepared statement's) use the partial index ix_decision_live_escalation,
    # whose predicate is this condition; with "action = $1" it scanned every decision
    return select(Decision.id).where(Decision.flag_id == Flag.id, _IS_ESCALATE,
                                     Decision.undone_at.is_(None)).exists()


_IS_ESCALATE = Decision.action == sa.literal_column(f"'{A.escalate.value}'")


def escalated_flag_ids(session: Session, flag_ids: list[int]) -> set[int]:
    """Which of these flags carry a live escalation (``live_escalation``)."""
    if not flag_ids:
        return set()
    return set(session.exec(_escalated_statement(), params={"escalated_ids": list(flag_ids)}).all())


@functools.cache
def _escalated_statement():  # noqa: ANN202
    """Built once (statement building cost more than running it), the ids bound per call."""
    return select(Flag.id).where(Flag.id.in_(sa.bindparam("escalated_ids", expanding=True)),
                                 live_escalation())


def is_reason(value: str) -> bool:
    return value in set(FlagReason)
