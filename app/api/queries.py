"""Read-only queries behind the API's GET endpoints (no writes, no commits)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models import (Client, ClientStatus, Decision, DecisionAction, Feedback, Flag, FlagStatus,
                    JobPost, PostStatus)

from ..services import holds
from .schemas import FlagOut, FlagQuery

_FlagPost = aliased(JobPost)


def _flag_rows(session: Session, *conditions: Any, limit: int | None = None,
               after: int | None = None) -> list[FlagOut]:
    stmt = (select(Flag, Client.external_id, _FlagPost.external_id)
            .join(Client, Client.id == Flag.client_id)
            .outerjoin(_FlagPost, _FlagPost.id == Flag.post_id)
            .where(*conditions).order_by(Flag.id))
    if after is not None:
        stmt = stmt.where(Flag.id > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    out = []
    for flag, client_ext, post_ext in session.execute(stmt):
        subject = post_ext if flag.subject_type == "post" else client_ext
        out.append(FlagOut.model_validate({
            **flag.model_dump(), "subject_id": subject, "client_id": client_ext,
            "post_id": post_ext}))
    return out


def post(session: Session, external_id: str) -> tuple[JobPost, str, list[FlagOut], str | None] | None:
    """The post, its client's external id, its open flags, and why it was removed (None
    while it is not)."""
    row = session.execute(select(JobPost, Client.external_id, Client.status)
                          .join(Client, Client.id == JobPost.client_id)
                          .where(JobPost.external_id == external_id)).first()
    if row is None:
        return None
    post_row, client_ext, client_status = row
    flags = _flag_rows(session, Flag.subject_type == "post", Flag.subject_id == post_row.id,
                       Flag.status == FlagStatus.open)
    return post_row, client_ext, flags, _removal_reason(session, post_row, client_status)


def _removal_reason(session: Session, post_row: JobPost, client_status: str) -> str | None:
    """The reason of the removal in force (the post.removed webhook's ``reason``): the
    latest removal not undone, else the client's suspension."""
    if post_row.status != PostStatus.removed:
        return None
    details = session.scalars(select(Decision.details).where(
        Decision.post_id == post_row.id, Decision.action == DecisionAction.remove,
        Decision.undone_at.is_(None)).order_by(Decision.id.desc()).limit(1)).first()
    if details and details.get("reason_code"):
        return details["reason_code"]
    return "client_suspended" if client_status == ClientStatus.suspended else None


def post_hold(session: Session, post_id: int) -> dict[str, Any] | None:
    """The post's automatic hold in force (``HoldOut``'s fields), or None."""
    hold = holds.current(session, post_id)
    if hold is None:
        return None
    return {"held_at": hold.held_at, "reason": hold.tier_key, "precision": hold.precision,
            "precision_lower_bound": hold.lower_bound, "decisions": hold.decisions}


def client(session: Session, external_id: str) -> tuple[Client, list[FlagOut]] | None:
    """The client and its open client-level flags."""
    row = session.scalars(select(Client).where(Client.external_id == external_id)).first()
    if row is None:
        return None
    flags = _flag_rows(session, Flag.subject_type == "client", Flag.subject_id == row.id,
                       Flag.status == FlagStatus.open)
    return row, flags


def feedback_client(session: Session, feedback_id: int) -> tuple[Feedback, str]:
    return session.execute(select(Feedback, Client.external_id)
                           .join(Client, Client.id == Feedback.client_id)
                           .where(Feedback.id == feedback_id)).one()  # type: ignore[return-value]


def flags(session: Session, query: FlagQuery) -> tuple[list[FlagOut], str | None]:
    """One page of flags in id order (keyset pagination: ``id > cursor``)."""
    conditions: list[Any] = []
    if query.status is not None:
        conditions.append(Flag.status == query.status.value)
    if query.reason is not None:
        conditions.append(Flag.reason == query.reason.value)
    if query.subject is not None:
        kind, _, external_id = query.subject.partition(":")
        conditions.append(Flag.subject_type == kind)
        if external_id:
            target = JobPost if kind == "post" else Client
            conditions.append(Flag.subject_id.in_(
                select(target.id).where(target.external_id == external_id)))
    rows = _flag_rows(session, *conditions, limit=query.limit + 1, after=query.cursor)
    next_cursor = str(rows[query.limit - 1].id) if len(rows) > query.limit else None
    return rows[:query.limit], next_cursor
