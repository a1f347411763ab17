"""Claims on a subject's open flags (advisory) and their reassignment by an admin."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Flag, FlagStatus, Moderator, Role, SubjectType, utcnow

from .. import ServiceError
from ..audit import Actor, record
from .common import InvalidTransition, claim_minutes, _require_admin, lock_subject


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
    lock_subject(session, subject_type, subject_id)  # in the decisions' order: no deadlock
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
    lock_subject(session, subject_type, subject_id)
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
    lock_subject(session, subject_type, subject_id)
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
