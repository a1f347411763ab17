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
import math
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import (Client, Flag, FlagReason, FlagSearch, FlagStatus, JobPost, Moderator,
                    PolicyType, utcnow)
from models.moderation import policy_type_pattern
from models.taxonomy import CATEGORY_LABELS

from . import moderation, reads
from .queue_display import (AGE_WEIGHT, ROW_FLAG_COLUMNS, TARGET_HOURS,  # noqa: F401
                            JoinedText, QueueFlag, Row, RowDisplay, _row, format_waiting)
from .transactions import wrote

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


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None
    filters: Filters
    #: open flags per reason that pass every filter but the reason (what each reason's
    #: link would list)
    counts: dict[str, int] = field(default_factory=dict)
    #: the rows (subjects) matching every filter, over all pages
    matching: int | None = None
    #: a search's counts stopped at ``SEARCH_COUNT_CAP``: each is "at least"
    counts_capped: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def count_cap(self) -> int:
        """Counts over this are shown as "<cap>+" (0: none; see ``filtered_counts``)."""
        return FILTER_COUNT_CAP if self.filters.active and not self.filters.q else 0


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


class Counts(NamedTuple):
    """What the summary above the rows says: open flags per reason passing every filter
    but the reason, and how many rows (subjects) pass them all. ``capped``: a search that
    matched more than ``SEARCH_COUNT_CAP`` flags, so each number is "at least"."""
    per_reason: dict[str, int]
    matching: int
    capped: bool = False


#: a search counts its matches up to this many flags (and says "at least" beyond): a common
#: term matches most posts, and counting them all means matching every post's text
SEARCH_COUNT_CAP = 1000
#: beside a filtered queue (no search), each reason's count is exact up to this many open
#: flags and shown as "1000+" beyond, and so is the number of matching rows: counting all
#: of them would read every open flag passing the filters (at a million posts ~100,000)
#: on every recount
FILTER_COUNT_CAP = 1000


def filtered_counts(session: Session, *, filters: Filters, moderator_id: int | None,
                    now: datetime | None = None) -> Counts:
    """``Counts`` for ``filters``. A row is a subject, so the matching rows are the distinct
    subjects of the flags passing the filters (the unique partial index on open flags by
    subject, read in order). Without any filter the numbers are exact. Under filters
    each reason's number is exact up to ``FILTER_COUNT_CAP`` (beyond it, ``CAP + 1``: the
    page shows "1000+"), read from at most that many + 1 flags of each reason. A search's
    are counted over at most ``SEARCH_COUNT_CAP`` + 1 matching flags, in no particular
    order (``_search_sample``), and each is "at least" (``capped``) beyond."""
    now = now or utcnow()
    params = _params(filters, moderator_id=moderator_id, now=now, after=None)
    others = dataclasses.replace(filters, reason="")
    if filters.q:
        rows = reads.fetch(session, _search_sample(_Shape.of(others, None)), params)
        per_reason = {reason.value: 0 for reason in FlagReason}
        for reason, _type, _id in rows:
            per_reason[reason] += 1
        subjects = {(t, i) for r, t, i in rows if not filters.reason or r == filters.reason}
        return Counts(per_reason, len(subjects), capped=len(rows) > SEARCH_COUNT_CAP)
    if not filters.active:  # the whole queue: exact, from the open flags' partial indexes
        subjects = reads.fetch(session, _subjects_statement(_Shape.of(filters, None)), params)
        return Counts(counts(session), subjects[0][0])
    rows = reads.fetch(session, _filtered_sample(_Shape.of(others, None)), params)
    per_reason = {reason.value: 0 for reason in FlagReason}
    for reason, _type, _id in rows:
        per_reason[reason] += 1
    matching = len({(t, i) for r, t, i in rows if not filters.reason or r == filters.reason})
    over = [r for r, n in per_reason.items() if n > FILTER_COUNT_CAP
            and (not filters.reason or r == filters.reason)]
    return Counts(per_reason, max(matching, FILTER_COUNT_CAP + 1) if over else matching)


@functools.lru_cache(maxsize=256)
def _filtered_sample(shape: _Shape):  # noqa: ANN202
    """(reason, subject type, subject id) of at most ``FILTER_COUNT_CAP`` + 1 open flags of
    each reason passing ``shape`` (no search, no reason filter): one bounded read per
    reason (the reason written into the SQL: its partial index), in no particular order,
    so the planner stops at the cap whichever way it reads."""
    shape = _each_flag(shape)
    parts = []
    for reason in FlagReason:
        stmt = _filter(_from_flag(select(Flag.reason, Flag.subject_type, Flag.subject_id)),
                       shape)
        part = stmt.where(Flag.reason == sa.literal_column(f"'{reason.value}'")) \
            .limit(_limit(FILTER_COUNT_CAP + 1)).subquery(f"sample_{reason.value}")
        parts.append(select(part.c.reason, part.c.subject_type, part.c.subject_id))
    return sa.union_all(*parts)


def _each_flag(shape: _Shape) -> _Shape:
    return dataclasses.replace(shape, one_per_subject=False)


@functools.lru_cache(maxsize=256)
def _counts_statement(shape: _Shape):  # noqa: ANN202
    """Open flags per reason passing ``shape`` (no search, no reason filter)."""
    shape = _each_flag(shape)
    return _filter(_from_flag(select(Flag.reason, func.count())), shape) \
        .group_by(Flag.reason)


@functools.lru_cache(maxsize=256)
def _subjects_statement(shape: _Shape):  # noqa: ANN202
    """How many subjects have an open flag passing ``shape`` (no search)."""
    shape = _each_flag(shape)
    subjects = _filter(_from_flag(select(Flag.subject_type, Flag.subject_id)), shape)
    return select(func.count()).select_from(subjects.distinct().subquery())


@functools.lru_cache(maxsize=256)
def _search_sample(shape: _Shape):  # noqa: ANN202
    """(reason, subject type, subject id) of at most ``SEARCH_COUNT_CAP`` + 1 open flags
    passing ``shape`` whose search text matches, in no particular order: the matches (on
    PostgreSQL a bitmap of the trigram index) joined to their flags until there are
    enough, so a common term stops early and a rare one reads its few."""
    stmt = select(Flag.reason, Flag.subject_type, Flag.subject_id).select_from(FlagSearch) \
        .join(Flag, Flag.id == FlagSearch.flag_id).where(_search_match())
    return _filter(stmt, _each_flag(shape)).limit(_limit(SEARCH_COUNT_CAP + 1))


def _from_flag(stmt):  # noqa: ANN001, ANN202
    return stmt.select_from(Flag)


class _CountsCache:
    """``filtered_counts`` per engine and filters, reused for at most ``max_age`` seconds.

    Every commit that wrote, on the engine *in this process* (a decision, a bulk action,
    an inline job), drops them at once, so whoever just acted sees exact counts. A change
    committed by another process (another gunicorn worker, an RQ worker) shows up within
    ``max_age``. The rows of the queue are never cached."""

    MAX_ENTRIES = 256

    @dataclass
    class _State:
        generation: int = 0
        entries: dict = field(default_factory=dict)

    def __init__(self) -> None:
        self._states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _state(self, engine: sa.engine.Engine) -> _CountsCache._State:
        state = self._states.get(engine)
        if state is None:
            state = self._states[engine] = self._State()

            def _on_commit(conn, state=state) -> None:  # noqa: ANN001
                if wrote(conn):  # a read-only request's commit changes no count
                    state.generation += 1
                    state.entries = {}

            sa.event.listen(engine, "commit", _on_commit)
        return state

    def invalidate(self, engine: sa.engine.Engine) -> None:
        state = self._state(engine)
        state.generation += 1
        state.entries = {}

    def get(self, session: Session, max_age: float, *, filters: Filters = Filters(),
            moderator_id: int | None = None) -> Counts:
        engine = session.get_bind()
        if max_age <= 0 or not isinstance(engine, sa.engine.Engine):
            return filtered_counts(session, filters=filters, moderator_id=moderator_id)
        state = self._state(engine)
        key = (filters, moderator_id if filters.claim == "mine" else None)
        now = time.monotonic()
        generation, entry = state.generation, state.entries.get(key)
        if entry is not None and entry[1] == generation and now - entry[0] < max_age:
            return entry[2]._replace(per_reason=dict(entry[2].per_reason))
        fresh = filtered_counts(session, filters=filters, moderator_id=moderator_id)
        if state.generation == generation:  # no commit here while we counted
            if len(state.entries) >= self.MAX_ENTRIES:
                state.entries = {}
            state.entries[key] = (now, generation, fresh)
        return fresh._replace(per_reason=dict(fresh.per_reason))


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
    #: the policy type itself (a closed set; see ``_flag_conditions``), or ""
    policy: str
    category: bool
    min_score: bool
    max_score: bool
    claim: str
    search: bool
    after: bool
    #: one row per subject: a flag is left out if a more urgent open flag of its subject
    #: passes the same filters
    one_per_subject: bool = True
    #: "next case": nobody else holds it, and it is not the subject just decided
    available: bool = False
    #: a search's first path: among the first ``walk`` flags of the queue only (0: the
    #: other path; see ``_search_ids``)
    walk: int = 0

    @classmethod
    def of(cls, f: Filters, after: tuple[float, int] | None) -> _Shape:
        return cls(reason=bool(f.reason), policy=f.policy, category=bool(f.category),
                   min_score=f.min_score is not None, max_score=f.max_score is not None,
                   claim=f.claim, search=bool(f.q), after=after is not None)


_NOW = sa.bindparam("queue_now", type_=Flag.__table__.c.claimed_until.type)


def _params(f: Filters, *, moderator_id: int | None, now: datetime,
            after: tuple[float, int] | None) -> dict[str, Any]:
    """The values of the bound parameters of ``_filter`` (and ``_search_ids``)."""
    params: dict[str, Any] = {"queue_now": now, "f_moderator": moderator_id}
    if f.reason:
        params["f_reason"] = f.reason
    if f.category:
        params["f_category"] = f.category
    if f.min_score is not None:
        params["f_min_score"] = f.min_score
    if f.max_score is not None:
        params["f_max_score"] = f.max_score
    if f.q:
        params["f_like"] = _like(f.q)
    if after is not None:
        params["after_key"], params["after_id"] = after
    return params


def _flag_conditions(flag, shape: _Shape) -> list:  # noqa: ANN001
    """The filters of ``shape`` that read the flag's own columns, on ``flag`` (``Flag`` or
    an alias of it)."""
    out = []
    if shape.reason:
        out.append(flag.reason == sa.bindparam("f_reason", type_=sa.String))
    if shape.policy:
        # the type written into the SQL (one statement per type): each type's partial index
        # (ix_flag_open_policy_<type>) lists its flags in queue order, however few they are
        out.append(sa.cast(flag.policy_types, sa.String).like(
            sa.literal_column(policy_type_pattern(shape.policy))))
    if shape.category:
        # the post's category as the flag carries it (kept by triggers, models.moderation
        # FLAG_CATEGORY_TRIGGERS): ix_flag_open_category_* list them in queue order
        out.append(flag.category == sa.bindparam("f_category", type_=sa.String))
    if shape.min_score:
        out.append(flag.score >= sa.bindparam("f_min_score", type_=sa.Float))
    if shape.max_score:
        out.append(flag.score <= sa.bindparam("f_max_score", type_=sa.Float))
    return out


def _more_urgent_sibling(shape: _Shape):  # noqa: ANN202
    """SQL condition, correlated on ``Flag``: an open flag of the same subject that passes
    the flag filters of ``shape`` comes before it in the queue (a probe of the unique
    partial index on open flags by subject and reason)."""
    sib = aliased(Flag, name="sibling")
    return select(sib.id).where(
        sib.status == sa.literal_column(f"'{FlagStatus.open.value}'"),
        sib.subject_type == Flag.subject_type, sib.subject_id == Flag.subject_id,
        sa.tuple_(sib.queue_key, sib.id) > sa.tuple_(Flag.queue_key, Flag.id),
        *_flag_conditions(sib, shape)).exists()


def _filter(stmt, shape: _Shape):  # noqa: ANN001, ANN202
    """``stmt`` (which selects from flag)
    narrowed to open flags passing every filter of ``shape`` but the search, after the
    keyset cursor; the values are the bound parameters named in ``_params``."""
    stmt = stmt.where(IS_OPEN, *_flag_conditions(Flag, shape))
    live_claim = sa.and_(Flag.claimed_by.is_not(None), Flag.claimed_until > _NOW)
    me = sa.bindparam("f_moderator", type_=sa.Integer)
    if shape.claim == "claimed":
        stmt = stmt.where(live_claim)
    elif shape.claim == "unclaimed":
        stmt = stmt.where(sa.not_(live_claim))
    elif shape.claim == "mine":
        stmt = stmt.where(live_claim, Flag.claimed_by == me)
    elif shape.claim == "escalated":
        stmt = stmt.where(moderation.live_escalation())
    if shape.available:
        stmt = stmt.where(sa.or_(sa.not_(live_claim), Flag.claimed_by == me),
                          sa.not_(sa.and_(
                              Flag.subject_type == sa.bindparam("skip_type", type_=sa.String),
                              Flag.subject_id == sa.bindparam("skip_id", type_=sa.Integer))))
    if shape.one_per_subject:
        stmt = stmt.where(sa.not_(_more_urgent_sibling(shape)))
    if shape.after:
        # a row comparison, which the index can seek to; the equivalent OR of two
        # comparisons made PostgreSQL walk from the top of the queue to the cursor
        stmt = stmt.where(sa.tuple_(Flag.queue_key, Flag.id) < sa.tuple_(
            sa.bindparam("after_key", type_=sa.Float), sa.bindparam("after_id", type_=sa.Integer)))
    return stmt


def _newest_first(stmt, limit: int):  # noqa: ANN001
    # (key, id) both descending: one backward walk of the partial index, no sort
    return stmt.order_by(Flag.queue_key.desc(), Flag.id.desc()).limit(_limit(limit))


#: a search first tests this many flags of the queue, in its order and under its other
#: filters (a term in most posts, "e", fills a page among them); when they hold less than
#: a page of matches, it reads the matches from the trigram index over the open flags'
#: search text, puts them in queue order on their own narrow rows and reads the flags of
#: the first page only. The second path reads what the matches occupy of ``flag_search``
#: (at most the table: at 1M posts ~5,900 pages, 46 MB) whatever the term; a long first
#: path did not pay (the head of a real queue is one family of posts: at 1M posts the first
#: 1,000 flags held no "telegram" at all, where one open flag in seven has it)
SEARCH_WALK = 200


def _search_match():
    """The open flag's search text (``flag_search``) contains the bound ``f_like``."""
    return FlagSearch.text.like(sa.bindparam("f_like", type_=sa.String), escape="\\")


def _search_ids(shape: _Shape, limit: int):
    """The ids of the first ``limit`` flags (queue order) passing ``shape`` whose search
    text (models.flag_search: the post's title and description and the client's name)
    matches the term. ``shape.walk``: among the first ``shape.walk`` flags passing the
    other filters only (exact when it finds ``limit``); else through the matches (on
    PostgreSQL the trigram index ``ix_flag_search_text_trgm``), put in queue order on
    their own narrow rows first, so that the planner cannot turn it into a walk of the
    whole queue, nor read the flag of every match."""
    if shape.walk:
        # the head: open flags passing the flag filters, in queue order (an index-only
        # walk of the filter's partial index); one row per subject is checked on the
        # matches only
        head = _newest_first(_filter(select(Flag.id), _each_flag(shape)),
                             shape.walk).subquery("head")
        stmt = select(Flag.id).join(head, head.c.id == Flag.id) \
            .join(FlagSearch, FlagSearch.flag_id == Flag.id).where(_search_match())
        return _newest_first(_filter(stmt, shape), limit)
    # the matches in queue order from their own rows (flag_search.queue_key), sorted
    # before any flag is read (OFFSET 0: planned apart), then their flags in that order
    # until ``limit`` pass the filters: the reads follow the matches' narrow rows, and the
    # flags read are about ``limit``, not every match
    ordered = select(FlagSearch.flag_id, FlagSearch.queue_key).where(_search_match())
    if shape.after:
        ordered = ordered.where(sa.tuple_(FlagSearch.queue_key, FlagSearch.flag_id) < sa.tuple_(
            sa.bindparam("after_key", type_=sa.Float), sa.bindparam("after_id", type_=sa.Integer)))
    ordered = ordered.order_by(FlagSearch.queue_key.desc(), FlagSearch.flag_id.desc()) \
        .offset(sa.literal_column("0")).subquery("ordered")
    stmt = _filter(select(Flag.id).join(ordered, ordered.c.flag_id == Flag.id), shape)
    return stmt.order_by(ordered.c.queue_key.desc(), ordered.c.flag_id.desc()).limit(_limit(limit))


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
    # the subject's other open flags as "reason:id:version,..." (a probe of the unique
    # partial index on open flags by subject and reason): the row's badges and bulk value
    sib = aliased(Flag, name="other")
    colon = sa.literal_column("':'", sa.String)
    others = select(JoinedText(
        sib.reason + colon + sa.cast(sib.id, sa.String) + colon + sa.cast(sib.version, sa.String)
    )).where(sib.status == sa.literal_column(f"'{FlagStatus.open.value}'"),
                    sib.subject_type == Flag.subject_type, sib.subject_id == Flag.subject_id,
                    sib.id != Flag.id).scalar_subquery()
    return (select(*flag_cols, JobPost.title, Client.name.label("client_name"),
                   JobPost.category, JobPost.status.label("post_status"),
                   Client.status.label("client_status"), Moderator.email,
                   Flag.queue_key.label("key"), moderation.live_escalation().label("escalated"),
                   others.label("others"))
            .join(Client, Client.id == Flag.client_id)
            .outerjoin(JobPost, JobPost.id == Flag.post_id)
            .outerjoin(Moderator, sa.and_(Moderator.id == Flag.claimed_by,
                                          Flag.claimed_until > _NOW)))


def _fetch(session: Session, shape: _Shape, limit: int, params: dict[str, Any]) -> list:
    """The list query's rows for ``shape``. A search tries the head of the queue first and
    the matches only when the head holds fewer than ``limit`` (``_search_ids``). On
    PostgreSQL a search reads the ids of its page first, each statement planned for its
    own term (never prepared: a plan cached for one term is wrong for a much rarer or
    commoner one), then their rows by one statement the same for every search (prepared
    once, no planning per request): planning the whole list for each term cost more than
    running it (2.5-5 ms against 0.1-1 ms at 200,000 posts)."""
    if not shape.search:
        return reads.fetch(session, _statement(shape, limit), params)
    head = dataclasses.replace(shape, walk=SEARCH_WALK)
    if session.get_bind().dialect.name != "postgresql":
        results = reads.fetch(session, _statement(head, limit), params)
        if len(results) < limit:
            results = reads.fetch(session, _statement(shape, limit), params)
        return results
    ids = [i for (i,) in reads.fetch(session, _ids_statement(head, limit), params, prepare=False)]
    if len(ids) < limit:
        ids = [i for (i,) in reads.fetch(session, _ids_statement(shape, limit), params,
                                         prepare=False)]
    return reads.fetch(session, _by_ids(), {"ids": ids, "queue_now": params["queue_now"]}) \
        if ids else []


@functools.lru_cache(maxsize=256)
def _ids_statement(shape: _Shape, limit: int):  # noqa: ANN202
    return _search_ids(shape, limit)


@functools.cache
def _by_ids():  # noqa: ANN202
    """The list's rows of the flags ``ids`` (a PostgreSQL array), in queue order."""
    ids = sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer))
    return _list_select().where(Flag.id == sa.any_(ids)) \
        .order_by(Flag.queue_key.desc(), Flag.id.desc())


def page(session: Session, *, filters: Filters, moderator_id: int | None, limit: int,
         cursor: str | None = None, now: datetime | None = None,
         with_counts: bool = True, counts_max_age: float = 0) -> Page:
    """One page of open flags, most urgent first, after ``cursor`` (keyset).

    ``counts_max_age`` > 0 lets the counts per reason come from ``counts_cache``."""
    now = now or utcnow()
    f = filters
    after = _cursor(cursor)
    results = _fetch(session, _Shape.of(f, after), limit + 1,
                     _params(f, moderator_id=moderator_id, now=now, after=after))
    rows = [_row(r, now) for r in results[:limit]]
    next_cursor = None
    if len(results) > limit and rows:
        next_cursor = f"{rows[-1].key!r}_{rows[-1].flag.id}"
    if not with_counts:
        return Page(rows=rows, next_cursor=next_cursor, filters=filters)
    c = counts_cache.get(session, counts_max_age, filters=f, moderator_id=moderator_id)
    return Page(rows=rows, next_cursor=next_cursor, filters=filters, counts=c.per_reason,
                matching=c.matching, counts_capped=c.capped)


def next_case(session: Session, *, moderator_id: int | None, filters: Filters = Filters(),
              skip: tuple[str, int] | None = None, now: datetime | None = None) -> QueueFlag | None:
    """"Next case": the first row of the queue under ``filters`` that nobody else holds,
    other than the subject ``skip`` ((subject type, subject id): the one just decided)."""
    now = now or utcnow()
    shape = dataclasses.replace(_Shape.of(filters, None), available=True)
    params = _params(filters, moderator_id=moderator_id, now=now, after=None)
    params["skip_type"], params["skip_id"] = skip or ("", 0)
    results = _fetch(session, shape, 1, params)
    return _row(results[0], now).flag if results else None
