"""Corrections of a decision that stands (not undos: those are ``undo_actions``): a removed
post live again, a suspended client active again, a moved post back in its category. One
writer each, shared by the QA adjudication (``services.qa``) and the appeals
(``services.appeals``); each adds a decision, the marketplace event and the audit event to
the caller's transaction (the caller holds the subject's locks and commits)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import Client, ClientStatus, Decision, JobPost, PostStatus

from ..audit import Actor, record
from .common import A, _client_event, _decision, _post_event
from .post_actions import _set_category


def reinstate_post(session: Session, post: JobPost, *, actor: Actor, reason: str,
                   details: dict[str, Any], event_reason: str, now: datetime,
                   status: str = PostStatus.live) -> Decision:
    """The removed post back to ``status`` (live): a ``reinstate`` decision on the post."""
    before = {"post": post.status}
    post.status = status
    post.updated_at = now
    session.add(post)
    client = session.get(Client, post.client_id)
    decision = _decision(session, action=A.reinstate, flag=None, client_id=client.id,
                         post_id=post.id, actor=actor, reason=reason,
                         details={**details, "before": before}, now=now)
    _post_event(session, "post.reinstated", post, client, decision=decision.id,
                reason=event_reason)
    record(session, actor=actor, action="post.reinstate", subject_type="post",
           subject_id=post.id, before=before, after={"post": post.status, "decision": decision.id})
    return decision


def reinstate_client(session: Session, client: Client, *, actor: Actor, reason: str,
                     details: dict[str, Any], event_reason: str, now: datetime,
                     posts: list[tuple[JobPost, str]] = ()) -> Decision:
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
                         details={**details, "before": before,
                                  "posts": [p.id for p, _ in posts]}, now=now)
    _client_event(session, "client.reinstated", client, decision=decision.id,
                  reason=event_reason)
    for post, status in posts:
        post.status = status
        post.updated_at = now
        session.add(post)
        _post_event(session, "post.reinstated", post, client, decision=decision.id,
                    reason=event_reason)
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
