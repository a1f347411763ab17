"""Bulk dismiss/remove of post cases, and taking down a cluster of similar posts."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models import Client, Decision, Flag, FlagReason, FlagStatus, JobPost, PostStatus, utcnow

from .. import ServiceError, holds
from ..audit import Actor, record
from .common import (A, _CLOSE, _NOT_REMOVED, REMOVE_REASONS, StaleCase, _decision, _lock_flag,
                     _post_event, _post_flag, decision_use_case, judged, lock_post_case,
                     removal_label, removal_notice, removal_reason)
from .post_actions import _remove_post


def cluster_removal_reason(session: Session, post_id: int) -> str:
    """``removal_reason`` of the post's most urgent open scam or policy flag: what taking
    its similar posts down preselects."""
    flag = session.exec(select(Flag).where(
        Flag.post_id == post_id, Flag.status == FlagStatus.open,
        Flag.reason.in_([FlagReason.scam, FlagReason.policy]))
        .order_by(Flag.priority.desc(), Flag.id)).first()
    return removal_reason(flag)




# --- bulk and cluster --------------------------------------------------------------------

BULK_ACTIONS = (A.dismiss, A.remove)
BULK_MAX = 200


@decision_use_case
def bulk(session: Session, *, action: str, items: list[tuple[int, int]], actor: Actor,
         reason_code: str | None = None, now: datetime | None = None) -> list[Decision]:
    """Dismiss or remove several post cases in one transaction: all or nothing. If any
    item changed since the list was rendered, nothing is done (StaleCase)."""
    now = now or utcnow()
    if action not in BULK_ACTIONS:
        raise ServiceError("bulk actions are dismiss and remove")
    if not items:
        raise ServiceError("select at least one item")
    if len(items) > BULK_MAX:
        raise ServiceError(f"at most {BULK_MAX} items at once")
    if action == A.remove and reason_code not in REMOVE_REASONS:
        raise ServiceError("choose why the posts are removed")
    # every post's lock, then every flag's, each by id, before anything is read or written
    flag_ids = [flag_id for flag_id, _ in items]
    lock_post_case(session, session.exec(select(Flag.post_id).where(Flag.id.in_(flag_ids))),
                   flag_ids)
    decisions = []
    removed_posts: set[int] = set()
    for flag_id, version in items:
        flag, post, client = _post_flag(session, flag_id)
        if action == A.remove and post.id in removed_posts:
            continue  # another open flag of a post removed above: it was closed with it
        if flag.status != FlagStatus.open or flag.version != version:
            session.rollback()
            raise StaleCase(f"Case #{flag_id} changed since the list was shown. Nothing was "
                            "done; here is the fresh queue.")
        if action == A.dismiss:
            seen = judged(post, flag)
            hold = holds.held(session, post)
            flag = _lock_flag(session, flag_id, version, now, status=FlagStatus.dismissed,
                              closed_at=now, **_CLOSE)
            d = _decision(session, action=A.dismiss, flag=flag, client_id=client.id,
                          post_id=post.id, actor=actor, reason="bulk dismiss",
                          details={"label": "not_violation", "flag_reason": flag.reason,
                                   "flag_version": flag.version, "bulk": True,
                                   "before": {"flag": FlagStatus.open, "post": post.status},
                                   "judged": seen, **holds.marker(hold)}, now=now)
            holds.settle(session, post, hold, decision=d, removed=False, now=now,
                         flag_id=flag.id)
            record(session, actor=actor, action="post.dismiss", subject_type="post",
                   subject_id=post.id, after={"flag": flag.id, "decision": d.id, "bulk": True})
        else:
            if post.status == PostStatus.removed:
                raise StaleCase(f"Post #{post.id} is already removed. Nothing was done.")
            d = _remove_post(session, flag=flag, version=version, post=post, client=client,
                             reason_code=reason_code, actor=actor, comment="bulk remove", now=now)
            removed_posts.add(post.id)
        decisions.append(d)
    record(session, actor=actor, action=f"bulk.{action}", subject_type="flag",
           subject_id=",".join(str(i) for i, _ in items)[:64],
           after={"count": len(decisions), "flags": [i for i, _ in items]})
    session.commit()
    return decisions


@decision_use_case
def cluster_remove(session: Session, *, source_post_id: int, post_ids: list[int],
                   reason_code: str, actor: Actor, expected: int,
                   now: datetime | None = None) -> list[Decision]:
    """Take down a ring of near-duplicate posts in one step (the preview showed
    ``expected`` posts; a different count now means: look again). Posts without an open
    flag get one decision each, linked to no flag."""
    now = now or utcnow()
    if reason_code not in REMOVE_REASONS:
        raise ServiceError("choose why the posts are removed")
    lock_post_case(session, post_ids)
    posts = list(session.exec(select(JobPost).where(JobPost.id.in_(post_ids),
                                                    JobPost.status.in_(list(_NOT_REMOVED)))))
    if len(posts) != expected:
        raise StaleCase(f"{len(posts)} of those posts are still up, not {expected}. Nothing was "
                        "done; check the preview again.")
    decisions = []
    for post in posts:
        client = session.get(Client, post.client_id)
        flag = session.exec(select(Flag).where(Flag.post_id == post.id,
                                               Flag.status == FlagStatus.open)
                            .order_by(Flag.priority.desc())).first()
        if flag is not None:
            decisions.append(_remove_post(session, flag=flag, version=flag.version, post=post,
                                          client=client, reason_code=reason_code, actor=actor,
                                          comment=f"cluster of post #{source_post_id}", now=now,
                                          cluster_of=source_post_id))
            continue
        before = {"post": post.status}
        seen = judged(post)
        hold = holds.held(session, post)
        post.status = PostStatus.removed
        post.updated_at = now
        session.add(post)
        d = _decision(session, action=A.remove, flag=None, client_id=client.id, post_id=post.id,
                      actor=actor, reason=f"cluster of post #{source_post_id}",
                      details={"label": removal_label(reason_code), "reason_code": reason_code,
                               "cluster_of": source_post_id, "before": before,
                               "judged": seen}, now=now)
        _post_event(session, "post.removed", post, client, reason=reason_code,
                    notice=removal_notice(reason_code, post.title), decision=d.id)
        holds.settle(session, post, hold, decision=d, removed=True, now=now)
        record(session, actor=actor, action="post.remove", subject_type="post",
               subject_id=post.id, before={**before, "judged": seen},
               after={"post": post.status, "reason": reason_code, "cluster_of": source_post_id})
        decisions.append(d)
    record(session, actor=actor, action="cluster.remove", subject_type="post",
           subject_id=source_post_id, after={"count": len(decisions),
                                             "posts": [p.id for p in posts]})
    session.commit()
    return decisions
