"""Bulk dismiss/remove of post cases, and taking down a cluster of similar posts."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from models import (AuditEvent, Client, Decision, Flag, FlagReason, FlagStatus, JobPost, PostStatus,
                    SubjectType, utcnow)

from .. import ServiceError, flags, holds, notices, rollups
from .. import bulk as bulk_writes
from ..audit import Actor, record
from ..locks import lock_clients, lock_post_case_rows
from ..outbox import emit_all
from .common import (A, _CLOSE, _NOT_REMOVED, REMOVE_REASONS, StaleCase, _clean, _decision,
                     _post_event, _post_flag, decision_use_case, judged,
                     lock_post_case, removal_label, removal_notice, removal_reason,
                     undo_ends)
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
    item changed since the list was rendered, nothing is done (StaleCase).

    Set-based: the locks (posts, then flags, each by id, in two statements), one read of
    the clients, every check before any write, then one UPDATE of the flags (one of the
    posts), one multi-row INSERT each of the decisions, the marketplace events and the
    audit events - a dozen statements for 200 items, where one item at a time took ~7
    each. The same rows, checks and answers as deciding the items one by one in order."""
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
    # (a removal's strikes re-rank the clients' other open flags: their clients first, read
    # with the lock; the rows are held here: the checks below find them in the session's
    # identity map, which keeps only rows someone references)
    clients = lock_clients(session, select(Flag.client_id).where(bulk_writes.ids_in(session, Flag.id, flag_ids))) \
        if action == A.remove else None
    posts, locked = lock_post_case_rows(
        session, session.exec(select(Flag.post_id).where(bulk_writes.ids_in(session, Flag.id, flag_ids))),
        flag_ids)
    client_ids = sorted({f.client_id for f in locked})
    if clients is None:
        clients = session.exec(select(Client).where(bulk_writes.ids_in(session, Client.id, client_ids))).all()
    todo = _checked(session, action, items, locked)
    if action == A.dismiss:
        decisions = _dismiss_all(session, todo, actor, now)
    else:
        decisions = _remove_all(session, todo, locked, reason_code, actor, now)
        flags.rerank(session, client_ids, now=now)
    record(session, actor=actor, action=f"bulk.{action}", subject_type="flag",
           subject_id=",".join(str(i) for i, _ in items)[:64],
           after={"count": len(decisions), "flags": [i for i, _ in items]})
    session.commit()
    return decisions


Todo = list[tuple[Flag, JobPost, Client]]


def _checked(session: Session, action: str, items: list[tuple[int, int]],
             locked: list[Flag]) -> Todo:
    """The items to decide, in order, after the checks deciding them one by one would make
    (the first refusal wins; nothing is written yet): a flag decided by an earlier item is
    stale; with ``remove``, an item whose post an earlier item removes is skipped (its flag
    closes with the post)."""
    todo: Todo = []
    decided: set[int] = set()
    removed_posts: set[int] = set()
    for flag_id, version in items:
        flag, post, client = _post_flag(session, flag_id)
        if action == A.remove and post.id in removed_posts:
            continue  # another open flag of a post removed above: it is closed with it
        if flag.status != FlagStatus.open or flag.version != version or flag.id in decided:
            session.rollback()
            raise StaleCase(f"Case #{flag_id} changed since the list was shown. Nothing was "
                            "done; here is the fresh queue.")
        if action == A.remove:
            if post.status == PostStatus.removed:
                session.rollback()
                raise StaleCase(f"Post #{post.id} is already removed. Nothing was done.")
            removed_posts.add(post.id)
        decided.add(flag.id)
        todo.append((flag, post, client))
    return todo


def _close_flags(session: Session, ids: list[int], status: str, now: datetime) -> dict[int, Flag]:
    """Close these open flags (locked and checked by the caller, so held by the session) in
    one UPDATE, bumping each version; returns them as they are now (the session's objects
    given the written values, not read again)."""
    if not ids:
        return {}
    rollups.touch(session, ids)  # the dashboard's counts follow (added at commit)
    values = dict(status=status, closed_at=now, updated_at=now, **_CLOSE)
    result = session.execute(
        sa.update(Flag).where(bulk_writes.ids_in(session, Flag.id, ids),
                              Flag.status == FlagStatus.open)
        .values(version=Flag.version + 1, **values).returning(Flag.id, Flag.version)
        .execution_options(synchronize_session=False))
    versions = dict(result.all())
    if len(versions) != len(ids):
        session.rollback()
        raise StaleCase("A case changed since the list was shown. Nothing was done; here is "
                        "the fresh queue.")
    out = {}
    for flag_id, version in versions.items():
        flag = session.get(Flag, flag_id)  # the locked row: from the identity map
        for name, value in (*values.items(), ("version", version)):
            set_committed_value(flag, name, value)
        out[flag_id] = flag
    return out


def _decision_row(*, action: str, flag: Flag, post: JobPost, client: Client, actor: Actor,
                  reason: str, details: dict, now: datetime) -> dict:
    """The row ``_decision`` writes for a post case, as a dict for ``bulk.insert_ids``."""
    return {"flag_id": flag.id, "subject_type": SubjectType.post, "subject_id": post.id,
            "client_id": client.id, "post_id": post.id, "moderator_id": actor.moderator_id,
            "action": action, "reason": reason, "details": details, "created_at": now}


def _write_decisions(session: Session, rows: list[dict]) -> list[Decision]:
    """Insert the decisions in one statement (PostgreSQL); returns them in order."""
    ids = bulk_writes.insert_ids(session, Decision.__table__, rows)
    found = {d.id: d for d in session.exec(select(Decision).where(
        bulk_writes.ids_in(session, Decision.id, ids)))}
    return [found[i] for i in ids]


def _audit_all(session: Session, actor: Actor, events: list[dict], now: datetime) -> None:
    """``record`` for many events (dicts of its keyword arguments but ``actor``), in one
    statement (PostgreSQL)."""
    bulk_writes.insert_ids(session, AuditEvent.__table__, [
        {"actor": actor.label, "actor_id": actor.moderator_id, "action": e["action"],
         "subject_type": e["subject_type"], "subject_id": str(e["subject_id"]),
         "before": e.get("before"), "after": e.get("after"), "at": now} for e in events])


def _dismiss_all(session: Session, todo: Todo, actor: Actor, now: datetime) -> list[Decision]:
    seen = [judged(post, flag) for flag, post, _ in todo]
    held = [holds.held(session, post) for _, post, _ in todo]  # a query only for held posts
    closed = _close_flags(session, [flag.id for flag, _, _ in todo], FlagStatus.dismissed, now)
    decisions = _write_decisions(session, [_decision_row(
        action=A.dismiss, flag=flag, post=post, client=client, actor=actor,
        reason="bulk dismiss",
        details={"label": "not_violation", "flag_reason": closed[flag.id].reason,
                 "flag_version": closed[flag.id].version, "bulk": True,
                 "before": {"flag": FlagStatus.open, "post": post.status}, "judged": judged_,
                 **holds.marker(hold)},
        now=now) for (flag, post, client), judged_, hold in zip(todo, seen, held, strict=True)])
    for (flag, post, _), d, hold in zip(todo, decisions, held, strict=True):
        # a dismissed flag that held its post releases it (post.released)
        holds.settle(session, post, hold, decision=d, removed=False, now=now, flag_id=flag.id)
    _audit_all(session, actor, [
        {"action": "post.dismiss", "subject_type": "post", "subject_id": post.id,
         "after": {"flag": flag.id, "decision": d.id, "bulk": True}}
        for (flag, post, _), d in zip(todo, decisions, strict=True)], now)
    return decisions


def _remove_all(session: Session, todo: Todo, locked: list[Flag], reason_code: str,
                actor: Actor, now: datetime) -> list[Decision]:
    """What ``_remove_post`` does for each item, set-based: the item's flag and its post's
    other open flags resolved, the post removed, a decision, a marketplace event and an
    audit event each."""
    before = [{"flag": flag.status, "post": post.status} for flag, post, _ in todo]
    seen = [judged(post, flag) for flag, post, _ in todo]
    held = [holds.held(session, post) for _, post, _ in todo]
    targets = {flag.id for flag, _, _ in todo}
    post_ids = [post.id for _, post, _ in todo]
    others = sorted(f.id for f in locked if f.post_id in set(post_ids) and f.id not in targets
                    and f.status == FlagStatus.open)
    closed = _close_flags(session, sorted(targets) + others, FlagStatus.resolved, now)
    by_post: dict[int, list[dict]] = {}
    for flag_id in others:
        other = closed[flag_id]
        by_post.setdefault(other.post_id, []).append(
            {"id": other.id, "status": FlagStatus.open, "version": other.version})
    session.execute(sa.update(JobPost).where(bulk_writes.ids_in(session, JobPost.id, post_ids))
                    .values(status=PostStatus.removed, updated_at=now)
                    .execution_options(synchronize_session=False))
    reason = _clean("bulk remove", required=False) or REMOVE_REASONS[reason_code]
    decisions = _write_decisions(session, [_decision_row(
        action=A.remove, flag=flag, post=post, client=client, actor=actor, reason=reason,
        details={"label": removal_label(reason_code), "reason_code": reason_code,
                 "flag_version": closed[flag.id].version, "before": was,
                 "closed_flags": by_post.get(post.id, []), "judged": judged_,
                 **holds.marker(hold)}, now=now)
        for (flag, post, client), was, judged_, hold in zip(todo, before, seen, held, strict=True)])
    for (_, post, _), d, hold in zip(todo, decisions, held, strict=True):
        holds.settle(session, post, hold, decision=d, removed=True, now=now)  # the hold ends
    emit_all(session, [dict(event_type="post.removed", subject_type=SubjectType.post,
                            subject_id=post.id,
                            payload={"post": post.external_id, "client": client.external_id,
                                     "reason": reason_code,
                                     "notice": removal_notice(reason_code, post.title),
                                     "decision": d.id})
                       for (_, post, client), d in zip(todo, decisions, strict=True)], now=now)
    notified = _notify_all(session, todo, decisions, reason_code, now)
    _audit_all(session, actor, [
        {"action": "post.remove", "subject_type": "post", "subject_id": post.id,
         "before": {**was, "judged": judged_},
         "after": {"post": PostStatus.removed, "reason": reason_code, "decision": d.id,
                   "closed_flags": [o["id"] for o in by_post.get(post.id, [])],
                   "freelancers_notified": notified.get(post.id, 0)}}
        for (_, post, _), d, was, judged_ in zip(todo, decisions, before, seen, strict=True)],
        now)
    for _, post, _ in todo:  # the session's copies as the database has them now
        session.expire(post)
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
    lock_clients(session, select(JobPost.client_id).where(JobPost.id.in_(post_ids)))
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
    flags.rerank(session, {p.client_id for p in posts}, now=now)
    record(session, actor=actor, action="cluster.remove", subject_type="post",
           subject_id=source_post_id, after={"count": len(decisions),
                                             "posts": [p.id for p in posts]})
    session.commit()
    return decisions


def _notify_all(session: Session, todo: Todo, decisions: list[Decision], reason_code: str,
                now: datetime) -> dict[int, int]:
    """``notices.write_for_removal`` for the removed posts that have contacts (one query finds
    them): {post id: freelancers notified}."""
    if reason_code not in notices.NOTIFIED_REMOVALS:
        return {}
    with_contacts = {c.post_id for c in notices.contacts_of(session, [p.id for _, p, _ in todo])}
    return {post.id: notices.write_for_removal(session, decision=d, post=post, client=client,
                                               reason_code=reason_code,
                                               send_after=undo_ends(now), now=now)
            for (_, post, client), d in zip(todo, decisions, strict=True)
            if post.id in with_contacts}
