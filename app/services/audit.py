"""Writing the audit log. Adds rows to the caller's transaction; never commits."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import AuditEvent, Moderator


@dataclass(frozen=True)
class Actor:
    """Who is acting: a moderator, or the system (worker, CLI, API token)."""

    label: str
    moderator_id: int | None = None

    @classmethod
    def of(cls, moderator: Moderator) -> Actor:
        return cls(label=f"moderator:{moderator.email}", moderator_id=moderator.id)


SYSTEM = Actor("system")
CLI = Actor("cli")


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor.label,
        actor_id=actor.moderator_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=before,
        after=after,
    )
    session.add(event)
    return event
