"""Automatic holds: what the ``shadow`` and ``hold`` tiers do to new flags, and how a held
post leaves its hold (docs/automation.md).

Scoring asks ``route`` which new flags to queue (a key in ``shadow`` queues none) and which
posts to hold; ``hold_posts`` hides those posts in the same transaction: the post's
status becomes ``under_review``, a ``post_hold`` row keeps the measured precision that
allowed it, the flag jumps to the front of the queue (``HOLD_PRIORITY``) and a
``post.held`` event goes to the marketplace. A moderator's decision settles it
(``settle``): a dismissal (or a recategorisation) releases the post (``post.released``),
a removal keeps it down; an undo puts the hold back (``unsettle``). These helpers add to
the caller's transaction and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import (AutomationTier, Client, Decision, Flag, FlagReason, FlagStatus, HoldOutcome,
                    JobPost, PostHold, PostStatus, SubjectType, Tier)

from .audit import SYSTEM, record
from .flags import SUSPEND_RECOMMENDED_PRIORITY, Detection
from .outbox import emit

#: priority points a held post's flag gains: ahead of every unheld flag (an hour of waiting
#: is worth QUEUE_AGE_WEIGHT = 0.5 points), and at least SUSPEND_RECOMMENDED_PRIORITY so a
#: rescoring's upsert keeps it
HOLD_PRIORITY = 2 * SUSPEND_RECOMMENDED_PRIORITY
HELD_NOTICE = ("This post is hidden while a moderator reviews it: our checks found it "
               "likely breaks the marketplace's rules. You will hear from us either way.")
RELEASED_NOTICE = "A moderator reviewed this post and it is visible again."


#: a policy type's tier key is ``policy:<type>`` (``automation.KEYS``)
POLICY_PREFIX = "policy:"


def in_force(session: Session) -> dict[str, AutomationTier]:
    """The stored tiers (what scoring acts on); a key without a row is at ``review``."""
    return {row.key: row for row in session.exec(select(AutomationTier))}


@dataclass(frozen=True)
class PlannedHold:
    post_id: int
    content_hash: str
    reason: str
    tier: AutomationTier


def tier_of(tiers: dict[str, AutomationTier], reason: str,
            policy_types: list[str] | None) -> tuple[str, AutomationTier | None]:
    """The tier a new flag falls under. A policy flag names several types: held if any of
    them is at ``hold`` (the one with the highest measured lower bound is recorded),
    shadowed only if all of them are at ``shadow``; a flag without a key is reviewed."""
    keys = ([f"{POLICY_PREFIX}{t}" for t in policy_types or []]
            if reason == FlagReason.policy else [reason])
    rows = [tiers[k] for k in keys if k in tiers]
    held = [r for r in rows if r.tier == Tier.hold and r.lower_bound is not None]
    if held:
        return Tier.hold, max(held, key=lambda r: r.lower_bound)
    if rows and len(rows) == len(keys) and all(r.tier == Tier.shadow for r in rows):
        return Tier.shadow, rows[0]
    return Tier.review, None


def route(session: Session, detections: list[tuple[dict, Detection]], posts: dict[int, Any],
          open_keys: set[tuple[int, str]], stats: dict) -> tuple[list, list[PlannedHold]]:
    """Filter a scoring chunk's detections by tier: new flags under ``shadow`` are dropped
    (the scores stay on the post), new flags under ``hold`` on a live post are planned as
    holds (one per post) and given ``HOLD_PRIORITY``. Flags already open are refreshed as
    before, whatever their tier."""
    tiers = in_force(session)
    if not any(t.tier != Tier.review for t in tiers.values()):
        return detections, []
    kept, planned = [], {}
    for subject, detection in detections:
        post_id = subject["post_id"]
        if (post_id, detection.reason) in open_keys:
            kept.append((subject, detection))
            continue
        tier, row = tier_of(tiers, detection.reason, detection.policy_types)
        if tier == Tier.shadow:
            stats["shadowed"] = stats.get("shadowed", 0) + 1
            continue
        post = posts[post_id]
        if tier == Tier.hold and post.status == PostStatus.live and post_id not in planned:
            planned[post_id] = PlannedHold(post_id, post.content_hash, detection.reason, row)
            detection = replace(detection, priority=detection.priority + HOLD_PRIORITY)
        kept.append((subject, detection))
    return kept, list(planned.values())


def _released_before(session: Session, post_ids: list[int]) -> set[tuple[int, str]]:
    """(post, content hash) pairs a human already released: never held again as they are."""
    if not post_ids:
        return set()
    return set(session.execute(sa.select(PostHold.post_id, PostHold.content_hash).where(
        PostHold.post_id.in_(post_ids), PostHold.outcome == HoldOutcome.released)).all())


def hold_posts(session: Session, planned: list[PlannedHold], *, now: datetime) -> list[PostHold]:
    """Hide the planned posts (after the chunk's flags were upserted): each only if it is
    still live with the content that was scored, and a human has not released that
    content before. A post not held keeps its flag at the front of the queue (it was put
    there for the hold), which a moderator's decision closes as usual."""
    released = _released_before(session, [p.post_id for p in planned])
    made = []
    for plan in sorted(planned, key=lambda p: p.post_id):
        if (plan.post_id, plan.content_hash) in released:
            _unboost(session, plan)
            continue
        result = session.execute(
            sa.update(JobPost).where(JobPost.id == plan.post_id,
                                     JobPost.status == PostStatus.live,
                                     JobPost.content_hash == plan.content_hash)
            .values(status=PostStatus.under_review)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            continue
        flag_id = _open_flag_id(session, plan)
        if flag_id is None:  # (cannot happen: upserted in this transaction)
            continue
        t = plan.tier
        hold = PostHold(post_id=plan.post_id, flag_id=flag_id, tier_key=t.key,
                        content_hash=plan.content_hash, decisions=t.decisions, upheld=t.upheld,
                        precision=t.precision or 0.0, lower_bound=t.lower_bound or 0.0,
                        held_at=now)
        session.add(hold)
        session.flush()
        _emit_held(session, hold, plan.reason)
        record(session, actor=SYSTEM, action="post.hold", subject_type="post",
               subject_id=plan.post_id, before={"post": PostStatus.live},
               after={"post": PostStatus.under_review, "hold": hold.id, "flag": flag_id,
                      **_figures(hold)})
        made.append(hold)
    return made


def _open_flag_id(session: Session, plan: PlannedHold) -> int | None:
    return session.execute(sa.select(Flag.id).where(
        Flag.post_id == plan.post_id, Flag.reason == plan.reason,
        Flag.status == FlagStatus.open)).scalar()


def _unboost(session: Session, plan: PlannedHold) -> None:
    """A planned hold that does not happen: its flag loses the hold's priority."""
    session.execute(sa.update(Flag).where(
        Flag.post_id == plan.post_id, Flag.reason == plan.reason, Flag.status == FlagStatus.open,
        Flag.priority >= HOLD_PRIORITY)
        .values(priority=Flag.priority - HOLD_PRIORITY,
                queue_key=Flag.queue_key - HOLD_PRIORITY, version=Flag.version + 1)
        .execution_options(synchronize_session=False))


def _figures(hold: PostHold) -> dict[str, Any]:
    return {"tier": hold.tier_key, "precision": hold.precision,
            "precision_lower_bound": hold.lower_bound, "decisions": hold.decisions}


def _externals(session: Session, post_id: int) -> tuple[str, str]:
    return session.execute(sa.select(JobPost.external_id, Client.external_id)
                           .join(Client, Client.id == JobPost.client_id)
                           .where(JobPost.id == post_id)).one()


def _emit_held(session: Session, hold: PostHold, reason: str, **extra: Any) -> None:
    post, client = _externals(session, hold.post_id)
    emit(session, event_type="post.held", subject_type=SubjectType.post, subject_id=hold.post_id,
         payload={"post": post, "client": client, "reason": reason, "hold": hold.id,
                  "flag": hold.flag_id, **_figures(hold), "notice": HELD_NOTICE, **extra})


def current(session: Session, post_id: int) -> PostHold | None:
    """The post's hold in force, if any."""
    return session.exec(select(PostHold).where(PostHold.post_id == post_id,
                                               PostHold.outcome == HoldOutcome.held)
                        .order_by(PostHold.id.desc())).first()


def latest(session: Session, post_id: int) -> PostHold | None:
    return session.exec(select(PostHold).where(PostHold.post_id == post_id)
                        .order_by(PostHold.id.desc())).first()


def held(session: Session, post: JobPost) -> PostHold | None:
    """The hold in force on ``post`` (a query only for a post that is ``under_review``).
    A decision on a held post names it in its details (``{"hold": id}``): the case page
    shows the hold of a post whose decisions name one."""
    return current(session, post.id) if post.status == PostStatus.under_review else None


def marker(hold: PostHold | None) -> dict[str, int]:
    return {"hold": hold.id} if hold is not None else {}


def settle(session: Session, post: JobPost, hold: PostHold | None, *, decision: Decision,
           removed: bool, now: datetime, flag_id: int | None = None) -> PostHold | None:
    """A human decided on a held post (``hold``, from ``held``; the caller holds the post's
    lock). ``removed``: the post came down, the hold ends as ``removed``. Otherwise (a
    dismissal or recategorisation of ``flag_id``) the post is released - back to
    ``live``, a ``post.released`` event - when that flag is the one that held it."""
    if hold is None or (not removed and flag_id != hold.flag_id):
        return None
    hold.outcome = HoldOutcome.removed if removed else HoldOutcome.released
    hold.settled_at, hold.decision_id = now, decision.id
    session.add(hold)
    if not removed:
        post.status = PostStatus.live
        session.add(post)
        external, client = _externals(session, post.id)
        emit(session, event_type="post.released", subject_type=SubjectType.post,
             subject_id=post.id, payload={"post": external, "client": client, "hold": hold.id,
                                          "decision": decision.id, "notice": RELEASED_NOTICE})
        record(session, actor=SYSTEM, action="post.release", subject_type="post",
               subject_id=post.id, before={"post": PostStatus.under_review, "hold": hold.id},
               after={"post": PostStatus.live, "decision": decision.id})
    return hold


def release_cleared(session: Session, post_id: int, flag_id: int, *, now: datetime) -> bool:
    """The flag that held the post was dismissed by the system (an edit the detector no
    longer flags): the post is released, as a moderator's dismissal would."""
    hold = current(session, post_id)
    if hold is None or hold.flag_id != flag_id:
        return False
    hold.outcome, hold.settled_at = HoldOutcome.released, now
    session.add(hold)
    session.execute(sa.update(JobPost).where(JobPost.id == post_id,
                                             JobPost.status == PostStatus.under_review)
                    .values(status=PostStatus.live).execution_options(synchronize_session=False))
    external, client = _externals(session, post_id)
    emit(session, event_type="post.released", subject_type=SubjectType.post, subject_id=post_id,
         payload={"post": external, "client": client, "hold": hold.id, "decision": None,
                  "notice": RELEASED_NOTICE})
    record(session, actor=SYSTEM, action="post.release", subject_type="post", subject_id=post_id,
           before={"post": PostStatus.under_review, "hold": hold.id},
           after={"post": PostStatus.live, "flag_dismissed": flag_id})
    return True


def unsettle(session: Session, decision: Decision, post: JobPost) -> bool:
    """Undo of the decision that settled a hold: the post is held again (status, the hold
    row, and a new ``post.held`` event saying so). False if it settled none."""
    hold = session.exec(select(PostHold).where(PostHold.decision_id == decision.id,
                                               PostHold.post_id == post.id)).first()
    if hold is None:
        return False
    hold.outcome, hold.settled_at, hold.decision_id = HoldOutcome.held, None, None
    session.add(hold)
    post.status = PostStatus.under_review
    session.add(post)
    reason = session.execute(sa.select(Flag.reason).where(Flag.id == hold.flag_id)).scalar_one()
    session.flush()
    _emit_held(session, hold, reason, undo_of=decision.id)
    return True
