"""Strikes: a client's enforcement ladder, derived from the decisions (never stored, like
the labels): each removal of one of their posts and each suspension that stands - not
undone, not overturned on appeal, not reversed by a QA adjudication (``_reversed``) - is a
strike, weighted per reason (``STRIKE_WEIGHTS``
over ``DEFAULT_WEIGHTS``) and active for ``STRIKE_EXPIRY_DAYS`` (180) from the decision.

The active weight crosses thresholds (``STRIKE_THRESHOLDS`` over ``DEFAULT_THRESHOLDS``)
that *recommend* the next step - a warning, a contact with a follow-up window, a
suspension - and raise the priority of the client's new flags in the queue
(``priority_boost``). A recommendation never acts: suspending stays a moderator's decision,
held back by the contact-first rule for negative clients (``moderation.suspension_hold``).

Read-only: nothing here commits."""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app, has_app_context
from sqlmodel import Session

from models import Appeal, AppealStatus, Decision, DecisionAction, PolicyType, utcnow
from models.taxonomy import NOT_A_JOB

A = DecisionAction
#: a strike's weight per removal reason (and for a suspension)
DEFAULT_WEIGHTS: dict[str, int] = {
    "scam": 3, PolicyType.account_rental: 3, PolicyType.off_platform: 2,
    PolicyType.unpaid_work: 2, PolicyType.academic_dishonesty: 2, PolicyType.fake_reviews: 2,
    NOT_A_JOB: 1, "suspend": 3,
    "remove": 1,  # a removal without a reason code (an admin's QA correction)
}
#: the active weight from which each step is recommended
DEFAULT_THRESHOLDS: dict[str, int] = {"warning": 2, "contact": 4, "suspend": 8}
#: the steps, most severe first, with what the client page says
STEPS: tuple[tuple[str, str], ...] = (
    ("suspend", "Suspension recommended: a moderator decides (the contact-first rule for "
                "negative clients still applies)"),
    ("contact", "Contact the client, with a follow-up window"),
    ("warning", "A warning"),
)
#: queue priority points a client's new flags gain at each step
PRIORITY_BOOST: dict[str, float] = {"warning": 5.0, "contact": 10.0, "suspend": 20.0}
STRIKE_ACTIONS = (A.remove, A.suspend)


def _config(name: str) -> Any:
    return current_app.config.get(name) if has_app_context() else None


def weights() -> dict[str, int]:
    return {**DEFAULT_WEIGHTS, **(_config("STRIKE_WEIGHTS") or {})}


def thresholds() -> dict[str, int]:
    return {**DEFAULT_THRESHOLDS, **(_config("STRIKE_THRESHOLDS") or {})}


def expiry_days() -> int:
    return int(_config("STRIKE_EXPIRY_DAYS") or 180)


@dataclass(frozen=True)
class Strike:
    decision_id: int
    action: str
    reason: str          # the removal reason code, or "suspend"
    weight: int
    at: datetime
    expires_at: datetime
    post_id: int | None


@dataclass(frozen=True)
class Standing:
    """A client's active strikes, their total weight and the step it recommends."""
    strikes: tuple[Strike, ...]
    total: int
    step: str | None
    advice: str | None


def strike_reason(action: str, details: dict[str, Any] | None) -> str:
    if action == A.suspend:
        return "suspend"
    return (details or {}).get("reason_code") or "remove"


def recommend(total: int, limits: dict[str, int] | None = None) -> str | None:
    """The most severe step whose threshold ``total`` reaches (None below them all)."""
    limits = limits or thresholds()
    for step, _ in STEPS:
        if step in limits and limits[step] > 0 and total >= limits[step]:
            return step
    return None


def _select(client_condition: Any, since: Any) -> sa.Select:
    """The standing strike decisions (id, client, post, action, reason code, at) matching
    ``client_condition``, newer than ``since``, oldest first."""
    overturned = sa.select(Appeal.id).where(Appeal.decision_id == Decision.id,
                                            Appeal.status == AppealStatus.overturned).exists()
    # the actions written into the SQL: the statement compiles once (reads) and its plan
    # sees the literals
    actions = [sa.literal_column(f"'{a.value}'") for a in STRIKE_ACTIONS]
    # the reason code alone, not the whole details (the judged text rides along there)
    return (sa.select(Decision.id, Decision.client_id, Decision.post_id, Decision.action,
                      Decision.details["reason_code"].as_string().label("reason_code"),
                      Decision.created_at)
            .where(client_condition, Decision.action.in_(actions),
                   Decision.undone_at.is_(None), Decision.created_at > since,
                   ~overturned, ~_reversed())
            .order_by(Decision.id))


@functools.cache
def one_client_statement() -> sa.Select:
    """``_select`` for one client, built once: the client's id bound as ``strike_client``
    and the oldest moment a strike stands from as ``strike_since`` (``one_client_params``);
    for a caller that reads it beside its other statements (the client page's pipeline)."""
    return _select(Decision.client_id == sa.bindparam("strike_client", type_=sa.Integer),
                   sa.bindparam("strike_since", type_=Decision.__table__.c.created_at.type))


def one_client_params(client_id: int, now: datetime) -> dict[str, Any]:
    return {"strike_client": client_id, "strike_since": now - timedelta(days=expiry_days())}


def _rows(session: Session, client_ids: Iterable[int], now: datetime) -> list[Any]:
    ids = sorted({i for i in client_ids if i is not None})
    if not ids:
        return []
    return session.execute(_select(Decision.client_id.in_(ids),
                                   now - timedelta(days=expiry_days()))).all()


def _reversed() -> sa.Exists:
    """Correlated on ``Decision``: the decision no longer stands because a standing (not
    undone) reinstatement since reversed it - a QA adjudication's or an appeal's
    (``moderation.reversals``, which records ``details["reverses"]``) - or, for a removal,
    because the post was reinstated by a decision since (also reinstatements written before
    ``reverses`` was recorded). Looked up among the client's standing reinstatements only
    (a partial index: they are few)."""
    later = sa.orm.aliased(Decision)
    # the literal action (not a bound parameter) lets PostgreSQL's generic plan use the
    # partial index ix_decision_standing_reinstate, whose predicate this is
    return sa.select(later.id).where(
        later.client_id == Decision.client_id,
        later.action == sa.literal_column(f"'{A.reinstate.value}'"), later.undone_at.is_(None),
        later.id > Decision.id,
        sa.or_(later.details["reverses"].as_integer() == Decision.id,
               sa.and_(Decision.action == A.remove.value,
                       later.post_id == Decision.post_id))).exists()


def _strikes_by_client(session: Session, client_ids: Iterable[int],
                       now: datetime) -> dict[int, list[Strike]]:
    return _strikes_of(_rows(session, client_ids, now))


def _strikes_of(rows: Iterable[Any]) -> dict[int, list[Strike]]:
    """Rows of ``_select`` (in its column order) as each client's strikes."""
    table, life = weights(), timedelta(days=expiry_days())
    out: dict[int, list[Strike]] = defaultdict(list)
    for decision_id, client_id, post_id, action, reason_code, created_at in rows:
        reason = strike_reason(action, {"reason_code": reason_code})
        weight = int(table.get(reason, 1))
        if weight <= 0:
            continue
        out[client_id].append(Strike(decision_id, action, reason, weight, created_at,
                                     created_at + life, post_id))
    return out


def standing(session: Session, client_id: int, *, now: datetime | None = None) -> Standing:
    """The client's active strikes (newest first) and what they recommend."""
    now = now or utcnow()
    return standing_of(_rows(session, [client_id], now))


def standing_of(rows: Iterable[Any]) -> Standing:
    """``standing`` from one client's rows of ``one_client_statement`` (or ``_select``)."""
    strikes = sorted((s for ss in _strikes_of(rows).values() for s in ss),
                     key=lambda s: s.decision_id, reverse=True)
    total = sum(s.weight for s in strikes)
    step = recommend(total)
    advice = dict(STEPS).get(step) if step else None
    return Standing(tuple(strikes), total, step, advice)


def priority_boost(session: Session, client_ids: Iterable[int], *,
                   now: datetime | None = None) -> dict[int, float]:
    """The queue priority points each client's new flags gain from their strikes (clients
    without a recommended step are left out)."""
    now = now or utcnow()
    limits = thresholds()
    out = {}
    for client_id, strikes in _strikes_by_client(session, client_ids, now).items():
        step = recommend(sum(s.weight for s in strikes), limits)
        if step:
            out[client_id] = PRIORITY_BOOST[step]
    return out
