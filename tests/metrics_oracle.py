"""The dashboard's figures computed from the raw rows, as ``app/services/metrics.py`` did
before the rollups (one grouped query per figure over the window): the oracle the
rollup-based figures are checked against (tests/unit/test_metrics_rollups.py).

Two definitions follow the rollups': time to decision is from the flag to its *first*
closing human decision (counted on that decision's day), and precision counts each flag
once by its *latest* closing human decision (on that decision's day). Percentiles are
exact here (linear interpolation); the dashboard's come from a histogram.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from app.services.metrics import (AGE_BUCKETS, REASONS, Automation, Backlog, ByModerator,  # noqa: F401
                                  MetricsFilters, Precision, Quantiles, Series, wilson)
from app.services.queue import TARGET_HOURS
from app.services.rollups import VERDICTS
from models import Decision, DecisionAction, Flag, FlagReason, FlagStatus, Moderator, PolicyType, utcnow

A = DecisionAction
QUARTER = 900


# --- helpers -------------------------------------------------------------------------------


def _quarter(session: Session, column: Any) -> Any:
    """The UTC quarter of an hour of a timestamp column, as an integer (portable)."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", column) / QUARTER), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", column), sa.Integer) / QUARTER


@lru_cache(maxsize=1 << 16)
def _local_day(quarter: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(int(quarter) * QUARTER, timezone.utc).astimezone(zone).date()


def _per_day(session: Session, f: MetricsFilters, column: Any, keys: list[Any],
             where: list[Any]) -> dict[tuple, Counter]:
    """``{key values: Counter(local day -> rows)}`` for rows with ``column`` in the window."""
    start, end = f.window
    bucket = _quarter(session, column).label("q")
    stmt = (sa.select(*keys, bucket, sa.func.count().label("n"))
            .where(column >= start, column < end, *where)
            .group_by(*keys, bucket))
    out: dict[tuple, Counter] = defaultdict(Counter)
    for row in session.execute(stmt):
        *key, q, n = row
        key = tuple(tuple(k) if isinstance(k, list) else k for k in key)
        out[key][_local_day(q, f.zone)] += n
    return out


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _reason_filter(f: MetricsFilters) -> list[Any]:
    return [Flag.reason == f.reason] if f.reason else []


# --- the aggregates --------------------------------------------------------------------------


def inbound(session: Session, f: MetricsFilters) -> Series:
    """New flags per reason (and per policy type of policy flags) per local day."""
    counts = _per_day(session, f, Flag.created_at, [Flag.reason], _reason_filter(f))
    lines = {r: [counts.get((r,), Counter())[d] for d in f.days] for r in f.reasons}
    if FlagReason.policy in f.reasons:
        typed = _per_day(session, f, Flag.created_at, [Flag.policy_types],
                         [Flag.reason == FlagReason.policy])
        per_type: dict[str, Counter] = defaultdict(Counter)
        for (types,), days in typed.items():
            for t in types or []:
                per_type[t].update(days)
        for t in PolicyType:
            lines[f"policy: {t}"] = [per_type[t][d] for d in f.days]
    return Series(f.days, lines)


def backlog(session: Session, f: MetricsFilters, *, now: datetime | None = None) -> Backlog:
    """Open flags now by age (and how many are past their reason's target time, the SLA of
    the queue's ageing badges), and the open backlog at the end of each day of the window."""
    now = now or utcnow()
    created = Flag.created_at
    bucket = sa.case(*((created > now - timedelta(hours=top), i)
                       for i, (_, top) in enumerate(AGE_BUCKETS[:-1])),
                     else_=len(AGE_BUCKETS) - 1)
    late = sa.case(*((Flag.reason == r, created < now - timedelta(hours=h))
                     for r, h in TARGET_HOURS.items()), else_=created < now - timedelta(hours=24))
    ages = {r: [0] * len(AGE_BUCKETS) for r in f.reasons}
    over = dict.fromkeys(f.reasons, 0)
    for reason, b, is_late, n in session.execute(
            sa.select(Flag.reason, bucket, late, sa.func.count())
            .where(Flag.status == FlagStatus.open, *_reason_filter(f))
            .group_by(Flag.reason, bucket, late)):
        ages[reason][b] += n
        over[reason] += n if is_late else 0
    start, _end = f.window
    opened_before = session.execute(
        sa.select(sa.func.count()).select_from(Flag)
        .where(Flag.created_at < start, sa.or_(Flag.closed_at.is_(None), Flag.closed_at >= start),
               *_reason_filter(f))).scalar_one()
    opened = _per_day(session, f, Flag.created_at, [], _reason_filter(f)).get((), Counter())
    closed = _per_day(session, f, Flag.closed_at, [], _reason_filter(f)).get((), Counter())
    level, trend = opened_before, []
    for d in f.days:
        level += opened[d] - closed[d]
        trend.append(level)
    return Backlog(sla_hours={r: TARGET_HOURS.get(r, 24) for r in f.reasons}, ages=ages,
                   over_sla=over, trend=Series(f.days, {"open at end of day": trend}))


def _human_verdicts(f: MetricsFilters, *columns: Any):
    """Human decisions that close a flag (not undone), with their flag (any time)."""
    return (sa.select(*columns).select_from(Decision)
            .join(Flag, Flag.id == Decision.flag_id)
            .where(Decision.moderator_id.is_not(None), Decision.undone_at.is_(None),
                   Decision.action.in_(list(VERDICTS)), *_reason_filter(f)))


def time_to_decision(session: Session, f: MetricsFilters) -> list[Quantiles]:
    """Hours from the flag to its first closing human decision (decided in the window);
    percentiles interpolated linearly (PostgreSQL's percentile_cont, numpy elsewhere)."""
    first = _human_verdicts(f, Flag.reason, Flag.created_at.label("flagged"),
                            sa.func.min(Decision.created_at).label("decided")
                            ).group_by(Flag.id, Flag.reason, Flag.created_at)
    start, end = f.window
    first = sa.select(first.subquery()).subquery()
    first = sa.select(first).where(first.c.decided >= start, first.c.decided < end).subquery()
    out = {}
    if session.get_bind().dialect.name == "postgresql":
        hours = sa.extract("epoch", first.c.decided - first.c.flagged) / 3600.0
        for reason, n, p50, p90 in session.execute(
                sa.select(first.c.reason, sa.func.count(),
                          sa.func.percentile_cont(0.5).within_group(hours),
                          sa.func.percentile_cont(0.9).within_group(hours))
                .group_by(first.c.reason)):
            out[reason] = Quantiles(reason, n, float(p50), float(p90))
    else:
        per: dict[str, list[float]] = defaultdict(list)
        for reason, flagged, decided in session.execute(sa.select(first)):
            per[reason].append((_aware(decided) - _aware(flagged)).total_seconds() / 3600)
        out = {r: Quantiles(r, len(v), _percentile(v, 50), _percentile(v, 90))
               for r, v in per.items()}
    return [out.get(r, Quantiles(r, 0, None, None)) for r in f.reasons]


def precision(session: Session, f: MetricsFilters) -> list[Precision]:
    """Share of flags a human upheld (removed, recategorised, contacted, suspended) among
    those a human decided (upheld or dismissed) in the window, with its 95 % Wilson
    interval; each flag counts once, by its latest closing decision."""
    latest = _human_verdicts(f, sa.func.max(Decision.id)).group_by(Decision.flag_id)
    upheld_case = sa.case((Decision.action == A.dismiss, 0), else_=1)
    n: Counter = Counter()
    upheld: Counter = Counter()
    for reason, total, ups in session.execute(
            sa.select(Flag.reason, sa.func.count(), sa.func.sum(upheld_case))
            .select_from(Decision).join(Flag, Flag.id == Decision.flag_id)
            .where(Decision.id.in_(latest), Decision.created_at >= f.window[0],
                   Decision.created_at < f.window[1]).group_by(Flag.reason)):
        n[reason], upheld[reason] = total, int(ups or 0)
    out = []
    for r in f.reasons:
        ci = wilson(upheld[r], n[r])
        out.append(Precision(r, n[r], upheld[r], upheld[r] / n[r] if n[r] else None,
                             *(ci or (None, None))))
    return out


def decisions_by_moderator(session: Session, f: MetricsFilters) -> ByModerator:
    start, end = f.window
    stmt = (sa.select(Moderator.email, Decision.action, sa.func.count())
            .join(Moderator, Moderator.id == Decision.moderator_id)
            .where(Decision.created_at >= start, Decision.created_at < end,
                   Decision.undone_at.is_(None))
            .group_by(Moderator.email, Decision.action))
    if f.reason:
        stmt = stmt.join(Flag, Flag.id == Decision.flag_id).where(Flag.reason == f.reason)
    counts: dict[str, Counter] = defaultdict(Counter)
    for email, action, n in session.execute(stmt):
        counts[email][action] += n
    actions = [a for a in DecisionAction if any(c[a] for c in counts.values())]
    return ByModerator(actions, [(e, [counts[e][a] for a in actions]) for e in sorted(counts)])


def automation(session: Session, f: MetricsFilters) -> Automation:
    """Flags closed in the window: by a human decision, or by the system (the worker's
    rescoring, a follow-up re-check) without one."""
    start, end = f.window
    human = sa.exists().where(Decision.flag_id == Flag.id, Decision.moderator_id.is_not(None),
                              Decision.undone_at.is_(None))
    stmt = (sa.select(human.label("human"), sa.func.count()).select_from(Flag)
            .where(Flag.closed_at >= start, Flag.closed_at < end, *_reason_filter(f))
            .group_by(human))
    counts = {bool(h): n for h, n in session.execute(stmt)}
    return Automation(human=counts.get(True, 0), automated=counts.get(False, 0))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def ttd_hours(session: Session, f: MetricsFilters) -> dict[str, list[float]]:
    """The hours behind ``time_to_decision``, sorted, per reason."""
    first = _human_verdicts(f, Flag.reason, Flag.created_at.label("flagged"),
                            sa.func.min(Decision.created_at).label("decided")
                            ).group_by(Flag.id, Flag.reason, Flag.created_at).subquery()
    start, end = f.window
    per: dict[str, list[float]] = defaultdict(list)
    for reason, flagged, decided in session.execute(
            sa.select(first).where(first.c.decided >= start, first.c.decided < end)):
        per[reason].append((_aware(decided) - _aware(flagged)).total_seconds() / 3600)
    return {r: sorted(v) for r, v in per.items()}
