"""Corrections of a decision that stands (not undos: those are ``undo_actions``): a removed
post live again, a suspended client active again, a moved post back in its category. One
writer each, shared by the QA adjudication (``services.qa``) and the appeals
(``services.appeals``); each adds a decision, the marketplace event and the audit event to
the caller's transaction (the caller holds the subject's locks and commits).

A correction names the decision it reverses (``reverses``: kept in its details), so that
decision stops counting as a strike (``services.strikes``), and re-ranks the client's open
flags (``flags.rerank``). Before reversing, a caller asks ``later_standing``: a removal or
suspension taken after the corrected one, and standing, that put the subject in its
current state must not be reversed with it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from models import Client, ClientStatus, Decision, JobPost, PostStatus

from .. import flags
from ..audit import Actor, record
from .common import A, _client_event, _decision, _post_event
from .post_actions import _set_category


def reinstate_post(session: Session, post: JobPost, *, actor: Actor, reason: str,
                   details: dict[str, Any], event_reason: str, now: datetime,
                   reverses: int | None, status: str = PostStatus.live) -> Decision:
    """The removed post back to ``status`` (live): a ``reinstate`` decision on the post,
    reversing the decision ``reverses`` (the removal, or None: a suspension's)."""
    before = {"post": post.status}
    post.status = status
    post.updated_at = now
    session.add(post)
    client = session.get(Client, post.client_id)
    decision = _decision(session, action=A.reinstate, flag=None, client_id=client.id,
                         post_id=post.id, actor=actor, reason=reason,
                         details={**details, "before": before, "reverses": reverses}, now=now)
    flags.rerank(session, [client.id], now=now)
    _post_event(session, "post.reinstated", post, client, decision=decision.id,
                reason=event_reason)
    record(session, actor=actor, action="post.reinstate", subject_type="post",
           subject_id=post.id, before=before, after={"post": post.status, "decision": decision.id})
    return decision


def reinstate_client(session: Session, client: Client, *, actor: Actor, reason: str,
                     details: dict[str, Any], event_reason: str, now: datetime,
                     reverses: int | None, posts: list[tuple[JobPost, str]] = ()) -> Decision:
    """The suspended client active again; ``posts`` (post, status to restore) are put back
    too - the QA adjudication restores none (removed posts stay removed), an overturned
    suspension restores the posts it took down."""
    before = {"status": client.status}
    client.status = ClientStatus.active
    client.status_changed_at = client.updated_at = now
    session.add(client)
    session.flush()
    decision = _decision(session, action=A.reinstate, flag=None, client_id=client.id,
                         post_id=None, actor=actor, reason=reason,
                         details={**details, "before": before, "reverses": reverses,
                                  "posts": [p.id for p, _ in posts]}, now=now)
    _client_event(session, "client.reinstated", client, decision=decision.id,
                  reason=event_reason)
    for post, status in posts:
        post.status = status
        post.updated_at = now
        session.add(post)
        _post_event(session, "post.reinstated", post, client, decision=decision.id,
                    reason=event_reason)
    flags.rerank(session, [client.id], now=now)
    record(session, actor=actor, action="client.reinstate", subject_type="client",
           subject_id=client.id, before=before,
           after={"status": client.status, "decision": decision.id,
                  "posts_reinstated": [p.id for p, _ in posts]})
    return decision


def restore_category(session: Session, post: JobPost, category: str | None, *, actor: Actor,
                     reason: str, details: dict[str, Any], event_reason: str,
                     now: datetime) -> Decision:
    """The post back in ``category`` (a recategorisation reversed)."""
    before = {"category": post.category}
    _set_category(session, post, category, now)
    client = session.get(Client, post.client_id)
    decision = _decision(session, action=A.recategorise, flag=None, client_id=client.id,
                         post_id=post.id, actor=actor, reason=reason,
                         details={**details, "from": before["category"], "to": category,
                                  "before": before}, now=now)
    _post_event(session, "post.recategorised", post, client, category=category,
                previous_category=before["category"], decision=decision.id,
                reason=event_reason, notice="The earlier category change was reverted.")
    record(session, actor=actor, action="post.recategorise", subject_type="post",
           subject_id=post.id, before=before,
           after={"category": category, "decision": decision.id})
    return decision


# --- what stands ------------------------------------------------------------------------------

def _standing_suspensions(session: Session, client_id: int, after: int = 0) -> list[Decision]:
    return list(session.exec(select(Decision).where(
        Decision.client_id == client_id, Decision.action == A.suspend,
        Decision.undone_at.is_(None), Decision.id > after).order_by(Decision.id.desc())))


def removed_by(session: Session, post: JobPost) -> Decision | None:
    """The standing decision that took the removed ``post`` down: its newest removal not
    undone, or a suspension of its client since that listed it (None if the post is not
    removed, or nothing standing did it)."""
    if post.status != PostStatus.removed:
        return None
    removal = session.exec(select(Decision).where(
        Decision.post_id == post.id, Decision.action == A.remove,
        Decision.undone_at.is_(None)).order_by(Decision.id.desc())).first()
    for suspension in _standing_suspensions(session, post.client_id,
                                            removal.id if removal else 0):
        if post.id in {item.get("id") for item in (suspension.details or {}).get("posts", [])}:
            return suspension
    return removal


def suspended_by(session: Session, client: Client) -> Decision | None:
    """The standing suspension the suspended ``client`` is under (its newest)."""
    if client.status != ClientStatus.suspended:
        return None
    found = _standing_suspensions(session, client.id)
    return found[0] if found else None


def later_standing(session: Session, decision: Decision) -> Decision | None:
    """A decision taken after ``decision`` that stands and holds its subject where
    ``decision`` had put it - the post removed again (by a removal or a suspension), the
    client suspended again - so reversing ``decision`` must leave the subject alone."""
    if decision.action == A.remove and decision.post_id is not None:
        cause = removed_by(session, session.get(JobPost, decision.post_id))
    elif decision.action == A.suspend:
        cause = suspended_by(session, session.get(Client, decision.client_id))
    else:
        return None
    return cause if cause is not None and cause.id > decision.id else None
