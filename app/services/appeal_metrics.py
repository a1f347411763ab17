"""The metrics dashboard's appeal figures: per reason of the contested decision, how many
appeals were decided in the window, upheld and overturned, the overturn rate (a quality
signal: the decisions that do not stand) with its 95 % Wilson interval, and the time from
the appeal to its decision (median and 90th percentile, hours). One grouped read."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from models import Appeal, AppealStatus, Decision, Flag

from .strikes import strike_reason


@dataclass(frozen=True)
class AppealOutcome:
    reason: str                  # the removal reason code, "recategorise" or "suspend"
    decided: int
    upheld: int
    overturned: int
    overturn_rate: float | None
    low: float | None
    high: float | None
    p50_hours: float | None
    p90_hours: float | None


def _reason(action: str, details: dict | None) -> str:
    return action if action == "recategorise" else strike_reason(action, details)


def outcomes(session: Session, *, start: datetime, end: datetime, flag_reason: str = "",
             wilson=None) -> list[AppealOutcome]:  # noqa: ANN001
    """Appeals decided in [start, end) (``flag_reason``: only decisions on such flags);
    ``wilson(successes, n)`` gives the interval (metrics.wilson)."""
    stmt = (sa.select(Appeal.status, Appeal.created_at, Appeal.decided_at, Decision.action,
                      Decision.details)
            .join(Decision, Decision.id == Appeal.decision_id)
            .where(Appeal.status != AppealStatus.pending, Appeal.decided_at >= start,
                   Appeal.decided_at < end))
    if flag_reason:
        stmt = stmt.join(Flag, Flag.id == Decision.flag_id).where(Flag.reason == flag_reason)
    hours: dict[str, list[float]] = defaultdict(list)
    overturned: dict[str, int] = defaultdict(int)
    for status, created, decided, action, details in session.execute(stmt):
        reason = _reason(action, details)
        hours[reason].append((decided - created).total_seconds() / 3600)
        overturned[reason] += status == AppealStatus.overturned
    out = []
    for reason in sorted(hours):
        n, over = len(hours[reason]), overturned[reason]
        low, high = (wilson(over, n) if wilson else None) or (None, None)
        out.append(AppealOutcome(reason, n, n - over, over, over / n, low, high,
                                 float(np.percentile(hours[reason], 50)),
                                 float(np.percentile(hours[reason], 90))))
    return out
