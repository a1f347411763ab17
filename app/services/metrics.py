"""The oversight dashboard's aggregates (``/metrics``): volume, backlog, time to decision,
decisions per moderator, automated vs human share, precision per reason, client outcomes
after contact, reviewer agreement (``qa``) and the model versions.

Days are *local* days of the viewer's time zone (``MetricsFilters.tz``): the database
counts rows per UTC quarter of an hour (one portable expression on SQLite and PostgreSQL,
at most 96 groups a day), and each quarter is put in its local day here, which is exact
for every time zone (all offsets in use are whole quarters of an hour). Days without rows
are listed with zeros.

The counts come from the pre-aggregated ``metrics_rollup`` (``rollups``: one row per UTC
quarter of an hour x kind x reason x dimension, kept in step by the writes in their own
transaction): volume, backlog trend, time to decision (a histogram: p50/p90 are
interpolated within its buckets), decisions per moderator, automated vs human, precision.
The open backlog's ages are one bounded query on the open flags (index
``ix_flag_open_age``); client outcomes and reviewer agreement read their own small tables.
``bench/metrics_dashboard.py`` measures the page; ``tests/metrics_oracle.py`` keeps the
raw-row queries the rollups are checked against.
"""
from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from statistics import NormalDist
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from models import (DecisionAction, Flag, FlagReason, FlagStatus, MetricsRollup, ModelVersion,
                    Moderator, Outreach, OutreachOutcome, PolicyType, utcnow)

from . import ServiceError, appeal_metrics, qa, rollups
from .audit_log import _cell
from .queue import TARGET_HOURS
from .rollups import QUARTER, TTD_EDGES, VERDICTS  # noqa: F401  (VERDICTS: re-exported)

A = DecisionAction
R = MetricsRollup
MAX_DAYS = 366
DEFAULT_DAYS = 30
#: backlog age buckets: (label, upper bound in hours)
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 1), ("1-4 h", 4), ("4-12 h", 12), ("12-24 h", 24), ("1-3 days", 72),
    ("> 3 days", float("inf")))
REASONS = tuple(FlagReason)


@dataclass(frozen=True)
class MetricsFilters:
    date_from: date
    date_to: date
    tz: str = "UTC"
    reason: str = ""

    @classmethod
    def from_args(cls, args: Any, *, today: date | None = None) -> MetricsFilters:
        """From query arguments; a malformed value is a ``ServiceError`` (a 400)."""
        tz = (args.get("tz") or "UTC").strip()
        if tz not in _ZONES:
            raise ServiceError(f"unknown time zone {tz[:64]!r} (use an IANA name such as "
                               "Europe/Berlin)")
        today = today or utcnow().astimezone(ZoneInfo(tz)).date()

        def day(name: str, default: date) -> date:
            raw = (args.get(name) or "").strip()
            if not raw:
                return default
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise ServiceError(f"{name} must be a date (YYYY-MM-DD), got {raw[:32]!r}")

        date_to = day("date_to", today)
        date_from = day("date_from", date_to - timedelta(days=DEFAULT_DAYS - 1))
        if date_from > date_to:
            raise ServiceError("date_from must not be after date_to")
        if (date_to - date_from).days + 1 > MAX_DAYS:
            raise ServiceError(f"choose at most {MAX_DAYS} days")
        reason = (args.get("reason") or "").strip()
        if reason and reason not in REASONS:
            raise ServiceError(f"unknown reason {reason[:32]!r}")
        return cls(date_from=date_from, date_to=date_to, tz=tz, reason=reason)

    def as_args(self) -> dict[str, str]:
        out = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
               "tz": self.tz, "reason": self.reason}
        return {k: v for k, v in out.items() if v}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def days(self) -> list[date]:
        n = (self.date_to - self.date_from).days + 1
        return [self.date_from + timedelta(days=i) for i in range(n)]

    @property
    def window(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of ``date_from`` to the one after ``date_to``."""
        zone = self.zone
        start = datetime.combine(self.date_from, time(), zone).astimezone(timezone.utc)
        end = datetime.combine(self.date_to + timedelta(days=1), time(), zone)
        return start, end.astimezone(timezone.utc)

    @property
    def reasons(self) -> tuple[str, ...]:
        return (self.reason,) if self.reason else REASONS


_ZONES = frozenset(available_timezones()) | {"UTC"}


# --- helpers -------------------------------------------------------------------------------

@lru_cache(maxsize=1 << 16)
def _local_day(quarter: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(int(quarter) * QUARTER, timezone.utc).astimezone(zone).date()


def _rolled(session: Session, f: MetricsFilters, kind: str, *dims: Any, by: Any = None,
            before: bool = False) -> list[sa.Row]:
    """Sums of ``kind``'s rollup counts in the window (``before``: before it) grouped by
    ``dims`` (first by ``by``, e.g. the quarter), for the filter's reason."""
    start, end = (rollups.quarter_of(t) for t in f.window)
    keys = [by, *dims] if by is not None else list(dims)
    span = [R.quarter < start] if before else [R.quarter >= start, R.quarter < end]
    stmt = sa.select(*keys, sa.func.sum(R.n)).where(R.kind == kind, *span)
    if f.reason:
        stmt = stmt.where(R.reason == f.reason)
    if keys:  # (a count undone to 0 is no row)
        stmt = stmt.group_by(*keys).having(sa.func.sum(R.n) != 0)
    return session.execute(stmt).all()


def _per_day(session: Session, f: MetricsFilters, kind: str, *dims: Any) -> dict[Any, Counter]:
    """``{dimension: Counter(local day -> count)}`` of one kind in the window (PostgreSQL
    puts each quarter in its local day itself; elsewhere ``_local_day`` does)."""
    out: dict[Any, Counter] = defaultdict(Counter)
    if session.get_bind().dialect.name == "postgresql" and _postgres_knows(session, f.tz):
        local = sa.func.timezone(f.tz, sa.func.to_timestamp(R.quarter * QUARTER))
        for day, *key, n in _rolled(session, f, kind, *dims, by=sa.cast(local, sa.Date)):
            out[key[0] if key else None][day] += int(n)
        return out
    for q, *key, n in _rolled(session, f, kind, *dims, by=R.quarter):
        out[key[0] if key else None][_local_day(q, f.zone)] += int(n)
    return out


_PG_ZONES: dict[str, bool] = {}


def _postgres_knows(session: Session, tz: str) -> bool:
    """Whether PostgreSQL's own time zone data has ``tz`` (Python's may be newer); once
    per zone and process."""
    if tz not in _PG_ZONES:
        _PG_ZONES[tz] = bool(session.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :tz)"), {"tz": tz}
        ).scalar())
    return _PG_ZONES[tz]


def quantile(histogram: Counter, q: float) -> float | None:
    """The ``q`` quantile (0-1) in hours of a time-to-decision histogram (``TTD_EDGES``),
    interpolated linearly between two ranks as numpy does, each rank's value placed evenly
    inside its bucket (the open-ended last bucket answers its lower edge): off the exact
    value by at most the width of the buckets those ranks fall in."""
    n = sum(histogram.values())
    if not n:
        return None
    buckets = sorted(histogram)

    def value(rank: int) -> float:
        seen = 0
        for bucket in buckets:
            count = histogram[bucket]
            if rank < seen + count:
                low = TTD_EDGES[bucket - 1] if bucket else 0
                if bucket >= len(TTD_EDGES):
                    return low
                return low + (TTD_EDGES[bucket] - low) * (rank - seen + .5) / count
            seen += count
        return float(TTD_EDGES[-1])

    rank = q * (n - 1)
    below = int(rank)
    low = value(below)
    high = value(below + 1) if below + 1 < n else low
    return (low + (high - low) * (rank - below)) / 60


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None without observations)."""
    if n == 0:
        return None
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _reason_filter(f: MetricsFilters) -> list[Any]:
    return [Flag.reason == f.reason] if f.reason else []


def _open_after(session: Session, f: MetricsFilters,
                cutoffs: list[tuple[datetime, bool]]) -> dict[str, Counter]:
    """``{reason: Counter({None: open flags, (cutoff, inclusive): open flags created after
    it})}``: the quarters after each cutoff's from the rollup (kind ``open``), the part of
    the cutoff's own quarter after it from the open flags themselves (a range of the index
    ``ix_flag_open_age``): exact, and bounded by the quarters, not by the open flags."""
    out: dict[str, Counter] = {r: Counter() for r in f.reasons}
    sums = [sa.func.sum(R.n)] + [
        sa.func.sum(sa.case((R.quarter > rollups.quarter_of(t), R.n), else_=0))
        for t, _ in cutoffs]
    stmt = sa.select(R.reason, *sums).where(R.kind == rollups.OPEN).group_by(R.reason)
    for reason, total, *counts in session.execute(
            stmt.where(R.reason == f.reason) if f.reason else stmt):
        if reason in out:
            out[reason][None] = int(total or 0)
            for cutoff, n in zip(cutoffs, counts):
                out[reason][cutoff] = int(n or 0)
    edges = [(t, datetime.fromtimestamp((rollups.quarter_of(t) + 1) * QUARTER, timezone.utc),
              inclusive) for t, inclusive in cutoffs]
    part = [sa.and_(Flag.created_at >= t if inclusive else Flag.created_at > t,
                    Flag.created_at < end) for t, end, inclusive in edges]
    rows = session.execute(
        sa.select(Flag.reason, *(sa.func.sum(sa.case((p, 1), else_=0)) for p in part))
        .where(Flag.status == FlagStatus.open, sa.or_(*part), *_reason_filter(f))
        .group_by(Flag.reason))
    for reason, *counts in rows:
        if reason in out:
            for cutoff, n in zip(cutoffs, counts):
                out[reason][cutoff] += int(n or 0)
    return out


# --- the aggregates --------------------------------------------------------------------------

@dataclass
class Series:
    """Counts per local day for a few named lines (a chart and its table)."""
    days: list[date]
    lines: dict[str, list[int]]

    def rows(self) -> list[list[Any]]:
        return [[d.isoformat(), *(self.lines[k][i] for k in self.lines)]
                for i, d in enumerate(self.days)]


def inbound(session: Session, f: MetricsFilters) -> Series:
    """New flags per reason (and per policy type of policy flags) per local day."""
    counts = _per_day(session, f, rollups.INBOUND, R.reason)
    lines = {r: [counts[r][d] for d in f.days] for r in f.reasons}
    if FlagReason.policy in f.reasons:
        per_type = _per_day(session, f, rollups.INBOUND_TYPE, R.dim1)
        for t in PolicyType:
            lines[f"policy: {t}"] = [per_type[t][d] for d in f.days]
    return Series(f.days, lines)


@dataclass
class Backlog:
    sla_hours: dict[str, float]
    #: reason -> counts per AGE_BUCKETS label
    ages: dict[str, list[int]]
    over_sla: dict[str, int]
    trend: Series  # open flags at the end of each local day

    def rows(self) -> list[list[Any]]:
        return [[r, self.sla_hours[r], sum(c), self.over_sla[r], *c]
                for r, c in self.ages.items()]


def backlog(session: Session, f: MetricsFilters, *, now: datetime | None = None) -> Backlog:
    """Open flags now by age (and how many are past their reason's target time, the SLA of
    the queue's ageing badges), and the open backlog at the end of each day of the window."""
    now = now or utcnow()
    tops = [now - timedelta(hours=top) for _, top in AGE_BUCKETS[:-1]]
    slas = {r: now - timedelta(hours=TARGET_HOURS.get(r, 24)) for r in f.reasons}
    # open flags created after each age cutoff (strictly) and at or after each SLA cutoff
    after = _open_after(session, f, [(t, False) for t in tops] + [(t, True) for t in slas.values()])
    ages, over = {}, {}
    for r in f.reasons:
        total = after[r][None]
        newer = [after[r][(t, False)] for t in tops]
        ages[r] = [newer[0], *(b - a for a, b in zip(newer, newer[1:])), total - newer[-1]]
        over[r] = total - after[r][(slas[r], True)]
    # open at the start: flags created before it minus those closed before it
    level = sum(int(n or 0) for (n,) in _rolled(session, f, rollups.INBOUND, before=True)) - sum(
        int(n or 0) for (n,) in _rolled(session, f, rollups.CLOSED, before=True))
    opened = _per_day(session, f, rollups.INBOUND)[None]
    closed = _per_day(session, f, rollups.CLOSED)[None]
    trend = []
    for d in f.days:
        level += opened[d] - closed[d]
        trend.append(level)
    return Backlog(sla_hours={r: TARGET_HOURS.get(r, 24) for r in f.reasons}, ages=ages,
                   over_sla=over, trend=Series(f.days, {"open at end of day": trend}))


@dataclass
class Quantiles:
    reason: str
    n: int
    p50_hours: float | None
    p90_hours: float | None


def time_to_decision(session: Session, f: MetricsFilters) -> list[Quantiles]:
    """Hours from the flag to its first closing human decision (counted on the day of that
    decision); p50/p90 from the histogram (exact to its bucket, see ``quantile``)."""
    per: dict[str, Counter] = defaultdict(Counter)
    for reason, bucket, n in _rolled(session, f, rollups.TTD, R.reason, R.dim1):
        per[reason][int(bucket)] += int(n)
    return [Quantiles(r, sum(per[r].values()), quantile(per[r], .5), quantile(per[r], .9))
            for r in f.reasons]


@dataclass
class Precision:
    reason: str
    n: int
    upheld: int
    precision: float | None
    low: float | None
    high: float | None


def precision(session: Session, f: MetricsFilters) -> list[Precision]:
    """Share of flags a human upheld (removed, recategorised, contacted, suspended) among
    those a human decided (upheld or dismissed), with its 95 % Wilson interval; each flag
    counts once, by its latest closing human decision, on that decision's day."""
    n: Counter = Counter()
    upheld: Counter = Counter()
    for reason, verdict, count in _rolled(session, f, rollups.VERDICT, R.reason, R.dim1):
        n[reason] += int(count)
        upheld[reason] += int(count) if verdict == "upheld" else 0
    out = []
    for r in f.reasons:
        ci = wilson(upheld[r], n[r])
        out.append(Precision(r, n[r], upheld[r], upheld[r] / n[r] if n[r] else None,
                             *(ci or (None, None))))
    return out


@dataclass
class ByModerator:
    actions: list[str]
    #: (moderator e-mail, counts per action)
    rows: list[tuple[str, list[int]]]


def decisions_by_moderator(session: Session, f: MetricsFilters) -> ByModerator:
    """Decisions (not undone) per moderator and action; with a reason, those on its flags."""
    per: dict[int, Counter] = defaultdict(Counter)
    for moderator, action, n in _rolled(session, f, rollups.DECISION, R.dim1, R.dim2):
        per[int(moderator)][action] += int(n)
    emails = {i: e for i, e in session.execute(sa.select(Moderator.id, Moderator.email)
                                               .where(Moderator.id.in_(list(per))))}
    counts: dict[str, Counter] = defaultdict(Counter)
    for moderator, c in per.items():
        if moderator in emails:
            counts[emails[moderator]].update(c)
    actions = [a for a in DecisionAction if any(c[a] for c in counts.values())]
    return ByModerator(actions, [(e, [counts[e][a] for a in actions]) for e in sorted(counts)])


@dataclass
class Automation:
    human: int
    automated: int

    @property
    def human_share(self) -> float | None:
        total = self.human + self.automated
        return self.human / total if total else None


def automation(session: Session, f: MetricsFilters) -> Automation:
    """Flags closed in the window: by a human decision, or by the system (the worker's
    rescoring, a follow-up re-check) without one."""
    counts = {by: int(n) for by, n in _rolled(session, f, rollups.AUTOMATION, R.dim1)}
    return Automation(human=counts.get("human", 0), automated=counts.get("automated", 0))


@dataclass
class Outcomes:
    improved: int
    not_improved: int
    pending: int
    n_improved_timed: int
    median_days_to_improvement: float | None


def outcomes(session: Session, f: MetricsFilters) -> Outcomes:
    """Clients contacted in the window: improved, not improved (the re-check found no
    improvement, or they were suspended), pending; days from contact to improvement."""
    if f.reason and f.reason != FlagReason.negative_client:
        return Outcomes(0, 0, 0, 0, None)
    start, end = f.window
    rows = session.execute(
        sa.select(Outreach.outcome, Outreach.rechecked_at, Outreach.created_at, Outreach.outcome_at)
        .where(Outreach.created_at >= start, Outreach.created_at < end)).all()
    improved = not_improved = pending = 0
    days = []
    for outcome, rechecked, created, outcome_at in rows:
        if outcome == OutreachOutcome.improved:
            improved += 1
            if outcome_at is not None:
                days.append((_aware(outcome_at) - _aware(created)).total_seconds() / 86400)
        elif outcome == OutreachOutcome.suspended or rechecked is not None:
            not_improved += 1
        else:
            pending += 1
    return Outcomes(improved, not_improved, pending, len(days), _percentile(days, 50))


def model_versions(session: Session) -> list[ModelVersion]:
    return list(session.exec(select(ModelVersion).order_by(ModelVersion.created_at,
                                                            ModelVersion.id)))


class Dashboard:
    """Every aggregate of the page for one set of filters, each computed when first read
    (a CSV export computes only its own table)."""

    def __init__(self, session: Session, f: MetricsFilters, now: datetime | None = None):
        self.session, self.filters, self.now = session, f, now

    @cached_property
    def inbound(self) -> Series:
        return inbound(self.session, self.filters)

    @cached_property
    def backlog(self) -> Backlog:
        return backlog(self.session, self.filters, now=self.now)

    @cached_property
    def time_to_decision(self) -> list[Quantiles]:
        return time_to_decision(self.session, self.filters)

    @cached_property
    def precision(self) -> list[Precision]:
        return precision(self.session, self.filters)

    @cached_property
    def by_moderator(self) -> ByModerator:
        return decisions_by_moderator(self.session, self.filters)

    @cached_property
    def automation(self) -> Automation:
        return automation(self.session, self.filters)

    @cached_property
    def outcomes(self) -> Outcomes:
        return outcomes(self.session, self.filters)

    @cached_property
    def models(self) -> list[ModelVersion]:
        return model_versions(self.session)

    @cached_property
    def appeals(self) -> list[appeal_metrics.AppealOutcome]:
        start, end = self.filters.window
        return appeal_metrics.outcomes(self.session, start=start, end=end,
                                       flag_reason=self.filters.reason, wilson=wilson)

    @cached_property
    def agreement(self) -> dict[str, list[qa.Agreement]]:
        start, end = self.filters.window
        return qa.agreement(self.session, start=start, end=end, reason=self.filters.reason)


def dashboard(session: Session, f: MetricsFilters, *, now: datetime | None = None) -> Dashboard:
    return Dashboard(session, f, now)


# --- tables (what each chart shows, and its CSV) --------------------------------------------

def _fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table(d: Dashboard, name: str) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of one of the dashboard's tables (``TABLES``)."""
    if name == "inbound":
        return ["day", *d.inbound.lines], d.inbound.rows()
    if name == "backlog":
        return (["reason", "sla_hours", "open", "over_sla", *(b for b, _ in AGE_BUCKETS)],
                d.backlog.rows())
    if name == "backlog_trend":
        return ["day", "open_at_end_of_day"], d.backlog.trend.rows()
    if name == "time_to_decision":
        return (["reason", "decided", "p50_hours", "p90_hours"],
                [[q.reason, q.n, _fmt(q.p50_hours, 2), _fmt(q.p90_hours, 2)]
                 for q in d.time_to_decision])
    if name == "precision":
        return (["reason", "decided", "upheld", "precision", "wilson_low", "wilson_high"],
                [[p.reason, p.n, p.upheld, _fmt(p.precision), _fmt(p.low), _fmt(p.high)]
                 for p in d.precision])
    if name == "decisions":
        return (["moderator", *d.by_moderator.actions, "total"],
                [[e, *c, sum(c)] for e, c in d.by_moderator.rows])
    if name == "automation":
        a = d.automation
        return (["closed_by", "flags", "share"],
                [["human", a.human, _fmt(a.human_share)],
                 ["automated", a.automated,
                  _fmt(None if a.human_share is None else 1 - a.human_share)]])
    if name == "outcomes":
        o = d.outcomes
        return (["outcome", "clients", "median_days_to_improvement"],
                [["improved", o.improved, _fmt(o.median_days_to_improvement, 1)],
                 ["not improved", o.not_improved, ""], ["pending", o.pending, ""]])
    if name == "agreement":
        return (["by", "group", "reviewed", "agreed", "raw_agreement", "cohens_kappa"],
                [[kind, a.group, a.n, a.agreed, _fmt(a.raw), _fmt(a.kappa)]
                 for kind in ("reason", "moderator") for a in d.agreement.get(kind, [])])
    if name == "models":
        return (["created_at", "detector", "version", "active"],
                [[m.created_at.isoformat(), m.name, m.version, "yes" if m.active else "no"]
                 for m in d.models])
    if name == "appeals":
        return (["reason", "decided", "upheld", "overturned", "overturn_rate", "wilson_low",
                 "wilson_high", "p50_hours_to_decide", "p90_hours_to_decide"],
                [[a.reason, a.decided, a.upheld, a.overturned, _fmt(a.overturn_rate),
                  _fmt(a.low), _fmt(a.high), _fmt(a.p50_hours, 2), _fmt(a.p90_hours, 2)]
                 for a in d.appeals])
    raise ServiceError(f"unknown table {name[:32]!r}")


TABLES = ("inbound", "backlog", "backlog_trend", "time_to_decision", "precision", "decisions",
          "automation", "outcomes", "agreement", "models", "appeals")


def export_csv(d: Dashboard, name: str) -> str:
    header, rows = table(d, name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_csv_value(v) for v in row] for row in rows)
    return out.getvalue()


def _csv_value(value: Any) -> str:
    """A number as written (a negative kappa stays a number); other text defused."""
    if isinstance(value, (int, float)) or _NUMBER.fullmatch(str(value)):
        return str(value)
    return _cell(value)


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
