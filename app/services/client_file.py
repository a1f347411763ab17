"""The client case page's reads: a handful of Core selects of the columns the page shows,
sent together (one round trip on PostgreSQL: ``reads.fetch_each``), read-only records
instead of ORM entities, and every list bounded. The page shows the newest
``FIRST_ROWS`` feedbacks and posts (their totals come from the counts); older ones come
``PAGE_SIZE`` at a time from a "show older" panel (``more``: keyset pages after the last
row shown, htmx swaps them in under the list; without htmx the same URL is a page).

Before (issue 27): ~14 ORM queries, up to 500 feedbacks and 200 posts built as entities
and rendered in full; now one pipeline of eleven statements (the strikes, the suspension
policy's inputs and the decisions' appeals among them), and 10 + 10 rows rendered at first.
A suspended client's page also reads its suspension's notices."""
from __future__ import annotations

import functools
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import (Appeal, Client, ClientStatus, Decision, Feedback, Flag, FlagReason, FlagStatus,
                    JobPost, Moderator, Outreach, SubjectType, utcnow)

from . import NotFound, moderation, notices, reads, strikes
from .audit import Actor
from .casefile import (CLIENT_DECISIONS, FEEDBACK_LIMIT, RECENT_DECISIONS, ClientCase,
                       _appealable_ids, _client_counts_for, chart_data, client_summary)

#: the newest feedbacks and posts the client page shows at first
FIRST_ROWS = 10
#: the older feedbacks or posts a "show older" panel adds (``more``)
PAGE_SIZE = 50
#: the client's flags and messages the page lists (open flags first, then the newest)
FLAGS_LIMIT = 200
OUTREACH_LIMIT = 50
#: a point of the feedback chart
ChartPoint = namedtuple("ChartPoint", "created_at rating negative")
#: a row of the posts list
PostRow = namedtuple("PostRow", "id title category posted_at status")


@dataclass(frozen=True)
class More:
    """A "show older" panel's rows: the client (id, name), up to ``PAGE_SIZE`` feedback
    records or ``PostRow``s after the row ``after`` (None: from the newest), and the id to
    continue after when older rows follow (else None)."""
    kind: str
    client_id: int
    client_name: str
    after: int | None
    rows: list
    next_after: int | None


@dataclass(frozen=True, eq=False)
class _Statements:
    main: Any
    flags: Any
    decisions: Any
    last_decision: Any
    outreach: Any
    chart: Any
    feedback: Any
    posts: Any
    strikes: Any
    negative_open: Any
    appealed: Any


@functools.cache
def _statements() -> _Statements:
    """Built once; the client id (``client``) and the pages' offsets bound per call."""
    client = sa.bindparam("client", type_=sa.Integer)
    client_t, flag_t, decision_t = Client.__table__, Flag.__table__, Decision.__table__
    outreach_t, feedback_t, post_t = Outreach.__table__, Feedback.__table__, JobPost.__table__
    appeal_t = Appeal.__table__
    counts = _client_counts_for(client).subquery("counts")
    claimer, author, sender = (Moderator.__table__.alias(n) for n in ("claimer", "author",
                                                                       "sender"))
    return _Statements(
        main=select(*reads.columns(client_t), *counts.c)
        .select_from(client_t.join(counts, sa.true())).where(client_t.c.id == client),
        flags=select(*reads.columns(flag_t), claimer.c.email)
        .select_from(flag_t.outerjoin(claimer, claimer.c.id == flag_t.c.claimed_by))
        .where(flag_t.c.client_id == client)
        .order_by(flag_t.c.status != FlagStatus.open, flag_t.c.priority.desc(),
                  flag_t.c.id.desc()).limit(FLAGS_LIMIT),
        decisions=select(*reads.columns(decision_t), author.c.email)
        .select_from(decision_t.outerjoin(author, author.c.id == decision_t.c.moderator_id))
        .where(decision_t.c.client_id == client)
        .order_by(decision_t.c.id.desc()).limit(RECENT_DECISIONS),
        last_decision=select(*reads.columns(decision_t))
        .where(decision_t.c.client_id == client, decision_t.c.post_id.is_(None),
               decision_t.c.undone_at.is_(None))
        .order_by(decision_t.c.id.desc()).limit(1),
        outreach=select(*reads.columns(outreach_t), sender.c.email)
        .select_from(outreach_t.outerjoin(sender, sender.c.id == outreach_t.c.moderator_id))
        .where(outreach_t.c.client_id == client)
        .order_by(outreach_t.c.id.desc()).limit(OUTREACH_LIMIT),
        chart=select(feedback_t.c.created_at, feedback_t.c.rating, feedback_t.c.negative)
        .where(feedback_t.c.client_id == client)
        .order_by(feedback_t.c.created_at.desc()).limit(FEEDBACK_LIMIT),
        feedback=_rows_statement("feedback", FIRST_ROWS + 1, after=False),
        posts=_rows_statement("posts", FIRST_ROWS + 1, after=False),
        # the enforcement ladder (strikes.standing), bound as strikes.one_client_params
        strikes=strikes.one_client_statement(),
        # what moderation.suspension_hold asks besides the latest contact
        negative_open=select(flag_t.c.id).where(
            flag_t.c.subject_type == sa.literal_column(f"'{SubjectType.client.value}'"),
            flag_t.c.subject_id == client,
            flag_t.c.reason == sa.literal_column(f"'{FlagReason.negative_client.value}'"),
            flag_t.c.status == sa.literal_column(f"'{FlagStatus.open.value}'")).limit(1),
        # which of the listed decisions have an appeal (appeals.appealed_of)
        appealed=select(appeal_t.c.decision_id, appeal_t.c.id).where(
            appeal_t.c.decision_id.in_(
                select(decision_t.c.id).where(decision_t.c.client_id == client)
                .order_by(decision_t.c.id.desc()).limit(RECENT_DECISIONS).scalar_subquery())))


#: what a list of the page shows: its table, its columns, its order (newest first)
_LISTS = {"feedback": (Feedback.__table__, None, ("created_at", "id")),
          "posts": (JobPost.__table__, ("id", "title", "category", "posted_at", "status"),
                    ("posted_at", "id"))}


@functools.lru_cache(maxsize=8)
def _rows_statement(kind: str, limit: int, *, after: bool) -> sa.Select:
    """The client's (bound ``client``) feedback records or ``PostRow`` columns, newest
    first, at most ``limit``; ``after``: only those older than the row ``after`` (its id,
    bound; a row of another client or none is no position: nothing follows it). One
    walk of the client's index on its time (ix_feedback_client_created,
    ix_job_post_client_posted) from that row on."""
    table, names, (at, ident) = _LISTS[kind]
    client = sa.bindparam("client", type_=sa.Integer)
    cols = reads.columns(table) if names is None else [table.c[n] for n in names]
    stmt = select(*cols).where(table.c.client_id == client)
    if after:
        anchor = table.alias("anchor")
        anchor_at = select(anchor.c[at]).where(
            anchor.c.id == sa.bindparam("after", type_=sa.Integer),
            anchor.c.client_id == client).scalar_subquery()
        stmt = stmt.where(sa.tuple_(table.c[at], table.c[ident]) < sa.tuple_(
            anchor_at, sa.bindparam("after", type_=sa.Integer)))
    return stmt.order_by(table.c[at].desc(), table.c[ident].desc()).limit(limit)


def _rows_of(kind: str, rows: list) -> list:
    if kind == "posts":
        return [PostRow._make(row) for row in rows]
    return [reads.take(row, 0, Feedback.__table__)[0] for row in rows]


@functools.cache
def _more_head() -> tuple[sa.Select, dict[str, sa.Select]]:
    client_t = Client.__table__
    client = sa.bindparam("client", type_=sa.Integer)
    anchors = {kind: select(table.c.id).where(table.c.id == sa.bindparam("after", type_=sa.Integer),
                                              table.c.client_id == client)
               for kind, (table, _names, _order) in _LISTS.items()}
    return select(client_t.c.id, client_t.c.name).where(client_t.c.id == client), anchors


def more(session: Session, *, client_id: int, kind: str, after: int | None) -> More:
    """A "show older" panel of the client page: ``kind`` ("feedback" or "posts") after the
    row ``after`` (None: from the newest), ``PAGE_SIZE`` at most. NotFound: no such
    client, or ``after`` is not one of the client's rows of that kind."""
    head, anchors = _more_head()
    params = {"client": client_id, "after": after}
    queries = [(head, params), (_rows_statement(kind, PAGE_SIZE + 1, after=after is not None),
                                params)]
    if after is not None:
        queries.append((anchors[kind], params))
    results = reads.fetch_each(session, queries)
    if not results[0]:
        raise NotFound(f"no client #{client_id}")
    if after is not None and not results[2]:
        raise NotFound(f"no {kind} #{after} of client #{client_id}")
    rows = _rows_of(kind, results[1][:PAGE_SIZE])
    return More(kind, client_id, results[0][0][1], after, rows,
                rows[-1].id if len(results[1]) > PAGE_SIZE else None)


def client_case(session: Session, *, client_id: int, actor: Actor, is_admin: bool,
                now: datetime | None = None) -> ClientCase:
    """Everything the client case page shows; of the feedback and the posts the newest
    ``FIRST_ROWS`` (``more`` reads older ones). The rows are read-only records
    (``reads.record``): the page only reads them."""
    now = now or utcnow()
    q = _statements()
    params = {"client": client_id, **strikes.one_client_params(client_id, now)}
    (main, flag_rows, decision_rows, last, outreach_rows, chart_rows, feedback_rows,
     post_rows, strike_rows, negative_open, appealed) = reads.fetch_each(
        session, [(stmt, params) for stmt in (
            q.main, q.flags, q.decisions, q.last_decision, q.outreach, q.chart, q.feedback,
            q.posts, q.strikes, q.negative_open, q.appealed)])
    if not main:
        raise NotFound(f"no client #{client_id}")
    client, at = reads.take(main[0], 0, Client.__table__)
    counts = main[0][at:]
    emails: dict[int, str] = {}
    flags = [_with_email(row, Flag.__table__, "claimed_by", emails) for row in flag_rows]
    decisions = [_with_email(row, Decision.__table__, "moderator_id", emails)
                 for row in decision_rows]
    outreach = [_with_email(row, Outreach.__table__, "moderator_id", emails)
                for row in outreach_rows]
    open_client_flags = [f for f in flags if f.subject_type == SubjectType.client
                         and f.status == FlagStatus.open]
    newest = sorted(decisions, key=lambda d: (d.created_at, d.id), reverse=True)
    summary = client_summary(session, client, now=now, decisions=newest[:CLIENT_DECISIONS],
                             counts=counts)
    feedback = _rows_of("feedback", feedback_rows[:FIRST_ROWS])
    posts = _rows_of("posts", post_rows[:FIRST_ROWS])
    latest = last[0] if last else None
    if latest is not None:
        latest = reads.record(Decision.__table__)._make(latest)
    allowed = moderation.allowed_actions(client=client)
    appealable = set(_appealable_ids(decisions))
    case = ClientCase(
        summary=summary, feedback=feedback,
        chart=chart_data([ChartPoint._make(row) for row in chart_rows]), flags=flags,
        open_flag=open_client_flags[0] if open_client_flags else None, decisions=decisions,
        outreach=outreach, posts=posts, moderators=emails,
        claim=moderation.claim_state_of(open_client_flags, actor=actor, now=now),
        allowed=allowed,
        undoable=(latest if moderation.can_undo(latest, actor, is_admin=is_admin, now=now)
                  else None),
        token=moderation.client_token(client),
        suspend_hold=(moderation.suspension_hold_of(client, outreach[0] if outreach else None,
                                                    negative_open=bool(negative_open))
                      if moderation.A.suspend in allowed else None),
        suspension_notices=(notices.of_suspension(session, client.id)
                            if client.status == ClientStatus.suspended else None),
        appealed={decision_id: appeal_id for decision_id, appeal_id in appealed
                  if decision_id in appealable},
        standing=strikes.standing_of(strike_rows))
    case.feedback_more = feedback[-1].id if len(feedback_rows) > FIRST_ROWS else None
    case.posts_more = posts[-1].id if len(post_rows) > FIRST_ROWS else None
    return case


def _with_email(row: tuple, table: sa.Table, who: str, emails: dict[int, str]) -> Any:
    """The record at the start of ``row``; the e-mail after it is noted for its ``who``."""
    record, at = reads.take(row, 0, table)
    if row[at] is not None:
        emails[getattr(record, who)] = row[at]
    return record
