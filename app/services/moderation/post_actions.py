"""Post decisions: dismiss, recategorise, remove, escalate, and notes (one use case, one
transaction each)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models import Client, Decision, Flag, FlagStatus, JobPost, PostStatus, utcnow
from models.taxonomy import CATEGORIES, NOT_A_JOB, category_label

from .. import ServiceError, flags, holds, notices
from ..audit import Actor, record
from ..content import post_content_hash
from ..locks import lock_clients, lock_moderator
from .common import (A, _CLOSE, REMOVE_REASONS, _check, _clean, _close_other_flags, _decision, _get,
                     _lock_flag, _post_event, _post_flag, decision_use_case, judged, lock_case_of,
                     lock_post_case, removal_label, removal_notice, undo_ends)


@decision_use_case
def dismiss(session: Session, *, flag_id: int, version: int | None, actor: Actor,
            comment: str = "", now: datetime | None = None) -> Decision:
    """Not a violation. The dismissal is the label the next model learns from."""
    now = now or utcnow()
    flag, post, _client = _post_flag(session, flag_id)
    lock_post_case(session, [post.id], [flag.id])
    before = {"flag": flag.status, "post": post.status}
    _check(A.dismiss, flag=flag, post=post, version=version)
    seen = judged(post, flag)
    hold = holds.held(session, post)
    flag = _lock_flag(session, flag_id, version, now, status=FlagStatus.dismissed,
                      closed_at=now, **_CLOSE)
    decision = _decision(session, action=A.dismiss, flag=flag, client_id=flag.client_id,
                         post_id=post.id, actor=actor, reason=_clean(comment, required=False),
                         details={"label": "not_violation", "flag_reason": flag.reason,
                                  "score": flag.score, "model_version": flag.model_version,
                                  "flag_version": flag.version, "before": before,
                                  "judged": seen, **holds.marker(hold)}, now=now)
    holds.settle(session, post, hold, decision=decision, removed=False, now=now,
                 flag_id=flag.id)
    record(session, actor=actor, action="post.dismiss", subject_type="post", subject_id=post.id,
           before={**before, "judged": seen}, after={"flag": flag.id, "status": flag.status, "decision": decision.id})
    session.commit()
    return decision


@decision_use_case
def recategorise(session: Session, *, flag_id: int, version: int | None, category: str,
                 actor: Actor, comment: str = "", now: datetime | None = None) -> Decision:
    """Move a real job filed in the wrong category to ``category``; the client is told (no
    strike). "Not a job" is no category: a self-ad is removed from the jobs section
    (``remove`` with the reason ``not_a_job``), never kept live by a recategorisation."""
    now = now or utcnow()
    if category == NOT_A_JOB:
        raise ServiceError("a post that is not a job is not moved to another category: "
                           "remove it from the jobs section (Remove: not a job)")
    if category not in CATEGORIES:
        raise ServiceError("choose a category from the list")
    flag, post, client = _post_flag(session, flag_id)
    lock_post_case(session, [post.id], [flag.id])
    _check(A.recategorise, flag=flag, post=post, version=version)
    if category == post.category:
        raise ServiceError(f"the post is already in {category_label(category)}")
    before = {"flag": flag.status, "category": post.category}
    seen = judged(post, flag)
    hold = holds.held(session, post)
    flag = _lock_flag(session, flag_id, version, now, status=FlagStatus.resolved,
                      closed_at=now, **_CLOSE)
    _set_category(session, post, category, now)
    notice = (f"Your job post \"{post.title}\" was moved to the category "
              f"{category_label(category)} so the right freelancers find it. No action is "
              "needed and this does not count against your account.")
    decision = _decision(session, action=A.recategorise, flag=flag, client_id=client.id,
                         post_id=post.id, actor=actor, reason=_clean(comment, required=False),
                         details={"label": "miscategorised", "from": before["category"],
                                  "to": category, "suggested": flag.suggested_category,
                                  "flag_version": flag.version, "before": before,
                                  "judged": seen, **holds.marker(hold)}, now=now)
    _post_event(session, "post.recategorised", post, client, category=category,
                previous_category=before["category"], notice=notice, decision=decision.id)
    holds.settle(session, post, hold, decision=decision, removed=False, now=now,
                 flag_id=flag.id)
    record(session, actor=actor, action="post.recategorise", subject_type="post",
           subject_id=post.id, before={**before, "judged": seen},
           after={"flag": flag.status, "category": category, "decision": decision.id})
    session.commit()
    return decision


def _set_category(session: Session, post: JobPost, category: str, now: datetime) -> None:
    """A moderator's category is part of the post's content from now on: its content hash
    follows, so the marketplace echoing the post back with this category is "unchanged" (no
    rescore that could re-flag a human decision); scores are not redone either."""
    post.category = category
    post.content_hash = post_content_hash(title=post.title, description=post.description,
                                          category=category, skills=post.skills,
                                          budget=post.budget)
    post.updated_at = now
    session.add(post)


@decision_use_case
def remove(session: Session, *, flag_id: int, version: int | None, reason_code: str,
           actor: Actor, comment: str = "", now: datetime | None = None) -> Decision:
    """Take the post down (reason required); the post's other open flags close with it."""
    now = now or utcnow()
    flag, post, client = _post_flag(session, flag_id)
    lock_clients(session, [client.id])  # the strike re-ranks the client's other open flags
    lock_post_case(session, [post.id], [flag.id])
    _check(A.remove, flag=flag, post=post, version=version)
    decision = _remove_post(session, flag=flag, version=version, post=post, client=client,
                            reason_code=reason_code, actor=actor, comment=comment, now=now)
    flags.rerank(session, [client.id], now=now)
    session.commit()
    return decision


def _remove_post(session: Session, *, flag: Flag, version: int | None, post: JobPost,
                 client: Client, reason_code: str, actor: Actor, comment: str,
                 now: datetime, cluster_of: int | None = None) -> Decision:
    if reason_code not in REMOVE_REASONS:
        raise ServiceError("choose why the post is removed (scam, a policy type or not a job)")
    before = {"flag": flag.status, "post": post.status}
    seen = judged(post, flag)
    hold = holds.held(session, post)
    flag = _lock_flag(session, flag.id, version, now, status=FlagStatus.resolved,
                      closed_at=now, **_CLOSE)
    others = _close_other_flags(session, post_id=post.id, except_id=flag.id, now=now)
    post.status = PostStatus.removed
    post.updated_at = now
    session.add(post)
    notice = removal_notice(reason_code, post.title)
    details = {"label": removal_label(reason_code), "reason_code": reason_code,
               "flag_version": flag.version,
               "before": before, "closed_flags": others, "judged": seen,
               **holds.marker(hold)}
    if cluster_of is not None:
        details["cluster_of"] = cluster_of
    decision = _decision(session, action=A.remove, flag=flag, client_id=client.id,
                         post_id=post.id, actor=actor,
                         reason=_clean(comment, required=False) or REMOVE_REASONS[reason_code],
                         details=details, now=now)
    _post_event(session, "post.removed", post, client, reason=reason_code, notice=notice,
                decision=decision.id)
    holds.settle(session, post, hold, decision=decision, removed=True, now=now)
    notified = notices.write_for_removal(session, decision=decision, post=post, client=client,
                                         reason_code=reason_code, send_after=undo_ends(now),
                                         now=now)
    record(session, actor=actor, action="post.remove", subject_type="post", subject_id=post.id,
           before={**before, "judged": seen}, after={"post": post.status, "reason": reason_code,
                                 "decision": decision.id, "closed_flags": [o["id"] for o in others],
                                 "freelancers_notified": notified})
    return decision


@decision_use_case
def escalate(session: Session, *, flag_id: int, version: int | None, actor: Actor,
             comment: str = "", now: datetime | None = None) -> Decision:
    """Hand the case to the admins: it stays open, marked escalated, and is released."""
    now = now or utcnow()
    flag = _get(session, Flag, flag_id, "case")
    lock_case_of(session, flag)
    _check(A.escalate, flag=flag, version=version)
    post = session.get(JobPost, flag.post_id) if flag.post_id is not None else None
    seen = judged(post, flag) if post is not None else None
    flag = _lock_flag(session, flag_id, version, now, **_CLOSE)
    decision = _decision(session, action=A.escalate, flag=flag, client_id=flag.client_id,
                         post_id=flag.post_id, actor=actor,
                         reason=_clean(comment, required=False),
                         details={"flag_version": flag.version,
                                  **({"judged": seen} if seen else {})}, now=now)
    record(session, actor=actor, action="flag.escalate", subject_type="flag", subject_id=flag.id,
           before={"judged": seen} if seen else None,
           after={"decision": decision.id, "comment": decision.reason})
    session.commit()
    return decision


def add_note(session: Session, *, text: str, actor: Actor, flag_id: int | None = None,
             post_id: int | None = None, client_id: int | None = None, form_token: str = "",
             now: datetime | None = None) -> Decision:
    """A note on a case, a post or a client. Notes change nothing, so they lock no case; a
    submission that repeats the ``form_token`` of a note this moderator already added (the form
    sent again after a reload or from the browser's history) returns that note instead of adding it twice."""
    now = now or utcnow()
    text = _clean(text, required=True)
    form_token = (form_token or "")[:64]
    if form_token:
        lock_moderator(session, actor.moderator_id)  # two copies sent at once: one after the other
        earlier = _note_with_token(session, actor, form_token)
        if earlier is not None:
            return earlier
    flag = _get(session, Flag, flag_id, "case") if flag_id else None
    if flag is not None:
        post_id, client_id = flag.post_id, flag.client_id
    if post_id is not None:
        client_id = _get(session, JobPost, post_id, "post").client_id
    if client_id is None:
        raise ServiceError("a note needs a subject")
    _get(session, Client, client_id, "client")
    decision = _decision(session, action=A.note, flag=flag, client_id=client_id,
                         post_id=post_id, actor=actor, reason=text,
                         details={"form_token": form_token} if form_token else {}, now=now)
    record(session, actor=actor, action="note.add",
           subject_type="post" if post_id else "client", subject_id=post_id or client_id,
           after={"decision": decision.id, "text": text[:500]})
    session.commit()
    return decision


def _note_with_token(session: Session, actor: Actor, token: str) -> Decision | None:
    """This moderator's recent note (of their last 50) that carried ``token``."""
    recent = session.exec(select(Decision).where(Decision.action == A.note,
                                                 Decision.moderator_id == actor.moderator_id)
                          .order_by(Decision.id.desc()).limit(50)).all()
    return next((d for d in recent if (d.details or {}).get("form_token") == token), None)
