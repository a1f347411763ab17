"""The oversight dashboard's aggregates (``/metrics``): volume, backlog, time to decision,
decisions per moderator, automated vs human share, precision per reason, client outcomes
after contact, reviewer agreement (``qa``) and the model versions.

Days are *local* days of the viewer's time zone (``MetricsFilters.tz``): the database
counts rows per UTC quarter of an hour (one portable expression on SQLite and PostgreSQL,
at most 96 groups a day), and each quarter is put in its local day here, which is exact
for every time zone (all offsets in use are whole quarters of an hour). Days without rows
are listed with zeros. Nothing is pre-aggregated: every figure is one grouped query over
the window (see ``bench/metrics_dashboard.py`` for the time it takes).
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from models import (Decision, DecisionAction, Flag, FlagReason, FlagStatus, ModelVersion,
                    Moderator, Outreach, OutreachOutcome, PolicyType, utcnow)

from . import ServiceError, appeal_metrics, qa
from .audit_log import _cell
from .queue import TARGET_HOURS

A = DecisionAction
#: a human decision on a flag that closes it, and the verdict it carries
VERDICTS: dict[str, bool] = {A.dismiss: False, A.recategorise: True, A.remove: True,
                             A.contact: True, A.suspend: True}
QUARTER = 900  # seconds
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


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None without observations)."""
    if n == 0:
        return None
    from scipy.stats import binomtest  # on first use: the console starts without scipy

    ci = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def _reason_filter(f: MetricsFilters) -> list[Any]:
    return [Flag.reason == f.reason] if f.reason else []


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
    """Human decisions in the window that close a flag (not undone), with their flag."""
    start, end = f.window
    return (sa.select(*columns).select_from(Decision)
            .join(Flag, Flag.id == Decision.flag_id)
            .where(Decision.moderator_id.is_not(None), Decision.undone_at.is_(None),
                   Decision.action.in_(list(VERDICTS)), Decision.created_at >= start,
                   Decision.created_at < end, *_reason_filter(f)))


@dataclass
class Quantiles:
    reason: str
    n: int
    p50_hours: float | None
    p90_hours: float | None


def time_to_decision(session: Session, f: MetricsFilters) -> list[Quantiles]:
    """Hours from the flag to its first closing human decision (decided in the window);
    percentiles interpolated linearly (PostgreSQL's percentile_cont, numpy elsewhere)."""
    first = _human_verdicts(f, Flag.reason, Flag.created_at.label("flagged"),
                            sa.func.min(Decision.created_at).label("decided")
                            ).group_by(Flag.id, Flag.reason, Flag.created_at).subquery()
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
    those a human decided (upheld or dismissed) in the window, with its 95 % Wilson
    interval; each flag counts once, by its latest closing decision."""
    latest = _human_verdicts(f, sa.func.max(Decision.id)).group_by(Decision.flag_id)
    upheld_case = sa.case((Decision.action == A.dismiss, 0), else_=1)
    n: Counter = Counter()
    upheld: Counter = Counter()
    for reason, total, ups in session.execute(
            sa.select(Flag.reason, sa.func.count(), sa.func.sum(upheld_case))
            .select_from(Decision).join(Flag, Flag.id == Decision.flag_id)
            .where(Decision.id.in_(latest)).group_by(Flag.reason)):
        n[reason], upheld[reason] = total, int(ups or 0)
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
    start, end = f.window
    human = sa.exists().where(Decision.flag_id == Flag.id, Decision.moderator_id.is_not(None),
                              Decision.undone_at.is_(None))
    stmt = (sa.select(human.label("human"), sa.func.count()).select_from(Flag)
            .where(Flag.closed_at >= start, Flag.closed_at < end, *_reason_filter(f))
            .group_by(human))
    counts = {bool(h): n for h, n in session.execute(stmt)}
    return Automation(human=counts.get(True, 0), automated=counts.get(False, 0))


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
        return (["outcome", "clients"], [["improved", o.improved],
                                         ["not improved", o.not_improved],
                                         ["pending", o.pending]])
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
