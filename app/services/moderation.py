"""The moderation state machine: every moderator action on a flag, a post or a client.

Each public function is one use case and one transaction: the decision row, the audit
event, the state change and the marketplace event (outbox) are written together and
committed once; side effects (webhook delivery, e-mail, the follow-up re-check) are
deferred with ``app.jobs.enqueue`` and dispatched only after that commit.

Optimistic locking. Every form carries the version it was rendered from:

- flags: ``UPDATE flag SET ..., version = version + 1 WHERE id = :id AND version = :v``;
- clients have no version column, so their state token is ``status`` plus
  ``status_changed_at`` (every client transition stamps a new ``status_changed_at``):
  ``UPDATE client SET ... WHERE id = :id AND status = :s AND status_changed_at = :t``.

A zero rowcount raises :class:`StaleCase` (shown as HTTP 409 with the fresh case): two
moderators can never both act on the same state.

The transition table (``TRANSITIONS``) says which actions are allowed from which flag,
post and client status; ``allowed_actions`` is what the templates use to offer buttons.

Undo (``UNDO_SECONDS``). Dismiss, recategorise, remove, escalate, note and suspend can
be undone by the moderator who acted (or an admin) within the window, as long as
nothing changed since (the same version/state token check). Contact cannot be undone:
the message has gone out. Reinstate is not offered for undo (an admin can suspend
again). Undo does not hold back marketplace events: remove/recategorise/suspend emit
their event at once and undo emits a *compensating* event (``post.reinstated``,
``post.recategorised`` back to the old category, ``client.reinstated``), delivered after
the original in per-subject order, so the marketplace always converges on our state.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import (Client, ClientStatus, Decision, DecisionAction, Flag, FlagReason,
                    FlagStatus, JobPost, Moderator, Outreach, OutreachOutcome, PolicyType,
                    PostStatus, Role, SubjectType, utcnow)
from models.taxonomy import CATEGORY_LABELS, category_label

from ..jobs import enqueue
from . import Conflict, NotFound, ServiceError
from .audit import Actor, record
from .content import post_content_hash
from .outbox import emit

A = DecisionAction
#: why a post may be removed: a scam, or one of the policy types
REMOVE_REASONS: dict[str, str] = {
    "scam": "Scam or fraud",
    PolicyType.off_platform: "Payment or contact off the platform",
    PolicyType.unpaid_work: "Unpaid test work",
    PolicyType.academic_dishonesty: "Academic dishonesty",
    PolicyType.fake_reviews: "Fake reviews",
    PolicyType.account_rental: "Account rental",
}
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
    return ""


def cluster_removal_reason(session: Session, post_id: int) -> str:
    """``removal_reason`` of the post's most urgent open scam or policy flag: what taking
    its similar posts down preselects."""
    flag = session.exec(select(Flag).where(
        Flag.post_id == post_id, Flag.status == FlagStatus.open,
        Flag.reason.in_([FlagReason.scam, FlagReason.policy]))
        .order_by(Flag.priority.desc(), Flag.id)).first()
    return removal_reason(flag)


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
    decision = Decision(
        flag_id=flag.id if flag else None, subject_type=subject_type,
        subject_id=post_id if post_id is not None else client_id, client_id=client_id,
        post_id=post_id, moderator_id=actor.moderator_id, action=action, reason=reason,
        details=details or {}, created_at=now)
    session.add(decision)
    session.flush()
    return decision


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


# --- post actions ------------------------------------------------------------------------

def dismiss(session: Session, *, flag_id: int, version: int | None, actor: Actor,
            comment: str = "", now: datetime | None = None) -> Decision:
    """Not a violation. The dismissal is the label the next model learns from."""
    now = now or utcnow()
    flag, post, _client = _post_flag(session, flag_id)
    before = {"flag": flag.status}
    _check(A.dismiss, flag=flag, post=post, version=version)
    flag = _lock_flag(session, flag_id, version, now, status=FlagStatus.dismissed,
                      closed_at=now, **_CLOSE)
    decision = _decision(session, action=A.dismiss, flag=flag, client_id=flag.client_id,
                         post_id=post.id, actor=actor, reason=_clean(comment, required=False),
                         details={"label": "not_violation", "flag_reason": flag.reason,
                                  "score": flag.score, "model_version": flag.model_version,
                                  "flag_version": flag.version, "before": before}, now=now)
    record(session, actor=actor, action="post.dismiss", subject_type="post", subject_id=post.id,
           before=before, after={"flag": flag.id, "status": flag.status, "decision": decision.id})
    session.commit()
    return decision


def recategorise(session: Session, *, flag_id: int, version: int | None, category: str,
                 actor: Actor, comment: str = "", now: datetime | None = None) -> Decision:
    """Move the post to ``category``; the client is told (no strike)."""
    now = now or utcnow()
    if category not in CATEGORY_LABELS:
        raise ServiceError("choose a category from the list")
    flag, post, client = _post_flag(session, flag_id)
    _check(A.recategorise, flag=flag, post=post, version=version)
    if category == post.category:
        raise ServiceError(f"the post is already in {category_label(category)}")
    before = {"flag": flag.status, "category": post.category}
    flag = _lock_flag(session, flag_id, version, now, status=FlagStatus.resolved,
                      closed_at=now, **_CLOSE)
    _set_category(session, post, category, now)
    notice = (f"Your job post \"{post.title}\" was moved to the category "
              f"{category_label(category)} so the right freelancers find it. No action is "
              "needed and this does not count against your account.")
    decision = _decision(session, action=A.recategorise, flag=flag, client_id=client.id,
                         post_id=post.id, actor=actor, reason=_clean(comment, required=False),
                         details={"label": "miscategorised", "from": before["category"],
                                  "to": category, "suggested": flag.suggested_category,
                                  "flag_version": flag.version, "before": before}, now=now)
    _post_event(session, "post.recategorised", post, client, category=category,
                previous_category=before["category"], notice=notice, decision=decision.id)
    record(session, actor=actor, action="post.recategorise", subject_type="post",
           subject_id=post.id, before=before,
           after={"flag": flag.status, "category": category, "decision": decision.id})
    session.commit()
    return decision


def _set_category(session: Session, post: JobPost, category: str, now: datetime) -> None:
    """A moderator's category is part of the post's content from now on: its content hash
    follows, so the marketplace echoing the post back with this category is "unchanged" (no
    rescore that could re-flag a human decision); scores are not redone either."""
    post.category = category
    post.content_hash = post_content_hash(title=post.title, description=post.description,
                                          category=category, skills=post.skills,
                                          budget=post.budget)
    post.updated_at = now
    session.add(post)


def remove(session: Session, *, flag_id: int, version: int | None, reason_code: str,
           actor: Actor, comment: str = "", now: datetime | None = None) -> Decision:
    """Take the post down (reason required); the post's other open flags close with it."""
    now = now or utcnow()
    flag, post, client = _post_flag(session, flag_id)
    _check(A.remove, flag=flag, post=post, version=version)
    decision = _remove_post(session, flag=flag, version=version, post=post, client=client,
                            reason_code=reason_code, actor=actor, comment=comment, now=now)
    session.commit()
    return decision


def _remove_post(session: Session, *, flag: Flag, version: int | None, post: JobPost,
                 client: Client, reason_code: str, actor: Actor, comment: str,
                 now: datetime, cluster_of: int | None = None) -> Decision:
    if reason_code not in REMOVE_REASONS:
        raise ServiceError("choose why the post is removed (scam or a policy type)")
    before = {"flag": flag.status, "post": post.status}
    flag = _lock_flag(session, flag.id, version, now, status=FlagStatus.resolved,
                      closed_at=now, **_CLOSE)
    others = _close_other_flags(session, post_id=post.id, except_id=flag.id, now=now,
                                note=f"closed: post removed ({REMOVE_REASONS[reason_code]})")
    post.status = PostStatus.removed
    post.updated_at = now
    session.add(post)
    notice = (f"Your job post \"{post.title}\" was removed: {REMOVE_REASONS[reason_code]}. "
              "You can reply to this message if you think this is a mistake.")
    details = {"label": "violation", "reason_code": reason_code, "flag_version": flag.version,
               "before": before, "closed_flags": others}
    if cluster_of is not None:
        details["cluster_of"] = cluster_of
    decision = _decision(session, action=A.remove, flag=flag, client_id=client.id,
                         post_id=post.id, actor=actor,
                         reason=_clean(comment, required=False) or REMOVE_REASONS[reason_code],
                         details=details, now=now)
    _post_event(session, "post.removed", post, client, reason=reason_code, notice=notice,
                decision=decision.id)
    record(session, actor=actor, action="post.remove", subject_type="post", subject_id=post.id,
           before=before, after={"post": post.status, "reason": reason_code,
                                 "decision": decision.id, "closed_flags": [o["id"] for o in others]})
    return decision


def _close_other_flags(session: Session, *, post_id: int | None = None,
                       client_id: int | None = None, except_id: int | None, now: datetime,
                       note: str) -> list[dict[str, Any]]:
    """Resolve the subject's other open flags (bumping their versions); returns what they
    were, so an undo can reopen them."""
    stmt = select(Flag).where(Flag.status == FlagStatus.open)
    stmt = stmt.where(Flag.post_id == post_id) if post_id is not None else \
        stmt.where(Flag.client_id == client_id)
    closed = []
    for other in session.exec(stmt).all():
        if other.id == except_id:
            continue
        closed.append({"id": other.id, "status": other.status})
        other.status = FlagStatus.resolved
        other.closed_at = now
        other.updated_at = now
        other.version += 1
        other.claimed_by = None
        other.claimed_until = None
        session.add(other)
    session.flush()
    return closed


def escalate(session: Session, *, flag_id: int, version: int | None, actor: Actor,
             comment: str = "", now: datetime | None = None) -> Decision:
    """Hand the case to the admins: it stays open, marked escalated, and is released."""
    now = now or utcnow()
    flag = _get(session, Flag, flag_id, "case")
    _check(A.escalate, flag=flag, version=version)
    flag = _lock_flag(session, flag_id, version, now, **_CLOSE)
    decision = _decision(session, action=A.escalate, flag=flag, client_id=flag.client_id,
                         post_id=flag.post_id, actor=actor,
                         reason=_clean(comment, required=False),
                         details={"flag_version": flag.version}, now=now)
    record(session, actor=actor, action="flag.escalate", subject_type="flag", subject_id=flag.id,
           after={"decision": decision.id, "comment": decision.reason})
    session.commit()
    return decision


def add_note(session: Session, *, text: str, actor: Actor, flag_id: int | None = None,
             post_id: int | None = None, client_id: int | None = None,
             now: datetime | None = None) -> Decision:
    """A note on a case, a post or a client. Notes change nothing, so they take no lock."""
    now = now or utcnow()
    text = _clean(text, required=True)
    flag = _get(session, Flag, flag_id, "case") if flag_id else None
    if flag is not None:
        post_id, client_id = flag.post_id, flag.client_id
    if post_id is not None:
        client_id = _get(session, JobPost, post_id, "post").client_id
    if client_id is None:
        raise ServiceError("a note needs a subject")
    _get(session, Client, client_id, "client")
    decision = _decision(session, action=A.note, flag=flag, client_id=client_id,
                         post_id=post_id, actor=actor, reason=text, details={}, now=now)
    record(session, actor=actor, action="note.add",
           subject_type="post" if post_id else "client", subject_id=post_id or client_id,
           after={"decision": decision.id, "text": text[:500]})
    session.commit()
    return decision


# --- client actions ----------------------------------------------------------------------

def contact(session: Session, *, client_id: int, client_version: str, template: str,
            fields: dict[str, str], actor: Actor, flag_id: int | None = None,
            flag_version: int | None = None, now: datetime | None = None) -> Outreach:
    """Send a message to the client and open a follow-up window (not undoable)."""
    from . import outreach_templates

    now = now or utcnow()
    client = _get(session, Client, client_id, "client")
    _check(A.contact, client=client, client_version=client_version)
    due = now + timedelta(days=follow_up_days())
    message = outreach_templates.render(template, client=client, fields=fields,
                                        follow_up_due_at=due, strict=True)
    before = {"status": client.status}
    flag = None
    if flag_id is not None:
        flag = _get(session, Flag, flag_id, "case")
        if flag.client_id != client.id or flag.subject_type != SubjectType.client:
            raise ServiceError("that case is not about this client")
        if flag.status == FlagStatus.open:
            flag = _lock_flag(session, flag.id, flag_version, now, status=FlagStatus.resolved,
                              closed_at=now, **_CLOSE)
    client = _lock_client(session, client, client_version, now, status=ClientStatus.contacted)
    outreach = Outreach(client_id=client.id, flag_id=flag.id if flag else None,
                        moderator_id=actor.moderator_id, template=template,
                        subject=message.subject, body=message.body, channel="email",
                        sent_at=now, follow_up_due_at=due, outcome=OutreachOutcome.pending,
                        created_at=now)
    session.add(outreach)
    session.flush()
    decision = _decision(session, action=A.contact, flag=flag, client_id=client.id, post_id=None,
                         actor=actor, reason=message.subject,
                         details={"outreach": outreach.id, "template": template,
                                  "follow_up_due_at": due.isoformat(), "before": before,
                                  "flag_version": flag.version if flag else None}, now=now)
    _client_event(session, "client.contacted", client, outreach=outreach.id,
                  subject=message.subject, body=message.body,
                  follow_up_due_at=due.isoformat(), decision=decision.id)
    record(session, actor=actor, action="client.contact", subject_type="client",
           subject_id=client.id, before=before,
           after={"status": client.status, "outreach": outreach.id, "template": template,
                  "follow_up_due_at": due.isoformat()})
    enqueue.follow_up(session, outreach.id, outreach.follow_up_due_at)
    enqueue.send_outreach(session, outreach.id)
    session.commit()
    return outreach


def suspension_preview(session: Session, *, client_id: int) -> list[JobPost]:
    """The posts a suspension would take down (what the confirmation lists)."""
    return list(session.exec(select(JobPost).where(
        JobPost.client_id == client_id, JobPost.status.in_(list(_NOT_REMOVED)))
        .order_by(JobPost.posted_at.desc())))


class PolicyHold(ServiceError):
    """The marketplace's policy holds the action back for now (``suspension_hold``)."""


def suspension_hold(session: Session, client: Client) -> str | None:
    """Why the marketplace's policy holds back suspending ``client`` now, or None.

    The policy: a consistently negative client is first contacted, and suspended only if
    they do not improve within the follow-up window (one bad review is not a pattern, and
    a warning comes before a sanction). So, on negativity grounds:

    - contacted (the latest contact), and the window's re-check has not run yet: wait for
      it (it ends the window: improved, or the case reopens marked "suspend recommended");
    - re-checked and not improved (the contact still pending): suspension is the next step;
    - an open negative-client case and no such contact: contact first (a client who
      improved after an earlier warning and turned negative again is warned again).

    A client with no negativity case (a scam ring's account, say) is not held back."""
    latest = session.exec(select(Outreach).where(Outreach.client_id == client.id)
                          .order_by(Outreach.id.desc())).first()
    if latest is not None and latest.outcome == OutreachOutcome.pending:
        if latest.rechecked_at is not None:
            return None  # not improved: the window has done its work
        return (f"{client.name} was contacted on {latest.created_at:%d %B %Y} and the "
                f"follow-up window ends on {latest.follow_up_due_at:%d %B %Y}: the policy "
                "is to suspend only a client who does not improve within it.")
    negative = session.exec(select(Flag.id).where(
        Flag.subject_type == SubjectType.client, Flag.subject_id == client.id,
        Flag.reason == FlagReason.negative_client, Flag.status == FlagStatus.open)).first()
    if negative is not None:
        return (f"{client.name} has not been contacted about this pattern: the policy is to "
                "contact a consistently negative client first, and to suspend only one who "
                "does not improve within the follow-up window.")
    return None


def suspend(session: Session, *, client_id: int, client_version: str, reason: str,
            actor: Actor, flag_id: int | None = None, flag_version: int | None = None,
            expected_posts: int | None = None, override: bool = False,
            now: datetime | None = None) -> Decision:
    """Suspend the client: their live posts come down, their open flags are resolved, a
    pending follow-up ends as ``suspended``. ``expected_posts`` is the count the
    confirmation showed: if more posts would come down now, the moderator must look again.

    Held back while the policy says to contact or to wait (``suspension_hold``); an admin
    may ``override`` it, for another ground such as fraud (the reason says which), and the
    decision and the audit event record that they did."""
    now = now or utcnow()
    reason = _clean(reason, required=True)
    client = _get(session, Client, client_id, "client")
    _check(A.suspend, client=client, client_version=client_version)
    hold = suspension_hold(session, client)
    if hold is not None:
        if not override:
            raise PolicyHold(f"Not suspended. {hold} An admin can suspend at once on "
                             "another ground, such as fraud.")
        _require_admin(session, actor)
    posts = suspension_preview(session, client_id=client.id)
    if expected_posts is not None and len(posts) != expected_posts:
        raise StaleCase(f"The client now has {len(posts)} open posts, not {expected_posts}. "
                        "Nothing was done; please confirm again.")
    before = {"status": client.status}
    flag = None
    if flag_id is not None:
        flag = _get(session, Flag, flag_id, "case")
        if flag.client_id != client.id:
            raise ServiceError("that case is not about this client")
        if flag.status == FlagStatus.open:
            flag = _lock_flag(session, flag.id, flag_version, now, status=FlagStatus.resolved,
                              closed_at=now, **_CLOSE)
    client = _lock_client(session, client, client_version, now, status=ClientStatus.suspended)
    closed = _close_other_flags(session, client_id=client.id,
                                except_id=flag.id if flag else None, now=now,
                                note="closed: client suspended")
    post_states = []
    for post in posts:
        post_states.append({"id": post.id, "status": post.status})
        post.status = PostStatus.removed
        post.updated_at = now
        session.add(post)
    outreaches = list(session.exec(select(Outreach).where(
        Outreach.client_id == client.id, Outreach.outcome == OutreachOutcome.pending)))
    for outreach in outreaches:
        outreach.outcome = OutreachOutcome.suspended
        outreach.outcome_at = now
        session.add(outreach)
    session.flush()
    decision = _decision(session, action=A.suspend, flag=flag, client_id=client.id, post_id=None,
                         actor=actor, reason=reason,
                         details={"before": before, "posts": post_states, "closed_flags": closed,
                                  "outreach": [o.id for o in outreaches],
                                  "policy_override": hold,
                                  "flag_version": flag.version if flag else None,
                                  "client_token": client_token(client)}, now=now)
    _client_event(session, "client.suspended", client, reason=reason, decision=decision.id,
                  posts_removed=[p.external_id for p in posts])
    for post in posts:
        _post_event(session, "post.removed", post, client, reason="client_suspended",
                    notice="The post was removed because the account was suspended.",
                    decision=decision.id)
    record(session, actor=actor, action="client.suspend", subject_type="client",
           subject_id=client.id, before=before,
           after={"status": client.status, "reason": reason, "posts_removed": len(posts),
                  "flags_closed": len(closed) + (1 if flag else 0), "decision": decision.id,
                  "policy_override": hold})
    session.commit()
    return decision


def reinstate(session: Session, *, client_id: int, client_version: str, reason: str,
              actor: Actor, now: datetime | None = None) -> Decision:
    """Admins only: the client is active again; removed posts stay removed."""
    now = now or utcnow()
    _require_admin(session, actor)
    reason = _clean(reason, required=True)
    client = _get(session, Client, client_id, "client")
    _check(A.reinstate, client=client, client_version=client_version)
    before = {"status": client.status}
    client = _lock_client(session, client, client_version, now, status=ClientStatus.active)
    decision = _decision(session, action=A.reinstate, flag=None, client_id=client.id,
                         post_id=None, actor=actor, reason=reason,
                         details={"before": before}, now=now)
    _client_event(session, "client.reinstated", client, reason=reason, decision=decision.id)
    record(session, actor=actor, action="client.reinstate", subject_type="client",
           subject_id=client.id, before=before, after={"status": client.status,
                                                       "decision": decision.id})
    session.commit()
    return decision


# --- undo --------------------------------------------------------------------------------

def undo_deadline(decision: Decision) -> datetime:
    return decision.created_at + timedelta(seconds=undo_seconds())


def can_undo(decision: Decision | None, actor: Actor, *, is_admin: bool = False,
             now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (decision is not None and decision.action in UNDOABLE
            and decision.undone_at is None and now <= undo_deadline(decision)
            and (decision.moderator_id == actor.moderator_id or is_admin))


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
    if decision.undone_at is not None:
        raise StaleCase("That decision was already undone.")
    if decision.moderator_id != actor.moderator_id and not is_admin:
        raise ServiceError("only the moderator who decided (or an admin) may undo it")
    if now > undo_deadline(decision):
        raise InvalidTransition(f"the undo window ({undo_seconds()} s) has passed")
    details = decision.details or {}
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
    record(session, actor=actor, action="decision.undo",
           subject_type=decision.subject_type, subject_id=decision.subject_id,
           before={"decision": decision.id, "action": decision.action},
           after={"undone": True})
    session.commit()
    return decision


def _reopen_flag(session: Session, decision: Decision, details: dict, now: datetime) -> None:
    if decision.flag_id is None:
        return
    _lock_flag(session, decision.flag_id, details.get("flag_version"), now,
               status=FlagStatus.open, closed_at=None)


def _reopen_closed(session: Session, closed: list[dict], now: datetime) -> None:
    for item in closed:
        other = session.get(Flag, item["id"])
        if other is not None and other.status == FlagStatus.resolved:
            other.status = FlagStatus.open
            other.closed_at = None
            other.updated_at = now
            other.version += 1
            session.add(other)


def _undo_dismiss(session, decision, details, now):  # noqa: ANN001
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
    _post_event(session, "post.reinstated", post, client, undo_of=decision.id,
                notice="The removal was reverted; the post is visible again.")


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


_UNDO = {A.dismiss: _undo_dismiss, A.escalate: _undo_escalate, A.note: _undo_note,
         A.recategorise: _undo_recategorise, A.remove: _undo_remove, A.suspend: _undo_suspend}


# --- claiming ----------------------------------------------------------------------------

@dataclass
class ClaimState:
    claimed_by: int | None
    claimed_until: datetime | None
    mine: bool
    claimed_now: bool = False
    flag_ids: list[int] = field(default_factory=list)


def _subject_filter(subject_type: str, subject_id: int):
    if subject_type == SubjectType.post:
        return Flag.post_id == subject_id
    return sa.and_(Flag.client_id == subject_id, Flag.subject_type == SubjectType.client)


def claim(session: Session, *, subject_type: str, subject_id: int, actor: Actor,
          now: datetime | None = None) -> ClaimState:
    """Claim the subject's open flags for CLAIM_MINUTES unless someone else holds them.
    Claims are advisory (the version check is what prevents double actions); they do not
    bump the version, so a claim never makes someone else's open form stale."""
    now = now or utcnow()
    until = now + timedelta(minutes=claim_minutes())
    session.execute(
        sa.update(Flag).where(
            _subject_filter(subject_type, subject_id), Flag.status == FlagStatus.open,
            sa.or_(Flag.claimed_by.is_(None), Flag.claimed_by == actor.moderator_id,
                   Flag.claimed_until <= now))
        .values(claimed_by=actor.moderator_id, claimed_until=until)
        .execution_options(synchronize_session=False))
    session.commit()
    session.expire_all()
    return claim_state(session, subject_type=subject_type, subject_id=subject_id, actor=actor,
                       now=now)


def release(session: Session, *, subject_type: str, subject_id: int, actor: Actor) -> None:
    session.execute(
        sa.update(Flag).where(_subject_filter(subject_type, subject_id),
                              Flag.claimed_by == actor.moderator_id)
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    session.commit()
    session.expire_all()


def claim_state(session: Session, *, subject_type: str, subject_id: int, actor: Actor,
                now: datetime | None = None) -> ClaimState:
    flags = session.exec(select(Flag).where(_subject_filter(subject_type, subject_id),
                                            Flag.status == FlagStatus.open)).all()
    return claim_state_of(flags, actor=actor, now=now or utcnow())


def claim_state_of(open_flags: Sequence[Flag], *, actor: Actor, now: datetime) -> ClaimState:
    """The claim on a subject, from its open flags (for a caller that has them loaded)."""
    live = [f for f in open_flags if f.claimed_by is not None and f.claimed_until
            and f.claimed_until > now]
    holder = next((f for f in live if f.claimed_by != actor.moderator_id), None) or \
        (live[0] if live else None)
    return ClaimState(claimed_by=holder.claimed_by if holder else None,
                      claimed_until=holder.claimed_until if holder else None,
                      mine=bool(holder and holder.claimed_by == actor.moderator_id),
                      flag_ids=[f.id for f in open_flags])


def reassign(session: Session, *, subject_type: str, subject_id: int, to_moderator_id: int,
             actor: Actor, now: datetime | None = None) -> ClaimState:
    """Admins: give the subject's open flags to another moderator (a fresh claim)."""
    now = now or utcnow()
    _require_admin(session, actor)
    target = session.get(Moderator, to_moderator_id)
    if target is None or not target.active or target.role == Role.analyst:
        raise ServiceError("choose an active moderator or admin")
    until = now + timedelta(minutes=claim_minutes())
    result = session.execute(
        sa.update(Flag).where(_subject_filter(subject_type, subject_id),
                              Flag.status == FlagStatus.open)
        .values(claimed_by=target.id, claimed_until=until)
        .execution_options(synchronize_session=False))
    if not result.rowcount:
        session.rollback()
        raise InvalidTransition("there is no open case to reassign")
    record(session, actor=actor, action="claim.reassign", subject_type=subject_type,
           subject_id=subject_id, after={"to": target.email, "until": until.isoformat()})
    session.commit()
    session.expire_all()
    return claim_state(session, subject_type=subject_type, subject_id=subject_id, actor=actor,
                       now=now)


# --- bulk and cluster --------------------------------------------------------------------

BULK_ACTIONS = (A.dismiss, A.remove)
BULK_MAX = 200


def bulk(session: Session, *, action: str, items: list[tuple[int, int]], actor: Actor,
         reason_code: str | None = None, now: datetime | None = None) -> list[Decision]:
    """Dismiss or remove several post cases in one transaction: all or nothing. If any
    item changed since the list was rendered, nothing is done (StaleCase)."""
    now = now or utcnow()
    if action not in BULK_ACTIONS:
        raise ServiceError("bulk actions are dismiss and remove")
    if not items:
        raise ServiceError("select at least one item")
    if len(items) > BULK_MAX:
        raise ServiceError(f"at most {BULK_MAX} items at once")
    if action == A.remove and reason_code not in REMOVE_REASONS:
        raise ServiceError("choose why the posts are removed")
    decisions = []
    removed_posts: set[int] = set()
    for flag_id, version in items:
        flag, post, client = _post_flag(session, flag_id)
        if flag.status != FlagStatus.open or flag.version != version:
            session.rollback()
            raise StaleCase(f"Case #{flag_id} changed since the list was shown. Nothing was "
                            "done; here is the fresh queue.")
        if action == A.dismiss:
            flag = _lock_flag(session, flag_id, version, now, status=FlagStatus.dismissed,
                              closed_at=now, **_CLOSE)
            d = _decision(session, action=A.dismiss, flag=flag, client_id=client.id,
                          post_id=post.id, actor=actor, reason="bulk dismiss",
                          details={"label": "not_violation", "flag_reason": flag.reason,
                                   "flag_version": flag.version, "bulk": True,
                                   "before": {"flag": FlagStatus.open}}, now=now)
            record(session, actor=actor, action="post.dismiss", subject_type="post",
                   subject_id=post.id, after={"flag": flag.id, "decision": d.id, "bulk": True})
        else:
            if post.id in removed_posts or post.status == PostStatus.removed:
                raise StaleCase(f"Post #{post.id} is selected twice or already removed. "
                                "Nothing was done.")
            d = _remove_post(session, flag=flag, version=version, post=post, client=client,
                             reason_code=reason_code, actor=actor, comment="bulk remove", now=now)
            removed_posts.add(post.id)
        decisions.append(d)
    record(session, actor=actor, action=f"bulk.{action}", subject_type="flag",
           subject_id=",".join(str(i) for i, _ in items)[:64],
           after={"count": len(decisions), "flags": [i for i, _ in items]})
    session.commit()
    return decisions


def cluster_remove(session: Session, *, source_post_id: int, post_ids: list[int],
                   reason_code: str, actor: Actor, expected: int,
                   now: datetime | None = None) -> list[Decision]:
    """Take down a ring of near-duplicate posts in one step (the preview showed
    ``expected`` posts; a different count now means: look again). Posts without an open
    flag get one decision each, linked to no flag."""
    now = now or utcnow()
    if reason_code not in REMOVE_REASONS:
        raise ServiceError("choose why the posts are removed")
    posts = list(session.exec(select(JobPost).where(JobPost.id.in_(post_ids),
                                                    JobPost.status.in_(list(_NOT_REMOVED)))))
    if len(posts) != expected:
        raise StaleCase(f"{len(posts)} of those posts are still up, not {expected}. Nothing was "
                        "done; check the preview again.")
    decisions = []
    for post in posts:
        client = session.get(Client, post.client_id)
        flag = session.exec(select(Flag).where(Flag.post_id == post.id,
                                               Flag.status == FlagStatus.open)
                            .order_by(Flag.priority.desc())).first()
        if flag is not None:
            decisions.append(_remove_post(session, flag=flag, version=flag.version, post=post,
                                          client=client, reason_code=reason_code, actor=actor,
                                          comment=f"cluster of post #{source_post_id}", now=now,
                                          cluster_of=source_post_id))
            continue
        before = {"post": post.status}
        post.status = PostStatus.removed
        post.updated_at = now
        session.add(post)
        d = _decision(session, action=A.remove, flag=None, client_id=client.id, post_id=post.id,
                      actor=actor, reason=f"cluster of post #{source_post_id}",
                      details={"label": "violation", "reason_code": reason_code,
                               "cluster_of": source_post_id, "before": before}, now=now)
        _post_event(session, "post.removed", post, client, reason=reason_code,
                    notice=f"Your job post \"{post.title}\" was removed: "
                           f"{REMOVE_REASONS[reason_code]}.", decision=d.id)
        record(session, actor=actor, action="post.remove", subject_type="post",
               subject_id=post.id, before=before,
               after={"post": post.status, "reason": reason_code, "cluster_of": source_post_id})
        decisions.append(d)
    record(session, actor=actor, action="cluster.remove", subject_type="post",
           subject_id=source_post_id, after={"count": len(decisions),
                                             "posts": [p.id for p in posts]})
    session.commit()
    return decisions


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
