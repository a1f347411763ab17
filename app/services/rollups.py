"""The dashboard's pre-aggregated counts (``metrics_rollup``): rows per UTC quarter of an
hour x kind x reason x up to two more dimensions. One pure function (``contributions``)
says what a flag (with its decisions) and a decision without a flag count; every way of
keeping the table uses it:

- the writes: a service calls ``touch`` *before* it changes a flag (its status, its
  ``closed_at``, its policy types, its decisions) or a decision without a flag, and
  ``created`` for rows it inserts; at commit (``before_commit``, the same transaction) the
  difference between what they count now and what they counted before is added with one
  atomic upsert per key (``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``), so
  two writers at once never lose an increment;
- ``rebuild`` (``flask metrics rebuild``): every count from the raw rows;
- ``reconcile`` (the sweep, and ``flask metrics check``): the recent quarters recounted from
  the raw rows and any difference repaired, so a write that missed its update heals.

Kinds (``dim1``, ``dim2``): ``inbound`` (flags by their creation), ``open`` (the flags
open now, by their creation: the backlog's ages), ``inbound_type``
(policy flags per policy type), ``closed`` (flags by their closing), ``automation``
("human" or "automated" closing), ``decision`` (moderator id, action; reason "" without a
flag), ``ttd`` (time from the flag to its first closing human decision: a histogram
bucket, ``TTD_EDGES``), ``verdict`` ("upheld" or "dismissed": the flag's latest closing
human decision, for precision). Undone decisions count nothing.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models import Decision, DecisionAction, Flag, FlagReason, FlagStatus, MetricsRollup, utcnow

from . import bulk

A = DecisionAction
R = MetricsRollup
QUARTER = 900  # seconds
#: a human decision on a flag that closes it, and the verdict it carries (upheld or not)
VERDICTS: dict[str, bool] = {A.dismiss: False, A.recategorise: True, A.remove: True,
                             A.contact: True, A.suspend: True}
#: time-to-decision histogram: bucket i holds [TTD_EDGES[i-1], TTD_EDGES[i]) minutes
TTD_EDGES: tuple[int, ...] = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 150, 180, 240, 300,
                              360, 480, 600, 720, 960, 1200, 1440, 2160, 2880, 4320, 5760,
                              7200, 10080, 14400, 20160, 43200)
INBOUND, INBOUND_TYPE, CLOSED, AUTOMATION = "inbound", "inbound_type", "closed", "automation"
OPEN = "open"
DECISION, TTD, VERDICT = "decision", "ttd", "verdict"
#: how far back the sweep recounts, and how often (per process: the worker's or the served
#: process's periodic sweep; ``flask sweep`` always does); the recount reads every flag and
#: decision of the window (11 s for 26 hours of the 100,000-decision bench under load)
RECONCILE_HOURS = 26
RECONCILE_EVERY = timedelta(hours=1)
_last_reconcile: list[datetime] = []
_KEY = "metrics_rollups"
_CHUNK = 5000

Key = tuple[str, int, str, str, str]


def quarter_of(ts: datetime) -> int:
    ts = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    return int(ts.timestamp() // QUARTER)


def ttd_bucket(seconds: float) -> int:
    return bisect_right(TTD_EDGES, seconds / 60)


# --- what a row counts (the one definition) --------------------------------------------------

def contributions(flags: Iterable[Any], decisions: Iterable[Any]) -> Counter:
    """``{(kind, quarter, reason, dim1, dim2): n}`` for these flags (``id, reason, status,
    created_at, closed_at, policy_types``) with their decisions (``id, flag_id,
    moderator_id, action, created_at, undone_at``) and the decisions without a flag."""
    by_flag: dict[int, list] = defaultdict(list)
    out: Counter = Counter()
    for d in decisions:
        if d.flag_id is not None:
            by_flag[d.flag_id].append(d)
        elif d.moderator_id is not None and d.undone_at is None:
            out[(DECISION, quarter_of(d.created_at), "", str(d.moderator_id), d.action)] += 1
    for f in flags:
        _flag(out, f, by_flag.get(f.id, []))
    return out


def _flag(out: Counter, f: Any, decisions: list) -> None:
    reason = f.reason
    created = quarter_of(f.created_at)
    out[(INBOUND, created, reason, "", "")] += 1
    if f.status == FlagStatus.open:
        out[(OPEN, created, reason, "", "")] += 1
    if reason == FlagReason.policy:
        for t in f.policy_types or []:
            out[(INBOUND_TYPE, created, reason, t, "")] += 1
    human = [d for d in decisions if d.moderator_id is not None and d.undone_at is None]
    if f.closed_at is not None:
        closed = quarter_of(f.closed_at)
        out[(CLOSED, closed, reason, "", "")] += 1
        out[(AUTOMATION, closed, reason, "human" if human else "automated", "")] += 1
    for d in human:
        out[(DECISION, quarter_of(d.created_at), reason, str(d.moderator_id), d.action)] += 1
    verdicts = [d for d in human if d.action in VERDICTS]
    if verdicts:
        first = min(verdicts, key=lambda d: (_aware(d.created_at), d.id))
        waited = (_aware(first.created_at) - _aware(f.created_at)).total_seconds()
        out[(TTD, quarter_of(first.created_at), reason, str(ttd_bucket(waited)), "")] += 1
        latest = max(verdicts, key=lambda d: d.id)
        out[(VERDICT, quarter_of(latest.created_at), reason,
             "upheld" if VERDICTS[latest.action] else "dismissed", "")] += 1


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


_FLAG = (Flag.id, Flag.reason, Flag.status, Flag.created_at, Flag.closed_at, Flag.policy_types)
_DECISION = (Decision.id, Decision.flag_id, Decision.moderator_id, Decision.action,
             Decision.created_at, Decision.undone_at)


def _count(session: Session, flag_ids: Iterable[int], decision_ids: Iterable[int]) -> Counter:
    """What these flags and these decisions without a flag count now."""
    flag_ids, decision_ids = sorted(flag_ids), sorted(decision_ids)
    flags: list = []
    decisions: list = []
    for i in range(0, len(flag_ids), _CHUNK):
        chunk = flag_ids[i:i + _CHUNK]
        flags += session.execute(sa.select(*_FLAG).where(bulk.ids_in(session, Flag.id, chunk))).all()
        decisions += session.execute(sa.select(*_DECISION)
                                     .where(bulk.ids_in(session, Decision.flag_id, chunk))).all()
    for i in range(0, len(decision_ids), _CHUNK):
        decisions += session.execute(sa.select(*_DECISION).where(
            bulk.ids_in(session, Decision.id, decision_ids[i:i + _CHUNK]),
            Decision.flag_id.is_(None))).all()
    return contributions(flags, decisions)


# --- the writes: same transaction ----------------------------------------------------------

def _state(session: Session) -> dict[str, Any]:
    return session.info.setdefault(_KEY, {"flags": set(), "decisions": set(),
                                          "before": Counter()})


def touch(session: Session, flag_ids: Iterable[int | None] = (), *,
          decision_ids: Iterable[int | None] = ()) -> None:
    """Call before changing these flags (or their decisions) or these decisions without a
    flag: what they count now is remembered (once per transaction), and the commit adds
    the difference. The flags are locked (PostgreSQL) so the count read is the one the
    change starts from."""
    state = _state(session)
    flags = sorted({i for i in flag_ids if i is not None} - state["flags"])
    decisions = sorted({i for i in decision_ids if i is not None} - state["decisions"])
    if not flags and not decisions:
        return
    if flags and session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(Flag.id).where(bulk.ids_in(session, Flag.id, flags)).order_by(Flag.id)
                        .with_for_update())
    state["before"].update(_count(session, flags, decisions))
    state["flags"].update(flags)
    state["decisions"].update(decisions)


def created(session: Session, flag_ids: Iterable[int | None] = (), *,
            decision_ids: Iterable[int | None] = ()) -> None:
    """Rows this transaction inserted: they counted nothing before it."""
    state = _state(session)
    state["flags"].update(i for i in flag_ids if i is not None)
    state["decisions"].update(i for i in decision_ids if i is not None)


@sa.event.listens_for(OrmSession, "before_commit")
def _apply_at_commit(session: OrmSession) -> None:
    state = session.info.get(_KEY)
    if not state:
        return
    session.flush()
    session.info.pop(_KEY, None)
    delta = _count(session, state["flags"], state["decisions"])
    delta.subtract(state["before"])
    add(session, delta)


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _forget(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction ended (committed or rolled back)
        session.info.pop(_KEY, None)


def add(session: Session, delta: dict[Key, int]) -> None:
    """Add ``delta`` to the stored counts: one atomic upsert per key, in key order (two
    writers at once lock the rows they share in the same order)."""
    rows = [{"kind": k, "quarter": q, "reason": r, "dim1": a, "dim2": b, "n": n}
            for (k, q, r, a, b), n in sorted(delta.items()) if n]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(R.__table__)
    stmt = insert.on_conflict_do_update(
        index_elements=["kind", "quarter", "reason", "dim1", "dim2"],
        set_={"n": R.__table__.c.n + insert.excluded.n})
    for i in range(0, len(rows), _CHUNK):
        session.execute(stmt, rows[i:i + _CHUNK])


# --- recounts --------------------------------------------------------------------------------

def _stream(session: Session, stmt: sa.Select) -> list:
    return session.execute(stmt.execution_options(yield_per=_CHUNK)).all()


def recount(session: Session, *, since: datetime | None = None,
            until: datetime | None = None) -> Counter:
    """Every count of the quarters in [since, until) (all of them without bounds), from
    the raw rows: the flags created, closed or decided on in the range, with all their
    decisions, and the decisions without a flag taken in it."""
    if since is None and until is None:
        flags = _stream(session, sa.select(*_FLAG))
        decisions = _stream(session, sa.select(*_DECISION))
        return contributions(flags, decisions)
    since = since or datetime(1970, 1, 1, tzinfo=timezone.utc)
    until = until or utcnow() + timedelta(days=1)
    lo, hi = quarter_of(since), quarter_of(until)
    start, end = (datetime.fromtimestamp(q * QUARTER, timezone.utc) for q in (lo, hi))

    def within(column: Any) -> Any:
        return sa.and_(column >= start, column < end)

    decided = sa.select(Decision.flag_id).where(within(Decision.created_at),
                                                Decision.flag_id.is_not(None))
    ids = {i for (i,) in session.execute(sa.select(Flag.id).where(sa.or_(
        within(Flag.created_at), within(Flag.closed_at), Flag.id.in_(decided))))}
    flagless = [i for (i,) in session.execute(sa.select(Decision.id).where(
        within(Decision.created_at), Decision.flag_id.is_(None)))]
    counts = _count(session, ids, flagless)
    return Counter({k: n for k, n in counts.items() if lo <= k[1] < hi})


def stored(session: Session, *, since: datetime | None = None,
           until: datetime | None = None) -> Counter:
    stmt = sa.select(R.kind, R.quarter, R.reason, R.dim1, R.dim2, R.n).where(R.n != 0)
    if since is not None:
        stmt = stmt.where(R.quarter >= quarter_of(since))
    if until is not None:
        stmt = stmt.where(R.quarter < quarter_of(until))
    return Counter({tuple(row[:5]): row[5] for row in session.execute(stmt)})


def difference(session: Session, *, since: datetime | None = None,
               until: datetime | None = None) -> dict[Key, int]:
    """What the stored counts lack (positive) or have too much of (negative), read in one
    snapshot (PostgreSQL: REPEATABLE READ, since the counts change in the transactions
    that change the rows, one snapshot sees both agree). Ends the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.rollback()
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        want = recount(session, since=since, until=until)
        have = stored(session, since=since, until=until)
    finally:
        session.rollback()
    return {k: want[k] - have[k] for k in set(want) | set(have) if want[k] != have[k]}


def reconcile_due(now: datetime) -> bool:
    """Whether this process last reconciled over ``RECONCILE_EVERY`` ago (or never)."""
    return not _last_reconcile or now - _last_reconcile[-1] >= RECONCILE_EVERY


def reconcile(session: Session, *, now: datetime | None = None,
              hours: int = RECONCILE_HOURS) -> int:
    """Recount the last ``hours`` (and the next hour) and repair any difference; returns
    how many keys were wrong. Commits. The repair is an increment, so writes committed
    meanwhile keep theirs."""
    now = now or utcnow()
    _last_reconcile[:] = [now]
    delta = difference(session, since=now - timedelta(hours=hours), until=now + timedelta(hours=1))
    add(session, delta)
    session.commit()
    return len(delta)


def rebuild(session: Session) -> int:
    """Every count recomputed from the raw rows (the table locked meanwhile on PostgreSQL:
    writers wait, none is lost). Commits; returns the number of stored keys."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE metrics_rollup IN EXCLUSIVE MODE"))
    session.execute(sa.delete(R))
    counts = recount(session)
    add(session, counts)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("ANALYZE metrics_rollup"))  # the planner sees the new rows
    session.commit()
    return sum(1 for n in counts.values() if n)
