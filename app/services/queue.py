"""Reading the review queue."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from models import Flag, FlagReason, FlagStatus


@dataclass(frozen=True)
class QueueSummary:
    counts: dict[str, int]
    flags: list[Flag]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def summary(session: Session, *, limit: int) -> QueueSummary:
    rows = session.exec(
        select(Flag.reason, func.count())
        .where(Flag.status == FlagStatus.open)
        .group_by(Flag.reason)
    ).all()
    counts = {reason.value: 0 for reason in FlagReason}
    counts.update({reason: n for reason, n in rows})
    flags = session.exec(
        select(Flag).where(Flag.status == FlagStatus.open)
        .order_by(Flag.priority.desc(), Flag.id).limit(limit)
    ).all()
    return QueueSummary(counts=counts, flags=list(flags))
