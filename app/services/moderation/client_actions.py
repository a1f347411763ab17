"""Client decisions: contact (with its follow-up window), suspend - held back by the
contact-first policy (``suspension_hold``) - and reinstate."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from models import (Client, ClientStatus, Decision, Flag, FlagReason, FlagStatus, JobPost, Outreach,
                    OutreachOutcome, PostStatus, SubjectType, utcnow)

from ...jobs import enqueue
from .. import ServiceError, flags, holds, notices
from ..audit import Actor, record
from .common import (A, _CLOSE, _NOT_REMOVED, StaleCase, _check, _clean, _client_event,
                     client_token, _close_other_flags, _decision, decision_use_case,
                     follow_up_days, _get, judged, lock_client_case, _lock_client, _lock_flag,
                     _post_event, _require_admin, undo_ends)


@decision_use_case
def contact(session: Session, *, client_id: int, client_version: str, template: str,
            fields: dict[str, str], actor: Actor, flag_id: int | None = None,
            flag_version: int | None = None, now: datetime | None = None) -> Outreach:
    """Send a message to the client and open a follow-up window (not undoable)."""
    from .. import outreach_templates

    now = now or utcnow()
    client = _get(session, Client, client_id, "client")
    lock_client_case(session, client.id, [flag_id])
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
        return suspension_hold_of(client, latest, negative_open=False)
    negative = session.exec(select(Flag.id).where(
        Flag.subject_type == SubjectType.client, Flag.subject_id == client.id,
        Flag.reason == FlagReason.negative_client, Flag.status == FlagStatus.open)).first()
    return suspension_hold_of(client, latest, negative_open=negative is not None)


def suspension_hold_of(client: Any, latest: Any, *, negative_open: bool) -> str | None:
    """``suspension_hold`` from what a caller has read: the client's latest contact
    (``latest``: an ``Outreach`` or a record of its columns, None if never contacted) and
    whether the client has an open negative-client flag."""
    if latest is not None and latest.outcome == OutreachOutcome.pending:
        if latest.rechecked_at is not None:
            return None  # not improved: the window has done its work
        return (f"{client.name} was contacted on {latest.created_at:%d %B %Y} and the "
                f"follow-up window ends on {latest.follow_up_due_at:%d %B %Y}: the policy "
                "is to suspend only a client who does not improve within it.")
    if negative_open:
        return (f"{client.name} has not been contacted about this pattern: the policy is to "
                "contact a consistently negative client first, and to suspend only one who "
                "does not improve within the follow-up window.")
    return None


@decision_use_case
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
    lock_client_case(session, client.id, [flag_id], posts=True)
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
                                except_id=flag.id if flag else None, now=now)
    post_states = []
    held = {post.id: holds.held(session, post) for post in posts}
    for post in posts:
        post_states.append({"id": post.id, "status": post.status, "judged": judged(post)})
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
        holds.settle(session, post, held[post.id], decision=decision, removed=True, now=now)
    closed_ids = [c["id"] for c in closed] + ([flag.id] if flag else [])
    notified = notices.write_for_suspension(session, decision=decision, client=client,
                                            posts=posts, closed_flag_ids=closed_ids,
                                            send_after=undo_ends(now), now=now)
    record(session, actor=actor, action="client.suspend", subject_type="client",
           subject_id=client.id, before=before,
           after={"status": client.status, "reason": reason, "posts_removed": len(posts),
                  "flags_closed": len(closed) + (1 if flag else 0), "decision": decision.id,
                  "policy_override": hold, "freelancers_notified": notified})
    flags.rerank(session, [client.id], now=now)  # the suspension's strike
    session.commit()
    return decision


@decision_use_case
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
