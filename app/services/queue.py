"""Reading the review queue: filters, active search, keyset pages, counts per reason.

Ordering. The stored ``flag.priority`` (the worker's ``base_priority``: reason severity x
risk score, plus exposure - time live and reach) is combined with *age* when the queue is
read: every hour a flag waits adds ``AGE_WEIGHT`` points. Because age is linear in
``now``, ``priority + AGE_WEIGHT * hours_waiting`` orders exactly like the time-free key
``priority - AGE_WEIGHT * hours_since_epoch(created_at)`` (the ``now`` term is the same for
every row), so the sort key is stable and keyset pagination over ``(key, id)`` is exact.
"Suspend recommended" flags (priority >= 1000) stay on top.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import time
import weakref
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, select

from models import Client, Flag, FlagReason, FlagStatus, JobPost, Moderator, PolicyType, utcnow
from models.moderation import QUEUE_AGE_WEIGHT
from models.taxonomy import CATEGORY_LABELS, category_label

from . import moderation, reads
from .transactions import wrote

#: priority points per hour of waiting
AGE_WEIGHT = QUEUE_AGE_WEIGHT
#: how long an item may wait before it is overdue (ageing badge)
TARGET_HOURS: dict[str, float] = {
    FlagReason.scam: 4, FlagReason.policy: 12, FlagReason.negative_client: 24,
    FlagReason.miscategorised: 48,
}
CLAIM_FILTERS = ("claimed", "unclaimed", "mine", "escalated")
SEARCH_MAX = 100


@dataclass(frozen=True)
class Filters:
    reason: str = ""
    policy: str = ""
    category: str = ""
    min_score: float | None = None
    max_score: float | None = None
    claim: str = ""
    q: str = ""
    #: what the request asked for that these filters do not do, said to the moderator
    #: (a hand-edited or stale URL); not part of what the filters are
    notes: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        """Parse request args. A value that is not one of the choices is left out and a score
        outside 0-1 is brought into it, never an error: each is named in ``notes``."""
        notes: list[str] = []

        def choice(name: str, label: str, choices) -> str:  # noqa: ANN001
            value = args.get(name, "") or ""
            if value and value not in choices:
                notes.append(f"{label} \u201c{value[:40]}\u201d is not one of the choices: "
                             "left out.")
                return ""
            return value

        def score(name: str, label: str) -> float | None:
            raw = (args.get(name, "") or "").strip()
            if not raw:
                return None
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if math.isnan(value):
                notes.append(f"{label} \u201c{raw[:40]}\u201d is not a number: left out.")
                return None
            clamped = min(max(value, 0.0), 1.0)
            if clamped != value:
                notes.append(f"{label} {raw[:40]} is outside 0-1: read as {clamped:g}.")
            return clamped

        reason = choice("reason", "Reason", set(FlagReason))
        policy = choice("policy", "Policy type", set(PolicyType))
        category = choice("category", "Category", CATEGORY_LABELS)
        low, high = score("min_score", "Score from"), score("max_score", "Score to")
        if low is not None and high is not None and low > high:
            notes.append(f"Score from {low:g} is above score to {high:g}: nothing can match.")
        claim = choice("claim", "Claimed", CLAIM_FILTERS)
        q = (args.get("q", "") or "").strip()
        if len(q) > SEARCH_MAX:
            notes.append(f"The search is cut to its first {SEARCH_MAX} characters.")
        return cls(reason=reason, policy=policy, category=category, min_score=low,
                   max_score=high, claim=claim, q=q[:SEARCH_MAX], notes=tuple(notes))

    def as_args(self) -> dict[str, str]:
        out = {"reason": self.reason, "policy": self.policy, "category": self.category,
               "min_score": "" if self.min_score is None else f"{self.min_score:g}",
               "max_score": "" if self.max_score is None else f"{self.max_score:g}",
               "claim": self.claim, "q": self.q}
        return {k: v for k, v in out.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.as_args())


#: the flag columns a queue row shows (``Row.flag`` is a read-only tuple of these, not an
#: ORM object: no identity map, no change tracking for 50 rows nobody edits here)
ROW_FLAG_COLUMNS = ("id", "subject_type", "post_id", "client_id", "reason", "score",
                    "policy_types", "system_note", "priority", "version", "created_at")
QueueFlag = namedtuple("QueueFlag", ROW_FLAG_COLUMNS)


class RowDisplay(NamedTuple):
    """Everything one queue row shows, as display values computed once in ``page``. The
    console renders a row from these alone (plus its URL and the viewer's role), and keeps
    the HTML per distinct value (app/queue/rows.py), so nothing else may be shown."""
    flag_id: int
    reason: str
    policy_text: str         # "" without policy types
    subject_text: str | None  # the post's title, or "Client: <name>" for a client flag
    client_name: str
    claimed_by_email: str | None
    escalated: bool
    suspend_recommended: bool
    category_text: str
    score_text: str
    priority_text: str
    waiting_text: str
    overdue_text: str        # "" unless overdue
    post_badge: str          # the post's status unless it is live, else ""
    client_badge: str        # the client's status unless active, else ""
    #: the bulk form's value for this row ("<flag id>:<version>"); bulk acts on posts only
    item: str
    bulk_ok: bool


@dataclass(slots=True)
class Row:
    """One row of the queue: what the list knows about a flag, and what it shows."""
    flag: QueueFlag
    title: str | None
    client_name: str
    category: str | None
    post_status: str | None
    client_status: str
    claimed_by_email: str | None
    key: float
    effective_priority: float
    waiting: timedelta
    overdue: timedelta | None
    escalated: bool
    display: RowDisplay


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None
    filters: Filters
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


#: ``flag.status = 'open'`` written into the SQL, not sent as a parameter: the partial
#: indexes (``ix_flag_open_queue``, ``ix_flag_open_reason_queue``) are defined by exactly
#: this predicate, and PostgreSQL can match a *generic* plan of a prepared statement (psycopg
#: prepares a statement run 5 times) to a partial index only if the predicate is literal.
#: With a parameter every execution was planned afresh (a custom plan: ~0.5 ms of planning
#: for the queue's 4-table list query, longer than running it).
IS_OPEN = Flag.status == sa.literal_column(f"'{FlagStatus.open.value}'")


def _limit(n: int):  # noqa: ANN202
    """``LIMIT n`` as a literal: a generic plan for ``LIMIT $1`` assumes a tenth of the
    table and loses to a custom plan every time (see ``IS_OPEN``)."""
    return sa.literal_column(str(int(n)))


def sort_key(_session: Session | None = None):
    """The stored ``flag.queue_key`` (see models.moderation.queue_key): ordering by it
    equals ordering by ``priority + AGE_WEIGHT * hours waiting``, and it is indexed."""
    return Flag.queue_key.label("key")


def counts(session: Session) -> dict[str, int]:
    """Open flags per reason, exactly (one GROUP BY over the open flags' partial index)."""
    rows = session.exec(select(Flag.reason, func.count()).where(IS_OPEN)
                        .group_by(Flag.reason)).all()
    out = {reason.value: 0 for reason in FlagReason}
    out.update({reason: n for reason, n in rows})
    return out


class _CountsCache:
    """``counts`` per engine, reused for at most ``max_age`` seconds.

    Every commit that wrote, on the engine *in this process* (a decision, a bulk action,
    an inline job), drops it at once, so whoever just acted sees exact counts. A change
    committed by another process (another gunicorn worker, an RQ worker) shows up within
    ``max_age``. The rows of the queue are never cached."""

    @dataclass
    class _State:
        generation: int = 0
        entry: tuple[float, int, dict[str, int]] | None = None

    def __init__(self) -> None:
        self._states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _state(self, engine: sa.engine.Engine) -> _CountsCache._State:
        state = self._states.get(engine)
        if state is None:
            state = self._states[engine] = self._State()

            def _on_commit(conn, state=state) -> None:  # noqa: ANN001
                if wrote(conn):  # a read-only request's commit changes no count
                    state.generation += 1
                    state.entry = None

            sa.event.listen(engine, "commit", _on_commit)
        return state

    def invalidate(self, engine: sa.engine.Engine) -> None:
        state = self._state(engine)
        state.generation += 1
        state.entry = None

    def get(self, session: Session, max_age: float) -> dict[str, int]:
        engine = session.get_bind()
        if max_age <= 0 or not isinstance(engine, sa.engine.Engine):
            return counts(session)
        state = self._state(engine)
        now = time.monotonic()
        generation, entry = state.generation, state.entry
        if entry is not None and entry[1] == generation and now - entry[0] < max_age:
            return dict(entry[2])
        fresh = counts(session)
        if state.generation == generation:  # no commit here while we counted
            state.entry = (now, generation, fresh)
        return dict(fresh)


counts_cache = _CountsCache()


def _like(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _cursor(cursor: str | None) -> tuple[float, int] | None:
    if not cursor:
        return None
    try:
        key, _, ident = cursor.partition("_")
        return float(key), int(ident)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Shape:
    """Which filters a page uses (not their values): the statement for a shape is built
    once (``_statement``) and the values are bound per request (``_params``); building
    the statement and SQLAlchemy's cache key for it cost more than reading the rows."""
    reason: bool
    policy: bool
    category: bool
    min_score: bool
    max_score: bool
    claim: str
    search: bool
    after: bool

    @classmethod
    def of(cls, f: Filters, after: tuple[float, int] | None) -> _Shape:
        return cls(reason=bool(f.reason), policy=bool(f.policy), category=bool(f.category),
                   min_score=f.min_score is not None, max_score=f.max_score is not None,
                   claim=f.claim, search=bool(f.q), after=after is not None)


_NOW = sa.bindparam("queue_now", type_=Flag.__table__.c.claimed_until.type)


def _params(f: Filters, *, moderator_id: int | None, now: datetime,
            after: tuple[float, int] | None) -> dict[str, Any]:
    """The values of the bound parameters of ``_filter`` (and ``_search_ids``)."""
    params: dict[str, Any] = {"queue_now": now}
    if f.reason:
        params["f_reason"] = f.reason
    if f.policy:
        params["f_policy"] = f'%"{f.policy}"%'
    if f.category:
        params["f_category"] = f.category
    if f.min_score is not None:
        params["f_min_score"] = f.min_score
    if f.max_score is not None:
        params["f_max_score"] = f.max_score
    if f.claim == "mine":
        params["f_moderator"] = moderator_id
    if f.q:
        params["f_like"] = _like(f.q)
    if after is not None:
        params["after_key"], params["after_id"] = after
    return params


def _filter(stmt, shape: _Shape):  # noqa: ANN001, ANN202
    """``stmt`` (which selects from flag, with job_post joined if filtering by category)
    narrowed to open flags passing every filter of ``shape`` but the search, after the
    keyset cursor; the values are the bound parameters named in ``_params``."""
    stmt = stmt.where(IS_OPEN)
    if shape.reason:
        stmt = stmt.where(Flag.reason == sa.bindparam("f_reason", type_=sa.String))
    if shape.policy:
        stmt = stmt.where(sa.cast(Flag.policy_types, sa.String).like(
            sa.bindparam("f_policy", type_=sa.String)))
    if shape.category:
        stmt = stmt.where(JobPost.category == sa.bindparam("f_category", type_=sa.String))
    if shape.min_score:
        stmt = stmt.where(Flag.score >= sa.bindparam("f_min_score", type_=sa.Float))
    if shape.max_score:
        stmt = stmt.where(Flag.score <= sa.bindparam("f_max_score", type_=sa.Float))
    live_claim = sa.and_(Flag.claimed_by.is_not(None), Flag.claimed_until > _NOW)
    if shape.claim == "claimed":
        stmt = stmt.where(live_claim)
    elif shape.claim == "unclaimed":
        stmt = stmt.where(sa.not_(live_claim))
    elif shape.claim == "mine":
        stmt = stmt.where(live_claim,
                          Flag.claimed_by == sa.bindparam("f_moderator", type_=sa.Integer))
    elif shape.claim == "escalated":
        stmt = stmt.where(moderation.live_escalation())
    if shape.after:
        # a row comparison, which the index can seek to; the equivalent OR of two
        # comparisons made PostgreSQL walk from the top of the queue to the cursor
        stmt = stmt.where(sa.tuple_(Flag.queue_key, Flag.id) < sa.tuple_(
            sa.bindparam("after_key", type_=sa.Float), sa.bindparam("after_id", type_=sa.Integer)))
    return stmt


def _newest_first(stmt, limit: int):  # noqa: ANN001
    # (key, id) both descending: one backward walk of the partial index, no sort
    return stmt.order_by(Flag.queue_key.desc(), Flag.id.desc()).limit(_limit(limit))


def post_matches(pattern: str):
    """A post's title or description matches the LIKE ``pattern`` (lower case, from
    ``_like``). ``lower(column)``: the expressions of the trigram indexes (migration 0004)."""
    return sa.or_(func.lower(JobPost.title).like(pattern, escape="\\"),
                  func.lower(JobPost.description).like(pattern, escape="\\"))


def client_matches(pattern: str):
    """A client's name matches the LIKE ``pattern`` (see ``post_matches``)."""
    return func.lower(Client.name).like(pattern, escape="\\")


def _search_ids(shape: _Shape, limit: int):
    """The ids of the first ``limit`` flags (queue order) matching the search: those whose
    post's title or description matches, united with those whose client's name matches.

    Two queries of one table's text each, rather than one OR across the joined tables:
    each can then use its own trigram index (migration 0004) when the term is rare, or
    walk the queue in order and stop after ``limit`` when it is common; PostgreSQL
    chooses per term from the statistics on the indexed expressions. A flag's client is
    ``flag.client_id`` (for a post flag, the post's client)."""
    pattern = sa.bindparam("f_like", type_=sa.String)
    posts = select(Flag.id).join(JobPost, JobPost.id == Flag.post_id).where(
        post_matches(pattern))
    clients = select(Flag.id).join(Client, Client.id == Flag.client_id).where(
        client_matches(pattern))
    if shape.category:
        clients = clients.join(JobPost, JobPost.id == Flag.post_id)
    parts = [_newest_first(_filter(s, shape), limit).subquery() for s in (posts, clients)]
    return sa.union(*(select(part.c.id) for part in parts))


@functools.lru_cache(maxsize=256)
def _statement(shape: _Shape, limit: int):  # noqa: ANN202
    """The list query for ``shape``: at most ``limit`` rows, most urgent first."""
    stmt = _filter(_list_select(), shape)
    if shape.search:
        stmt = stmt.where(Flag.id.in_(_search_ids(shape, limit)))
    return _newest_first(stmt, limit)


@functools.cache
def _list_select():
    """The list's columns and joins, built once (statements are immutable; each request
    adds its filters to a copy). The live-claim join compares with the bound ``now``."""
    # policy_types as its JSON text: most rows have none ("[]"), and parsing every row's
    # JSON was the largest single cost of reading the page's rows (see _policy_types)
    flag_cols = [sa.cast(Flag.policy_types, sa.Text) if name == "policy_types"
                 else getattr(Flag, name) for name in ROW_FLAG_COLUMNS]
    return (select(*flag_cols, JobPost.title, Client.name.label("client_name"),
                   JobPost.category, JobPost.status.label("post_status"),
                   Client.status.label("client_status"), Moderator.email,
                   Flag.queue_key.label("key"), moderation.live_escalation().label("escalated"))
            .join(Client, Client.id == Flag.client_id)
            .outerjoin(JobPost, JobPost.id == Flag.post_id)
            .outerjoin(Moderator, sa.and_(Moderator.id == Flag.claimed_by,
                                          Flag.claimed_until > _NOW)))


_TARGETS = {reason: timedelta(hours=hours) for reason, hours in TARGET_HOURS.items()}
_DEFAULT_TARGET = timedelta(hours=24)
_ZERO = timedelta(0)
_N_FLAG = len(ROW_FLAG_COLUMNS)


_NO_POLICY_TYPES = frozenset({None, "", "[]", "null"})
_POLICY_AT = ROW_FLAG_COLUMNS.index("policy_types")


def _policy_types(raw: str | None) -> tuple[str, ...]:
    """``flag.policy_types`` from its JSON text (parsed only when there is something)."""
    return () if raw in _NO_POLICY_TYPES else tuple(json.loads(raw))


@functools.lru_cache(maxsize=8192)
def _timeless(r: tuple) -> tuple[QueueFlag, tuple, tuple, tuple]:
    """What a result row of ``_list_select`` (as a tuple) shows that does not depend on
    when the queue is read: the flag, the row's other values, and the display values
    before and after the three that do (priority, waiting, overdue), in ``RowDisplay``'s
    order.

    Kept per distinct result row: everyone reloading the queue gets the same urgent rows
    back, value for value, and building these was most of building a row. The result row
    *is* the key (every column the list selects, the claim and escalation included), so a
    changed flag, post, client or claim is a different entry; everything returned is
    immutable (tuples), so a cached entry cannot be altered through a ``Row``."""
    flag = QueueFlag(*r[:_POLICY_AT], _policy_types(r[_POLICY_AT]), *r[_POLICY_AT + 1:_N_FLAG])
    title, client_name, category, post_status, client_status, email, key, escalated = r[_N_FLAG:]
    is_post = flag.subject_type == "post"
    note = flag.system_note
    escalated = bool(escalated)
    head = (flag.id, flag.reason,
            ", ".join(flag.policy_types).replace("_", " ") if flag.policy_types else "",
            title if is_post else f"Client: {client_name}",
            client_name, email, escalated, bool(note) and "suspend recommended" in note,
            category_label(category) if category else "—", f"{flag.score:.2f}")
    tail = (post_status if post_status and post_status != "live" else "",
            client_status if client_status != "active" else "",
            f"{flag.id}:{flag.version}", is_post)
    return flag, (title, client_name, category, post_status, client_status, email, key), \
        head, tail


#: ``_timeless`` and ``_row`` build ``RowDisplay`` and ``Row`` positionally (a third of the
#: cost of building them by keyword); this is the field order they rely on
_POSITIONAL = (RowDisplay._fields[10:13] == ("priority_text", "waiting_text", "overdue_text")
               and RowDisplay._fields[6] == "escalated" and len(RowDisplay._fields) == 17
               and [f.name for f in dataclasses.fields(Row)] == [
                   "flag", "title", "client_name", "category", "post_status", "client_status",
                   "claimed_by_email", "key", "effective_priority", "waiting", "overdue",
                   "escalated", "display"])
if not _POSITIONAL:
    raise RuntimeError("RowDisplay or Row changed: update _timeless and _row")


def _row(r: tuple, now: datetime) -> Row:
    """A ``Row`` from one result row of ``_list_select`` (a tuple: the cache compares its
    keys, and tuples compare in C), read at ``now``."""
    flag, values, head, tail = _timeless(r)
    waiting = max(now - flag.created_at, _ZERO)
    target = _TARGETS.get(flag.reason, _DEFAULT_TARGET)
    overdue = waiting - target if waiting > target else None
    priority = flag.priority + AGE_WEIGHT * waiting.total_seconds() / 3600
    # positional: RowDisplay(*head, priority_text, waiting_text, overdue_text, *tail)
    display = RowDisplay(*head, f"{priority:.0f}", format_waiting(waiting),
                         format_waiting(overdue), *tail)
    return Row(flag, *values, priority, waiting, overdue, head[6], display)


def page(session: Session, *, filters: Filters, moderator_id: int | None, limit: int,
         cursor: str | None = None, now: datetime | None = None,
         with_counts: bool = True, counts_max_age: float = 0) -> Page:
    """One page of open flags, most urgent first, after ``cursor`` (keyset).

    ``counts_max_age`` > 0 lets the counts per reason come from ``counts_cache``."""
    now = now or utcnow()
    f = filters
    after = _cursor(cursor)
    if f.q and session.get_bind().dialect.name == "postgresql":
        # plan each search for its own term: a plan cached for one term (psycopg
        # prepares a statement run 5 times) is wrong for a much rarer or commoner one
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    results = reads.fetch(session, _statement(_Shape.of(f, after), limit + 1),
                          _params(f, moderator_id=moderator_id, now=now, after=after))
    rows = [_row(r, now) for r in results[:limit]]
    next_cursor = None
    if len(results) > limit and rows:
        next_cursor = f"{rows[-1].key!r}_{rows[-1].flag.id}"
    reason_counts = counts_cache.get(session, counts_max_age) if with_counts else {}
    return Page(rows=rows, next_cursor=next_cursor, filters=filters, counts=reason_counts)


def next_case(session: Session, *, moderator_id: int | None, after_flag_id: int | None = None,
              now: datetime | None = None) -> Flag | None:
    """The most urgent open flag nobody else holds (for "next case")."""
    now = now or utcnow()
    key = sort_key(session)
    stmt = (select(Flag).where(
        IS_OPEN,
        sa.or_(Flag.claimed_by.is_(None), Flag.claimed_until <= now,
               Flag.claimed_by == moderator_id)))
    if after_flag_id is not None:
        stmt = stmt.where(Flag.id != after_flag_id)
    return session.exec(stmt.order_by(key.element.desc(), Flag.id.desc()).limit(1)).first()


def format_waiting(delta: timedelta | None) -> str:
    """The waiting time as the queue shows it: 12 min, 5 h, 3 d ("" for None)."""
    if delta is None:
        return ""
    return _waiting_text(int(delta.total_seconds() // 60))


@functools.lru_cache(maxsize=4096)
def _waiting_text(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"
