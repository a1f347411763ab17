"""Automation tiers by measured precision (docs/automation.md).

Each tier key - a post reason (``scam``, ``miscategorised``) or a policy type
(``policy:<type>``) - has a tier in force: ``shadow`` (scored, not queued), ``review``
(queued; the default) or ``hold`` (the post is hidden at once and queued first: see
``holds``). ``hold`` is in force only while the Wilson 95 % lower bound of the key's
measured precision - human decisions on its flags over the rolling window
(``AUTOMATION_WINDOW_DAYS``) - is at least ``AUTOMATION_HOLD_PRECISION`` over at least
``AUTOMATION_HOLD_MIN_DECISIONS`` decisions, and the admin's highest tier for the key
(``max_tier``, ``review`` until an admin raises it) allows it. ``refresh`` (run by the
sweep, and when an admin changes a key) measures again and moves each key to the tier its
measurement and cap allow, with an audit event; a drop from ``hold`` also leaves a notice
for the tiers page.

The precision per reason is ``metrics.precision`` (the /metrics figure, each flag by its
latest human decision); per policy type, a policy flag counts for each type it names and
is upheld for a type only when the post was removed for that type (or the flag was upheld
otherwise than by a removal), so a removal for another type counts against it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from models import (AutomationTier, Decision, DecisionAction, Flag, FlagReason, PolicyType,
                    PostHold, Tier, utcnow)

from . import Conflict, NotFound, ServiceError, holds, metrics
from .audit import SYSTEM, Actor, record

POLICY_PREFIX = holds.POLICY_PREFIX
#: the tier keys, in the order the page lists them
KEYS: tuple[str, ...] = (FlagReason.scam.value, FlagReason.miscategorised.value,
                         *(f"{POLICY_PREFIX}{t.value}" for t in PolicyType))
ORDER = {Tier.shadow: 0, Tier.review: 1, Tier.hold: 2}
DEFAULTS = {"AUTOMATION_HOLD_PRECISION": 0.98, "AUTOMATION_HOLD_MIN_DECISIONS": 200,
            "AUTOMATION_WINDOW_DAYS": 90}


def label(key: str) -> str:
    """``policy:off_platform`` -> ``policy: off platform``."""
    return key.replace(":", ": ").replace("_", " ")


def key_of(reason: str, policy_type: str | None = None) -> str:
    return f"{POLICY_PREFIX}{policy_type}" if policy_type else reason


@dataclass(frozen=True)
class Settings:
    level: float
    min_decisions: int
    window_days: int


def settings() -> Settings:
    config = current_app.config if has_app_context() else {}
    get = lambda name: config.get(name, DEFAULTS[name])  # noqa: E731
    return Settings(float(get("AUTOMATION_HOLD_PRECISION")),
                    int(get("AUTOMATION_HOLD_MIN_DECISIONS")), int(get("AUTOMATION_WINDOW_DAYS")))


@dataclass(frozen=True)
class Measurement:
    key: str
    decisions: int
    upheld: int
    precision: float | None
    lower_bound: float | None
    upper_bound: float | None

    def allows_hold(self, s: Settings) -> bool:
        return (self.decisions >= s.min_decisions and self.lower_bound is not None
                and self.lower_bound >= s.level)


def _measurement(key: str, upheld: int, n: int) -> Measurement:
    ci = metrics.wilson(upheld, n)
    return Measurement(key, n, upheld, upheld / n if n else None, *(ci or (None, None)))


def _filters(now: datetime, days: int) -> metrics.MetricsFilters:
    today = now.date()
    return metrics.MetricsFilters(date_from=today - timedelta(days=days - 1), date_to=today)


def _human_verdicts(f: metrics.MetricsFilters, *columns: Any) -> sa.Select:
    """Human decisions in the window that close a flag (not undone), joined to their flag:
    per policy type there is no rollup (a flag names several types), so this one is read."""
    start, end = f.window
    return (sa.select(*columns).select_from(Decision)
            .join(Flag, Flag.id == Decision.flag_id)
            .where(Decision.moderator_id.is_not(None), Decision.undone_at.is_(None),
                   Decision.action.in_(list(metrics.VERDICTS)), Decision.created_at >= start,
                   Decision.created_at < end))


def measure(session: Session, *, now: datetime | None = None,
            s: Settings | None = None) -> dict[str, Measurement]:
    """The measured precision of every tier key (and of ``policy`` as a whole) over the
    rolling window ending today (UTC days)."""
    now, s = now or utcnow(), s or settings()
    f = _filters(now, s.window_days)
    out = {p.reason: _measurement(p.reason, p.upheld, p.n) for p in metrics.precision(session, f)
           if p.reason in (FlagReason.scam, FlagReason.miscategorised, FlagReason.policy)}
    latest = (_human_verdicts(f, sa.func.max(Decision.id))
              .where(Flag.reason == FlagReason.policy).group_by(Decision.flag_id))
    n = dict.fromkeys(PolicyType, 0)
    up = dict.fromkeys(PolicyType, 0)
    # grouped in the database: a few rows (types x action x removal reason), not a row and
    # its details document (the judged text) per decision
    code = Decision.details["reason_code"].as_string()
    for types, action, removed_for, count in session.execute(
            sa.select(Flag.policy_types, Decision.action, code, sa.func.count())
            .select_from(Decision).join(Flag, Flag.id == Decision.flag_id)
            .where(Decision.id.in_(latest))
            .group_by(Flag.policy_types, Decision.action, code)):
        removed_for = removed_for if action == DecisionAction.remove else None
        for t in types or []:
            if t not in n:
                continue
            n[t] += count
            upheld = metrics.VERDICTS.get(action, False) and removed_for in (None, t)
            up[t] += count if upheld else 0
    for t in PolicyType:
        key = key_of(FlagReason.policy, t)
        out[key] = _measurement(key, up[t], n[t])
    return out


def allowed_tier(cap: str, m: Measurement | None, s: Settings) -> str:
    """The tier a key with this cap and measurement is in."""
    if cap == Tier.shadow:
        return Tier.shadow
    if cap == Tier.hold and m is not None and m.allows_hold(s):
        return Tier.hold
    return Tier.review


def ensure_rows(session: Session) -> None:
    """One row per key (``review``, capped at ``review``), created once; no commit."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(AutomationTier)
    session.execute(insert.on_conflict_do_nothing(index_elements=["key"]),
                    [{"key": k, "max_tier": Tier.review, "tier": Tier.review, "decisions": 0,
                      "upheld": 0, "version": 1} for k in KEYS])


def _locked_rows(session: Session) -> dict[str, AutomationTier]:
    ensure_rows(session)
    rows = session.exec(select(AutomationTier).order_by(AutomationTier.key)
                        .with_for_update()).all()
    return {row.key: row for row in rows}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _apply(session: Session, row: AutomationTier, m: Measurement, s: Settings, *,
           now: datetime, actor: Actor) -> dict[str, Any] | None:
    """Store the measurement on the row and move it to the tier it allows (audited)."""
    row.decisions, row.upheld = m.decisions, m.upheld
    row.precision, row.lower_bound, row.measured_at = m.precision, m.lower_bound, now
    new = allowed_tier(row.max_tier, m, s)
    change = None
    if new != row.tier:
        figures = {"decisions": m.decisions, "precision": m.precision,
                   "lower_bound": m.lower_bound, "level": s.level,
                   "min_decisions": s.min_decisions, "window_days": s.window_days}
        if new == Tier.hold:
            action = "automation.tier_unlocked"
        elif row.tier == Tier.hold:
            action = "automation.tier_relocked"
            cause = (f"the admin's highest tier is now {row.max_tier}" if row.max_tier != Tier.hold
                     else f"the lower bound of its precision is {_pct(m.lower_bound)} over "
                          f"{m.decisions} decisions (hold needs at least {s.level:.3f} over "
                          f"{s.min_decisions})")
            row.notice = (f"{label(row.key)} dropped back from hold to {new} on "
                          f"{now:%Y-%m-%d %H:%M} UTC: {cause}.")
            row.notice_at = now
        else:
            action = "automation.tier_changed"
        record(session, actor=actor, action=action, subject_type="automation_tier",
               subject_id=row.key, before={"tier": row.tier},
               after={"tier": new, "max_tier": row.max_tier, **figures})
        change = {"key": row.key, "from": row.tier, "to": new}
        row.tier, row.changed_at = new, now
        row.version += 1
    session.add(row)
    return change


def refresh(session: Session, *, now: datetime | None = None,
            actor: Actor = SYSTEM) -> list[dict[str, Any]]:
    """Measure every key and put it in the tier its measurement and cap allow. Commits;
    returns the changes. Two at once: the rows' locks make the second see the first's.
    While every key is capped at ``review`` (the default) nothing is measured."""
    now, s = now or utcnow(), settings()
    if all(r.max_tier == r.tier == Tier.review for r in holds.in_force(session).values()):
        session.rollback()
        return []  # every key capped at review and in it: no measurement can move one
    rows = _locked_rows(session)
    measured = measure(session, now=now, s=s)
    changes = [c for key in KEYS
               if (c := _apply(session, rows[key], measured[key], s, now=now, actor=actor))]
    session.commit()
    return changes


def set_max_tier(session: Session, *, key: str, max_tier: str, version: int | None,
                 actor: Actor, now: datetime | None = None) -> AutomationTier:
    """An admin sets the highest tier ``key`` may reach (audited); the key moves to the
    tier this allows at once. Commits."""
    now = now or utcnow()
    if key not in KEYS:
        raise NotFound(f"no automation tier {key[:48]!r}")
    if max_tier not in set(Tier):
        raise ServiceError("choose shadow, review or hold")
    if version is None:
        raise ServiceError("the form is missing the tier's version; reload the page")
    rows = _locked_rows(session)
    row = rows[key]
    if row.version != version:
        session.rollback()
        raise Conflict("This tier was changed by someone else (or by a new measurement) "
                        "while you were looking at it. Nothing was done.")
    before = row.max_tier
    if before != max_tier:
        row.max_tier = max_tier
        row.version += 1
        record(session, actor=actor, action="automation.tier_cap", subject_type="automation_tier",
               subject_id=key, before={"max_tier": before}, after={"max_tier": max_tier})
        _apply(session, row, measure(session, now=now)[key], settings(), now=now, actor=actor)
    session.commit()
    return row


@dataclass
class TierRow:
    key: str
    label: str
    stored: AutomationTier | None
    measured: Measurement
    eligible: bool

    @property
    def tier(self) -> str:
        return self.stored.tier if self.stored else Tier.review

    @property
    def max_tier(self) -> str:
        return self.stored.max_tier if self.stored else Tier.review

    @property
    def version(self) -> int:
        return self.stored.version if self.stored else 1


@dataclass
class TiersPage:
    settings: Settings
    rows: list[TierRow]
    policy: Measurement
    notices: list[AutomationTier]
    holds: list[PostHold]
    held_now: int


def page(session: Session, *, now: datetime | None = None) -> TiersPage:
    """What the tiers page shows: each key's tier, cap and live measurement, the notices
    of automatic drops, and the latest holds."""
    now, s = now or utcnow(), settings()
    measured = measure(session, now=now, s=s)
    stored = holds.in_force(session)
    rows = [TierRow(k, label(k), stored.get(k), measured[k], measured[k].allows_hold(s))
            for k in KEYS]
    notices = sorted((r for r in stored.values() if r.notice),
                     key=lambda r: r.notice_at or now, reverse=True)
    recent = list(session.exec(select(PostHold).order_by(PostHold.id.desc()).limit(20)))
    held_now = session.exec(select(sa.func.count()).select_from(PostHold)
                            .where(PostHold.outcome == "held")).one()
    return TiersPage(s, rows, measured[FlagReason.policy], notices, recent, held_now)
