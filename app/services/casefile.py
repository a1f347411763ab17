"""Read models for the case pages: everything a template needs, gathered in a few
queries (templates never query). Read-only. They leave the transaction to the caller
(the request's teardown closes the session): rolling back here would expire the loaded
rows, and every attribute the template reads would reload its row (an N+1)."""
from __future__ import annotations

import functools
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy import func
from sqlmodel import Session, select

from models import (Client, ClientStatus, Decision, Feedback, Flag, FlagStatus, JobPost, Moderator,
                    Outreach, PostStatus, SubjectType, utcnow)

from . import NotFound, appeals, holds, moderation, notices, reads
from .audit import Actor
from .highlight import EvidenceItem, evidence_items, highlight

DETECTORS = ("scam", "miscategorised", "policy")
RECENT_DECISIONS = 50
#: a client's newest decisions in the client panel
CLIENT_DECISIONS = 10
FEEDBACK_LIMIT = 500


@dataclass
class ClientSummary:
    client: Client
    account_age_days: int | None
    posts_total: int
    posts_live: int
    posts_removed: int
    feedback_count: int
    feedback_avg: float | None
    feedback_negative: int
    flags_total: int
    flags_open: int
    decisions: list[Decision]


#: what ``post_case`` reads: records (``reads.record``) with the columns of these tables
PostRecord, FlagRecord, DecisionRecord = Any, Any, Any


@dataclass
class PostCase:
    """The post case page. Its post, client, flags and decisions are records of their
    tables (read-only named tuples with the model's attribute names), not ORM entities:
    ``undoable`` is one too, or a ``Decision`` when older decisions had to be asked."""
    post: PostRecord
    client: ClientSummary
    flag: FlagRecord | None              # the case being decided
    open_flags: list[FlagRecord]
    closed_flags: list[FlagRecord]
    evidence: list[EvidenceItem]
    title_html: Markup
    description_html: Markup
    scores: list[tuple[str, float | None]]
    decisions: list[DecisionRecord]
    moderators: dict[int, str]
    claim: moderation.ClaimState
    allowed: set[str]
    undoable: DecisionRecord | Decision | None
    escalated: bool
    #: who an admin may reassign the case to: ``StaffMember`` (id, email) rows
    staff: list[Any] = field(default_factory=list)
    #: the post as the newest standing decision judged it, if the marketplace edited it
    #: since: ``Judged`` (decision, title, description, category, scores), or None
    judged: Any = None
    #: the post's latest automatic hold (``PostHold``: in force or settled), or None
    hold: Any = None
    #: the freelancers told about this post's removal (``notices.NoticeSummary``)
    notices: Any = None
    #: a suspended client: the freelancers its suspension notified (``NoticeSummary``)
    suspension_notices: Any = None
    #: the listed decisions that have an appeal: ``{decision id: appeal id}``
    appealed: dict[int, int] = field(default_factory=dict)
    #: the client's enforcement ladder (``strikes.Standing``)
    standing: Any = None

    @property
    def version(self) -> int | None:
        return self.flag.version if self.flag else None


def _moderators(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.exec(_statements().moderator_emails,
                             params={"case_moderators": sorted(ids)}).all())


def _on(condition) -> sa.ColumnElement:  # noqa: ANN001
    """How many rows of the group meet ``condition`` (0 for none, not NULL)."""
    return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)


@dataclass(frozen=True, eq=False)
class _Statements:
    """The case pages' statements, built once: building a statement (and SQLAlchemy's
    cache key for it) cost more than running it. Values are bound per call."""
    client_decisions: Any
    last_post_decision: Any
    last_client_decision: Any
    moderator_emails: Any


@functools.cache
def _statements() -> _Statements:
    post = sa.bindparam("case_post", type_=sa.Integer)
    client = sa.bindparam("case_client", type_=sa.Integer)
    not_undone = Decision.undone_at.is_(None)
    client_decisions = select(Decision).where(Decision.client_id == client) \
        .order_by(Decision.created_at.desc(), Decision.id.desc()).limit(CLIENT_DECISIONS)
    return _Statements(
        client_decisions=client_decisions,
        last_post_decision=select(Decision).where(Decision.post_id == post, not_undone)
        .order_by(Decision.id.desc()).limit(1),
        last_client_decision=select(Decision).where(Decision.client_id == client,
                                                    Decision.post_id.is_(None), not_undone)
        .order_by(Decision.id.desc()).limit(1),
        moderator_emails=select(Moderator.id, Moderator.email).where(
            Moderator.id.in_(sa.bindparam("case_moderators", expanding=True))))


@dataclass(frozen=True, eq=False)
class _PostCaseStatements:
    """The post case page's reads (``reads``: records, not ORM entities; one round trip
    on PostgreSQL). Built once; the post id bound per call (``case_post``)."""
    main: Any
    decisions: Any
    staff: Any


@functools.cache
def _post_case_statements() -> _PostCaseStatements:
    post_t, client_t, flag_t = JobPost.__table__, Client.__table__, Flag.__table__
    decision_t, moderator_t = Decision.__table__, Moderator.__table__
    post = sa.bindparam("case_post", type_=sa.Integer)
    # the post's client, as an uncorrelated subquery: the database finds it once (an
    # InitPlan) for the counts and the client's decisions, in the same round trip
    owner = post_t.alias("owner")
    client = select(owner.c.client_id).where(owner.c.id == post).scalar_subquery()
    counts = _client_counts_for(client).subquery("counts")
    claimer, author = moderator_t.alias("claimer"), moderator_t.alias("author")
    post_decisions = select(decision_t.c.id).where(decision_t.c.post_id == post) \
        .order_by(decision_t.c.id.desc()).limit(RECENT_DECISIONS).subquery()
    client_decisions = select(decision_t.c.id).where(decision_t.c.client_id == client) \
        .order_by(decision_t.c.created_at.desc(), decision_t.c.id.desc()) \
        .limit(CLIENT_DECISIONS).subquery()
    # a decision may be in both: a post's are its client's too
    either = sa.union(select(post_decisions.c.id), select(client_decisions.c.id))
    return _PostCaseStatements(
        # the post, its client, its flags (most urgent first) with the e-mail of whoever
        # claimed each, and the client's counts (``_client_counts_for``)
        main=select(*reads.columns(post_t), *reads.columns(client_t),
                    *reads.columns(flag_t), claimer.c.email, *counts.c)
        .select_from(post_t.join(client_t, client_t.c.id == post_t.c.client_id)
                     .join(counts, sa.true())
                     .outerjoin(flag_t, flag_t.c.post_id == post_t.c.id)
                     .outerjoin(claimer, claimer.c.id == flag_t.c.claimed_by))
        .where(post_t.c.id == post)
        .order_by(flag_t.c.priority.desc(), flag_t.c.id.desc()),
        # the post's newest RECENT_DECISIONS and the client's newest CLIENT_DECISIONS,
        # each with the e-mail of the moderator who took it (none for the system's)
        decisions=select(*reads.columns(decision_t), author.c.email)
        .select_from(decision_t.outerjoin(author, author.c.id == decision_t.c.moderator_id))
        .where(decision_t.c.id.in_(either)),
        # whom an admin may reassign the case to
        staff=select(moderator_t.c.id, moderator_t.c.email)
        .where(moderator_t.c.active.is_(True), moderator_t.c.role != "analyst")
        .order_by(moderator_t.c.email))


#: a row of ``_PostCaseStatements.staff``
StaffMember = namedtuple("StaffMember", "id email")


@functools.cache
def _client_counts():  # noqa: ANN202
    """The client's posts, feedback and flags counted in one statement. Built once, the
    client id bound per call (``counts_client``): building it was a sixth of the case
    page's time."""
    return _client_counts_for(sa.bindparam("counts_client", type_=sa.Integer))


def _client_counts_for(client_id: sa.ColumnElement):  # noqa: ANN202
    """Three one-row aggregates side by side (one round trip instead of three) for the
    client ``client_id`` (a bound value or a scalar subquery). Its columns, in order:
    posts_total, posts_live, posts_removed, feedback_count, feedback_avg,
    feedback_negative, flags_total, flags_open (``client_summary`` unpacks them)."""
    posts = select(func.count().label("posts_total"),
                   _on(JobPost.status == "live").label("posts_live"),
                   _on(JobPost.status == "removed").label("posts_removed")
                   ).where(JobPost.client_id == client_id).subquery()
    feedback = select(func.count().label("feedback_count"),
                      func.avg(Feedback.rating).label("feedback_avg"),
                      _on(Feedback.negative >= 0.5).label("feedback_negative")
                      ).where(Feedback.client_id == client_id).subquery()
    flags = select(func.count().label("flags_total"),
                   _on(Flag.status == FlagStatus.open).label("flags_open")
                   ).where(Flag.client_id == client_id).subquery()
    return select(posts, feedback, flags).select_from(
        posts.join(feedback, sa.true()).join(flags, sa.true()))


def client_summary(session: Session, client: Client, *, now: datetime,
                   decisions: list[Decision] | None = None,
                   counts: Any = None) -> ClientSummary:
    """``decisions``: the client's newest ``CLIENT_DECISIONS``, newest first, and
    ``counts``: the columns of ``_client_counts_for``, if the caller has them (else they
    are read here)."""
    if counts is None:
        counts = session.execute(_client_counts(), {"counts_client": client.id}).one()
    if decisions is None:
        decisions = list(session.exec(_statements().client_decisions,
                                      params={"case_client": client.id}))
    joined = client.joined_at
    (posts_total, posts_live, posts_removed, feedback_count, feedback_avg, feedback_negative,
     flags_total, flags_open) = counts
    return ClientSummary(
        client=client, account_age_days=(now - joined).days if joined else None,
        posts_total=posts_total, posts_live=int(posts_live), posts_removed=int(posts_removed),
        feedback_count=feedback_count,
        feedback_avg=float(feedback_avg) if feedback_avg is not None else None,
        feedback_negative=int(feedback_negative), flags_total=flags_total,
        flags_open=int(flags_open), decisions=decisions)


def last_undoable(session: Session, *, actor: Actor, is_admin: bool, now: datetime,
                  post_id: int | None = None, client_id: int | None = None) -> Decision | None:
    """The newest decision on this subject, if the actor may still undo it."""
    if post_id is not None:
        stmt, params = _statements().last_post_decision, {"case_post": post_id}
    else:
        stmt, params = _statements().last_client_decision, {"case_client": client_id}
    latest = session.exec(stmt, params=params).first()
    return latest if moderation.can_undo(latest, actor, is_admin=is_admin, now=now) else None


def post_case(session: Session, *, post_id: int, flag_id: int | None, actor: Actor,
              is_admin: bool, now: datetime | None = None) -> PostCase:
    """Everything the post case page shows. The post, client, flags and decisions are
    read-only records (``reads.record``), not ORM entities: the page only reads them."""
    now = now or utcnow()
    q = _post_case_statements()
    params = {"case_post": post_id}
    results = reads.fetch_each(session, [(q.main, params), (q.decisions, params)]
                               + ([(q.staff, {})] if is_admin else []))
    rows, decision_rows = results[0], results[1]
    if not rows:
        raise NotFound(f"no post #{post_id}")
    post_t, client_t, flag_t = JobPost.__table__, Client.__table__, Flag.__table__
    post, at = reads.take(rows[0], 0, post_t)
    client, flags_at = reads.take(rows[0], at, client_t)
    flags, emails = [], {}
    for row in rows:
        f, at = reads.take(row, flags_at, flag_t)
        if f is not None:
            flags.append(f)
            if row[at] is not None:
                emails[f.claimed_by] = row[at]
    counts = rows[0][at + 1:]
    open_flags = [f for f in flags if f.status == FlagStatus.open]
    closed = [f for f in flags if f.status != FlagStatus.open]
    flag = next((f for f in flags if f.id == flag_id), None) if flag_id else None
    if flag is None or (flag.status != FlagStatus.open and open_flags):
        flag = open_flags[0] if open_flags else (flags[0] if flags else None)
    texts = {"title": post.title, "description": post.description}
    evidence_src: list[dict[str, Any]] = []
    for f in ([flag] if flag else []) + [o for o in open_flags if o is not flag]:
        evidence_src.extend(f.evidence or [])
    items = evidence_items(evidence_src, texts)
    decisions, client_decisions = _decisions(decision_rows, post_id=post.id,
                                             client_id=client.id, emails=emails)
    summary = client_summary(session, client, now=now, decisions=client_decisions,
                             counts=counts)
    claim = moderation.claim_state_of(open_flags, actor=actor, now=now)
    scores = post.scores or {}
    case = PostCase(
        post=post, client=summary, flag=flag, open_flags=open_flags, closed_flags=closed,
        evidence=items, title_html=highlight(post.title, items, "title"),
        description_html=highlight(post.description, items, "description"),
        scores=[(d, scores.get(d)) for d in DETECTORS] +
               [(k, v) for k, v in scores.items() if k not in DETECTORS
                and isinstance(v, (int, float))],
        decisions=decisions, moderators=emails, claim=claim,
        allowed=moderation.allowed_actions(flag=flag, post=post, client=client),
        undoable=_undoable_of(session, decisions, actor=actor, is_admin=is_admin, now=now,
                              post_id=post.id),
        escalated=bool(flag and _escalated_of(session, decisions, flag.id)),
        staff=[StaffMember(*row) for row in results[2]] if is_admin else [],
        judged=edited_since_judged(post, decisions),
        # a query only for a held post, or one whose decisions settled a hold
        hold=holds.latest(session, post.id)
        if post.status == PostStatus.under_review
        or any((d.details or {}).get("hold") for d in decisions) else None,
        # only a removed post can have notices standing (one query, not for the live posts
        # most cases are about)
        notices=notices.summary(session, post_id=post.id, client_id=client.id)
        if post.status == PostStatus.removed else None,
        suspension_notices=notices.of_suspension(session, client.id)
        if client.status == ClientStatus.suspended else None,
        appealed=appeals.appealed_of(session, _appealable_ids(decisions, client_decisions)))
    return case


def _appealable_ids(*lists: list[Any]) -> list[int]:
    """The ids of the listed decisions an appeal can be about (one query then asks which
    have one: ``appeals.appealed_of``)."""
    return sorted({d.id for ds in lists for d in ds if d.action in appeals.APPEALABLE})


@dataclass(frozen=True)
class Judged:
    decision: Any
    title: str
    description: str
    category: str | None
    scores: dict[str, Any]


def edited_since_judged(post: Any, decisions: list[Any]) -> Judged | None:
    """What the newest standing decision on the post judged (its ``details["judged"]``),
    if the live title or description differ from it: "edited after the decision"."""
    for decision in decisions:  # newest first
        seen = (decision.details or {}).get("judged")
        if decision.undone_at is not None or not isinstance(seen, dict):
            continue
        if (seen.get("title"), seen.get("description")) == (post.title, post.description):
            return None
        return Judged(decision=decision, title=str(seen.get("title") or ""),
                      description=str(seen.get("description") or ""),
                      category=seen.get("category"), scores=dict(seen.get("scores") or {}))
    return None


def _decisions(rows: list[tuple], *, post_id: int, client_id: int, emails: dict[int, str]
               ) -> tuple[list[Any], list[Any]]:
    """From the rows of ``_PostCaseStatements.decisions``: the post's newest
    ``RECENT_DECISIONS`` decisions (newest first) and its client's newest
    ``CLIENT_DECISIONS`` (by time, newest first), as records; their moderators' e-mails
    are added to ``emails``."""
    table = Decision.__table__
    both = []
    for row in rows:
        d, at = reads.take(row, 0, table)
        both.append(d)
        if row[at] is not None:
            emails[d.moderator_id] = row[at]
    on_post = sorted((d for d in both if d.post_id == post_id), key=lambda d: d.id,
                     reverse=True)[:RECENT_DECISIONS]
    on_client = sorted((d for d in both if d.client_id == client_id),
                       key=lambda d: (d.created_at, d.id), reverse=True)[:CLIENT_DECISIONS]
    return on_post, on_client


def _complete(decisions: list[Decision]) -> bool:
    """``decisions`` (a post's newest ``RECENT_DECISIONS``) hold all of the post's."""
    return len(decisions) < RECENT_DECISIONS


def _undoable_of(session: Session, decisions: list[Decision], *, actor: Actor, is_admin: bool,
                 now: datetime, post_id: int) -> Decision | None:
    """``last_undoable`` for the post, from its decisions already loaded (newest first)
    when they answer it: the newest not undone among them is the post's newest not undone,
    unless there is none and older decisions were left out."""
    standing = next((d for d in decisions if d.undone_at is None), None)
    if standing is None and not _complete(decisions):
        return last_undoable(session, actor=actor, is_admin=is_admin, now=now, post_id=post_id)
    return standing if moderation.can_undo(standing, actor, is_admin=is_admin, now=now) else None


def _escalated_of(session: Session, decisions: list[Decision], flag_id: int) -> bool:
    """The flag (on this post) carries a live escalation (``moderation.live_escalation``),
    from the post's decisions already loaded when they answer it."""
    if any(d.flag_id == flag_id and moderation.is_live_escalation(d) for d in decisions):
        return True
    if _complete(decisions):
        return False
    return flag_id in moderation.escalated_flag_ids(session, [flag_id])


@dataclass
class ClientCase:
    summary: ClientSummary
    feedback: list[Feedback]
    chart: dict[str, Any]
    flags: list[Flag]
    open_flag: Flag | None
    decisions: list[Decision]
    outreach: list[Outreach]
    posts: list[JobPost]
    moderators: dict[int, str]
    claim: moderation.ClaimState
    allowed: set[str]
    undoable: Decision | None
    token: str
    #: why the policy holds a suspension back now (see moderation.suspension_hold), or None
    suspend_hold: str | None = None
    #: the feedback and posts lists show their newest rows: the id of the last one shown
    #: when older ones follow (``client_file.more`` reads them), else None
    feedback_more: int | None = None
    posts_more: int | None = None
    #: suspended: the freelancers the suspension notified (``notices.NoticeSummary``)
    suspension_notices: Any = None
    #: the listed decisions that have an appeal: ``{decision id: appeal id}``
    appealed: dict[int, int] = field(default_factory=dict)
    #: the client's enforcement ladder (``strikes.Standing``)
    standing: Any = None

    @property
    def client(self) -> Client:
        return self.summary.client


def chart_data(feedback: list[Feedback]) -> dict[str, Any]:
    """Points for the ratings/negativity chart, oldest first, plus a rolling mean of the
    last five ratings (the trend a moderator judges "consistently negative" on)."""
    points = sorted(feedback, key=lambda f: f.created_at)
    ratings = [f.rating for f in points]
    rolling = []
    for i in range(len(ratings)):
        window = ratings[max(0, i - 4):i + 1]
        rolling.append(round(sum(window) / len(window), 2))
    return {
        "labels": [f.created_at.strftime("%Y-%m-%d") for f in points],
        "ratings": ratings,
        "rolling": rolling,
        "negative": [round(f.negative, 3) if f.negative is not None else None for f in points],
    }
