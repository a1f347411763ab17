"""A moderator's own history: their decisions, how many they undid, and how often a second,
blind reviewer agreed with them (reviewer QA)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Decision, Moderator, QaReview

from . import NotFound
from .qa import Agreement, kappa

PAGE = 100


@dataclass(frozen=True)
class History:
    moderator: Moderator
    decisions: list[Decision]
    total: int
    undone: int
    #: QA of their decisions (they decided first), and of the cases they reviewed second
    as_decider: Agreement
    as_reviewer: Agreement

    @property
    def undo_rate(self) -> float | None:
        return self.undone / self.total if self.total else None


def _agreement(session: Session, who: str, column) -> Agreement:  # noqa: ANN001
    pairs = session.execute(sa.select(QaReview.first_label, QaReview.review_label)
                            .where(column == who, QaReview.review_label.is_not(None))).all()
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    agreed = sum(a == b for a, b in pairs)
    return Agreement("decider" if column is QaReview.first_moderator_id else "reviewer",
                     len(pairs), agreed, agreed / len(pairs) if pairs else None,
                     kappa(first, second))


def of(session: Session, moderator_id: int, *, limit: int = PAGE) -> History:
    moderator = session.get(Moderator, moderator_id)
    if moderator is None:
        raise NotFound("no such moderator")
    decisions = list(session.exec(select(Decision).where(Decision.moderator_id == moderator_id)
                                  .order_by(Decision.id.desc()).limit(limit)))
    total, undone = session.execute(
        sa.select(sa.func.count(), sa.func.count(Decision.undone_at))
        .where(Decision.moderator_id == moderator_id)).one()
    return History(moderator, decisions, total, undone,
                   _agreement(session, moderator_id, QaReview.first_moderator_id),
                   _agreement(session, moderator_id, QaReview.reviewer_id))
