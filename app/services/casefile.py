"""Read models for the case pages: everything a template needs, gathered in a few
queries (templates never query). Read-only. They leave the transaction to the caller
(the request's teardown closes the session): rolling back here would expire the loaded
rows, and every attribute the template reads would reload its row (an N+1)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy import func
from sqlmodel import Session, select

from models import (Client, Decision, Feedback, Flag, FlagStatus, JobPost, Moderator, Outreach,
                    SubjectType, utcnow)

from . import NotFound, moderation
from .audit import Actor
from .highlight import EvidenceItem, evidence_items, highlight

DETECTORS = ("scam", "miscategorised", "policy")
RECENT_DECISIONS = 50
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


@dataclass
class PostCase:
    post: JobPost
    client: ClientSummary
    flag: Flag | None              # the case being decided
    open_flags: list[Flag]
    closed_flags: list[Flag]
    evidence: list[EvidenceItem]
    title_html: Markup
    description_html: Markup
    scores: list[tuple[str, float | None]]
    decisions: list[Decision]
    moderators: dict[int, str]
    claim: moderation.ClaimState
    allowed: set[str]
    undoable: Decision | None
    escalated: bool
    staff: list[Moderator] = field(default_factory=list)

    @property
    def version(self) -> int | None:
        return self.flag.version if self.flag else None


def _moderators(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.exec(select(Moderator.id, Moderator.email)
                             .where(Moderator.id.in_(ids))).all())


def _on(condition) -> sa.ColumnElement:  # noqa: ANN001
    """How many rows of the group meet ``condition`` (0 for none, not NULL)."""
    return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)


def _client_counts(client_id: int):  # noqa: ANN202
    """The client's posts, feedback and flags counted in one statement: three one-row
    aggregates side by side (one round trip instead of three)."""
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


def client_summary(session: Session, client: Client, *, now: datetime) -> ClientSummary:
    counts = session.execute(_client_counts(client.id)).one()
    decisions = list(session.exec(select(Decision).where(Decision.client_id == client.id)
                                  .order_by(Decision.created_at.desc(), Decision.id.desc())
                                  .limit(10)))
    joined = client.joined_at
    return ClientSummary(
        client=client, account_age_days=(now - joined).days if joined else None,
        posts_total=counts.posts_total, posts_live=int(counts.posts_live),
        posts_removed=int(counts.posts_removed), feedback_count=counts.feedback_count,
        feedback_avg=float(counts.feedback_avg) if counts.feedback_avg is not None else None,
        feedback_negative=int(counts.feedback_negative), flags_total=counts.flags_total,
        flags_open=int(counts.flags_open), decisions=decisions)


def last_undoable(session: Session, *, actor: Actor, is_admin: bool, now: datetime,
                  post_id: int | None = None, client_id: int | None = None) -> Decision | None:
    """The newest decision on this subject, if the actor may still undo it."""
    stmt = select(Decision)
    stmt = stmt.where(Decision.post_id == post_id) if post_id is not None else \
        stmt.where(Decision.client_id == client_id, Decision.post_id.is_(None))
    latest = session.exec(stmt.where(Decision.undone_at.is_(None))
                          .order_by(Decision.id.desc()).limit(1)).first()
    return latest if moderation.can_undo(latest, actor, is_admin=is_admin, now=now) else None


def post_case(session: Session, *, post_id: int, flag_id: int | None, actor: Actor,
              is_admin: bool, now: datetime | None = None) -> PostCase:
    now = now or utcnow()
    post = session.get(JobPost, post_id)
    if post is None:
        raise NotFound(f"no post #{post_id}")
    client = session.get(Client, post.client_id)
    flags = list(session.exec(select(Flag).where(Flag.post_id == post.id)
                              .order_by(Flag.priority.desc(), Flag.id.desc())))
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
    decisions = list(session.exec(select(Decision).where(Decision.post_id == post.id)
                                  .order_by(Decision.id.desc()).limit(RECENT_DECISIONS)))
    summary = client_summary(session, client, now=now)
    claim = moderation.claim_state(session, subject_type=SubjectType.post, subject_id=post.id,
                                   actor=actor, now=now)
    mods = _moderators(session, {d.moderator_id for d in decisions + summary.decisions}
                       | {claim.claimed_by})
    scores = post.scores or {}
    staff = list(session.exec(select(Moderator).where(Moderator.active.is_(True),
                                                      Moderator.role != "analyst")
                              .order_by(Moderator.email))) if is_admin else []
    case = PostCase(
        post=post, client=summary, flag=flag, open_flags=open_flags, closed_flags=closed,
        evidence=items, title_html=highlight(post.title, items, "title"),
        description_html=highlight(post.description, items, "description"),
        scores=[(d, scores.get(d)) for d in DETECTORS] +
               [(k, v) for k, v in scores.items() if k not in DETECTORS
                and isinstance(v, (int, float))],
        decisions=decisions, moderators=mods, claim=claim,
        allowed=moderation.allowed_actions(flag=flag, post=post, client=client),
        undoable=last_undoable(session, actor=actor, is_admin=is_admin, now=now, post_id=post.id),
        escalated=bool(flag and flag.id in moderation.escalated_flag_ids(session, [flag.id])),
        staff=staff)
    return case


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


def client_case(session: Session, *, client_id: int, actor: Actor, is_admin: bool,
                now: datetime | None = None) -> ClientCase:
    now = now or utcnow()
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client #{client_id}")
    feedback = list(session.exec(select(Feedback).where(Feedback.client_id == client.id)
                                 .order_by(Feedback.created_at.desc()).limit(FEEDBACK_LIMIT)))
    flags = list(session.exec(select(Flag).where(Flag.client_id == client.id)
                              .order_by(Flag.status != FlagStatus.open, Flag.priority.desc(),
                                        Flag.id.desc()).limit(200)))
    open_flag = next((f for f in flags if f.subject_type == SubjectType.client
                      and f.status == FlagStatus.open), None)
    decisions = list(session.exec(select(Decision).where(Decision.client_id == client.id)
                                  .order_by(Decision.id.desc()).limit(RECENT_DECISIONS)))
    outreach = list(session.exec(select(Outreach).where(Outreach.client_id == client.id)
                                 .order_by(Outreach.id.desc())))
    posts = list(session.exec(select(JobPost).where(JobPost.client_id == client.id)
                              .order_by(JobPost.posted_at.desc()).limit(200)))
    claim = moderation.claim_state(session, subject_type=SubjectType.client,
                                   subject_id=client.id, actor=actor, now=now)
    summary = client_summary(session, client, now=now)
    mods = _moderators(session, {d.moderator_id for d in decisions}
                       | {o.moderator_id for o in outreach} | {claim.claimed_by})
    case = ClientCase(
        summary=summary, feedback=feedback, chart=chart_data(feedback), flags=flags,
        open_flag=open_flag, decisions=decisions, outreach=outreach, posts=posts,
        moderators=mods, claim=claim, allowed=moderation.allowed_actions(client=client),
        undoable=last_undoable(session, actor=actor, is_admin=is_admin, now=now,
                               client_id=client.id),
        token=moderation.client_token(client))
    return case
