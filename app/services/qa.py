"""Reviewer QA: sampling decided cases, the blind second review, agreement (raw and Cohen's
kappa) and the admins' adjudication of disagreements.

Sampling. A human decision that closed a flag (dismiss, recategorise, remove, contact,
suspend), not undone and older than the undo window, is sampled when a hash of its id falls
below the share configured for its flag's reason (``QA_SAMPLE_SHARES``, else
``QA_SAMPLE_SHARE``, 5 %): deterministic, so a decision is sampled or not whoever looks, and
the share holds over many decisions. The sampler reads the decision table forwards from
where it stopped (``qa_scan``, locked while it reads, so two readers never sample the same
range twice) whenever the QA queue is opened.

Blindness. The second moderator sees the content that was judged and the flag's evidence:
not who decided, what, nor their comment, nor anything that reveals it (the post's or the
client's status). Their verdict is stored on the QA row only: it does not act on the post.

Adjudication. A disagreement waits for an admin, whose verdict supersedes both
(``training_label``); if it differs from what was acted on, the admin may apply the
corrective action in the same step: reinstate or remove the post; reinstate a suspended
client whose suspension the verdict overturns (a verdict of "suspend" is not applied here:
suspending goes through the client page and its contact-first rule).
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models import (Client, ClientStatus, Decision, Flag, JobPost, Moderator, PostStatus, QaLabel, QaReview,
                    QaScan, QaStatus, SubjectType, utcnow)

from . import Conflict, NotFound, ServiceError, flags
from .audit import Actor, record
from .locks import lock_clients
from .moderation import undo_seconds
from .moderation import reversals
from .moderation.common import _decision, _post_event, _require_admin

#: a decision's action -> the verdict it carries (other actions are not sampled)
LABEL_OF: dict[str, str] = {"dismiss": QaLabel.not_violation, "remove": QaLabel.remove,
                            "recategorise": QaLabel.recategorise, "contact": QaLabel.contact,
                            "suspend": QaLabel.suspend}
#: the verdicts a second moderator chooses from, per subject
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    SubjectType.post: ((QaLabel.not_violation, "Not a violation"),
                       (QaLabel.remove, "Violation: take the post down"),
                       (QaLabel.recategorise, "Wrong category")),
    SubjectType.client: ((QaLabel.not_violation, "Not a pattern"),
                         (QaLabel.contact, "Contact the client"),
                         (QaLabel.suspend, "Suspend the client")),
}
SCAN_BATCH = 5000
COMMENT_MAX = 2000


# --- sampling ------------------------------------------------------------------------------

def share_for(reason: str) -> float:
    config = current_app.config if has_app_context() else {}
    shares = config.get("QA_SAMPLE_SHARES") or {}
    return float(shares.get(reason, config.get("QA_SAMPLE_SHARE", 0.05)))


def is_sampled(decision_id: int, share: float) -> bool:
    """Whether this decision falls in a sample of ``share`` (uniform and deterministic)."""
    digest = hashlib.sha256(f"trustdesk-qa:{decision_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _insert_ignore(session: Session, table: Any):  # noqa: ANN202
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(table)


def sample_new(session: Session, *, now: datetime | None = None) -> int:
    """Sample the decisions the sampler has not read yet (older than the undo window).
    Adds rows to the caller's transaction; returns how many were sampled."""
    now = now or utcnow()
    session.execute(_insert_ignore(session, QaScan.__table__)
                    .values(id=1, last_decision_id=0).on_conflict_do_nothing())
    scan = session.execute(select(QaScan).where(QaScan.id == 1).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()
    cutoff = now - timedelta(seconds=undo_seconds())
    sampled = 0
    while True:
        rows = session.execute(
            sa.select(Decision.id, Decision.flag_id, Decision.subject_type, Decision.post_id,
                      Decision.client_id, Decision.moderator_id, Decision.action,
                      Decision.undone_at, Flag.reason)
            .join(Flag, Flag.id == Decision.flag_id, isouter=True)
            .where(Decision.id > scan.last_decision_id, Decision.created_at <= cutoff)
            .order_by(Decision.id).limit(SCAN_BATCH)).all()
        if not rows:
            break
        for r in rows:
            if (r.moderator_id is None or r.flag_id is None or r.undone_at is not None
                    or r.action not in LABEL_OF or not is_sampled(r.id, share_for(r.reason))):
                continue
            session.execute(_insert_ignore(session, QaReview.__table__).values(
                decision_id=r.id, flag_id=r.flag_id, subject_type=r.subject_type,
                post_id=r.post_id, client_id=r.client_id, reason=r.reason,
                first_moderator_id=r.moderator_id, first_label=LABEL_OF[r.action],
                sampled_at=now, status=QaStatus.pending, review_comment="")
                .on_conflict_do_nothing())
            sampled += 1
        scan.last_decision_id = rows[-1].id
        session.add(scan)
        session.flush()
    return sampled


# --- the blind second review -------------------------------------------------------------------

@dataclass(frozen=True)
class BlindCase:
    """What the second moderator sees: the judged content and the flag, nothing more."""
    review_id: int
    subject_type: str
    reason: str
    title: str
    text: str
    category: str | None
    evidence: list[dict[str, Any]]
    choices: tuple[tuple[str, str], ...]


def _blind(session: Session, review: QaReview) -> BlindCase:
    flag = session.get(Flag, review.flag_id)
    decision = session.get(Decision, review.decision_id)
    details = (decision.details or {}) if decision else {}
    if review.subject_type == SubjectType.post:
        post = session.get(JobPost, review.post_id)
        # the category as judged: a recategorisation moved the post out of it since
        title, text = post.title, post.description
        category = details.get("from") if review.first_label == QaLabel.recategorise \
            else post.category
    else:
        client = session.get(Client, review.client_id)
        title, text, category = client.name, "", None
    return BlindCase(review.id, review.subject_type, review.reason, title, text, category,
                     list(flag.evidence or []), CHOICES[review.subject_type])


def next_case(session: Session, *, actor: Actor, now: datetime | None = None) -> BlindCase | None:
    """Sample what is new, then the oldest pending case this moderator did not decide."""
    if actor.moderator_id is None:
        raise ServiceError("only a moderator can review")
    sample_new(session, now=now)
    session.commit()
    review = session.exec(
        select(QaReview).where(QaReview.status == QaStatus.pending,
                               QaReview.first_moderator_id != actor.moderator_id)
        .order_by(QaReview.id).limit(1)).first()
    return _blind(session, review) if review else None


def submit(session: Session, *, review_id: int, label: str, actor: Actor, comment: str = "",
           now: datetime | None = None) -> QaReview:
    """Record the second verdict (it does not act on the post). One row, once."""
    now = now or utcnow()
    review = session.get(QaReview, review_id)
    if review is None:
        raise NotFound("no such QA case")
    if review.first_moderator_id == actor.moderator_id:
        raise ServiceError("you decided this case: another moderator reviews it")
    if label not in dict(CHOICES[review.subject_type]):
        raise ServiceError("choose one of the verdicts offered")
    status = QaStatus.agreed if label == review.first_label else QaStatus.disagreed
    done = session.execute(
        sa.update(QaReview).where(QaReview.id == review_id, QaReview.status == QaStatus.pending)
        .values(status=status, reviewer_id=actor.moderator_id, review_label=label,
                review_comment=(comment or "").strip()[:COMMENT_MAX], reviewed_at=now)
    ).rowcount
    if done != 1:
        session.rollback()
        raise Conflict("another moderator reviewed this case first")
    record(session, actor=actor, action="qa.review", subject_type="qa_review",
           subject_id=review_id, after={"status": status})
    session.commit()
    session.refresh(review)
    return review


# --- agreement -----------------------------------------------------------------------------------

def kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two raters' labels (None when undefined: no items, or chance
    agreement of 1, i.e. both always gave the same single label)."""
    return kappa_of(Counter(zip(first, second)))


def kappa_of(pairs: Counter) -> float | None:
    """Cohen's kappa from the counts of (first label, second label) pairs:
    (p_o - p_e) / (1 - p_e), p_e from the two raters' marginals (sklearn's
    ``cohen_kappa_score``, unweighted, without its import)."""
    n = sum(pairs.values())
    if not n:
        return None
    rows: Counter = Counter()
    cols: Counter = Counter()
    for (a, b), count in pairs.items():
        rows[a] += count
        cols[b] += count
    expected = sum(rows[label] * cols[label] for label in rows) / (n * n)
    if expected >= 1:
        return None
    observed = sum(count for (a, b), count in pairs.items() if a == b) / n
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    group: str
    n: int
    agreed: int
    raw: float | None
    kappa: float | None


def agreement(session: Session, *, start: datetime, end: datetime, reason: str = "") -> dict[str, list[Agreement]]:
    """Raw agreement and Cohen's kappa of the second reviews made in [start, end), per
    reason and per first moderator, with their counts (``{"reason": [...], "moderator": [...]}``)."""
    keys = (QaReview.reason, QaReview.first_moderator_id, QaReview.first_label,
            QaReview.review_label)
    stmt = (sa.select(*keys, sa.func.count())
            .where(QaReview.review_label.is_not(None), QaReview.reviewed_at >= start,
                   QaReview.reviewed_at < end).group_by(*keys))
    if reason:
        stmt = stmt.where(QaReview.reason == reason)
    pairs: dict[str, dict[str, Counter]] = {"reason": defaultdict(Counter),
                                            "moderator": defaultdict(Counter)}
    counted = session.execute(stmt).all()
    emails = {i: e for i, e in session.execute(sa.select(Moderator.id, Moderator.email).where(
        Moderator.id.in_({m for _, m, _, _, _ in counted})))} if counted else {}
    for r, moderator, a, b, n in counted:
        pairs["reason"][r][(a, b)] += n
        pairs["moderator"][emails[moderator]][(a, b)] += n
        pairs["reason"]["all"][(a, b)] += n
    out: dict[str, list[Agreement]] = {}
    for kind, groups in pairs.items():
        rows = []
        for group in sorted(groups):
            n = sum(groups[group].values())
            agreed = sum(c for (a, b), c in groups[group].items() if a == b)
            rows.append(Agreement(group, n, agreed, agreed / n, kappa_of(groups[group])))
        out[kind] = rows
    return out


# --- adjudication ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Disagreement:
    review: QaReview
    first_email: str
    reviewer_email: str
    title: str
    subject_status: str
    choices: tuple[tuple[str, str], ...]


def disagreements(session: Session, *, limit: int = 100) -> list[Disagreement]:
    """The admins' adjudication queue, oldest first."""
    reviews = session.exec(select(QaReview).where(QaReview.status == QaStatus.disagreed)
                           .order_by(QaReview.id).limit(limit)).all()
    emails = dict(session.execute(sa.select(Moderator.id, Moderator.email)).all()) if reviews else {}
    out = []
    for r in reviews:
        if r.subject_type == SubjectType.post:
            post = session.get(JobPost, r.post_id)
            title, status = post.title, post.status
        else:
            client = session.get(Client, r.client_id)
            title, status = client.name, client.status
        out.append(Disagreement(r, emails.get(r.first_moderator_id, "?"),
                                emails.get(r.reviewer_id, "?"), title, status,
                                CHOICES[r.subject_type]))
    return out


def correction_for(label: str, subject_type: str, subject_status: str) -> str | None:
    """The corrective action an adjudicated verdict calls for, given the subject now."""
    if subject_type == SubjectType.client:
        overturned = label in (QaLabel.not_violation, QaLabel.contact)
        return "reinstate" if overturned and subject_status == ClientStatus.suspended else None
    if label == QaLabel.not_violation and subject_status == PostStatus.removed:
        return "reinstate"
    if label == QaLabel.remove and subject_status != PostStatus.removed:
        return "remove"
    return None


def adjudicate(session: Session, *, review_id: int, label: str, actor: Actor,
               apply_correction: bool = False, now: datetime | None = None) -> QaReview:
    """An admin's verdict on a disagreement; it becomes the training label. With
    ``apply_correction`` and a verdict that differs from what was acted on, the post is
    reinstated or removed, or the suspended client reinstated, in the same transaction
    (decision, audit, marketplace event)."""
    now = now or utcnow()
    _require_admin(session, actor)
    review = session.get(QaReview, review_id)
    if review is None:
        raise NotFound("no such QA case")
    if label not in dict(CHOICES[review.subject_type]):
        raise ServiceError("choose one of the verdicts offered")
    correction = subject = None
    if apply_correction:
        # the client first (the correction re-ranks its flags: ``flags.rerank``), then the post
        lock_clients(session, [review.client_id])
        subject = (session.get(JobPost, review.post_id, with_for_update=True)
                   if review.subject_type == SubjectType.post
                   else session.get(Client, review.client_id, with_for_update=True))
        correction = correction_for(label, review.subject_type, subject.status)
    cause = _cause(session, review, subject) if correction == "reinstate" else None
    done = session.execute(
        sa.update(QaReview).where(QaReview.id == review_id, QaReview.status == QaStatus.disagreed)
        .values(status=QaStatus.adjudicated, adjudicator_id=actor.moderator_id,
                adjudicated_label=label, adjudicated_at=now, correction=correction)).rowcount
    if done != 1:
        session.rollback()
        raise Conflict("this disagreement was already adjudicated")
    if correction and review.subject_type == SubjectType.post:
        _correct(session, subject, correction, review=review, actor=actor, now=now,
                 reverses=cause.id if cause else None)
    elif correction:
        _reinstate_client(session, subject, review=review, actor=actor, now=now,
                          reverses=cause.id if cause else None)
    record(session, actor=actor, action="qa.adjudicate", subject_type="qa_review",
           subject_id=review_id, after={"label": label, "correction": correction})
    session.commit()
    session.refresh(review)
    return review


def _cause(session: Session, review: QaReview, subject: Any) -> Decision | None:
    """The standing decision a reinstatement would reverse: the one that took the post
    down, or the client's suspension (``reversals``). One taken after the reviewed decision
    is not the reviewed case's to reverse: refused (409), nothing written."""
    cause = (reversals.removed_by(session, subject) if review.subject_type == SubjectType.post
             else reversals.suspended_by(session, subject))
    if cause is not None and cause.id > review.decision_id:
        session.rollback()
        what = "post was taken down" if review.subject_type == SubjectType.post \
            else "client was suspended"
        raise Conflict(f"The {what} again by a later decision, #{cause.id} ({cause.action}), "
                       f"which stands: the reviewed decision #{review.decision_id} is not what "
                       "keeps it so. Record the verdict without the correction; a later "
                       "decision is corrected on its own (an appeal, or an admin).")
    return cause


def _correct(session: Session, post: JobPost, action: str, *, review: QaReview, actor: Actor,
             now: datetime, reverses: int | None = None) -> None:
    reason = f"QA adjudication of case {review.id}"
    if action == "reinstate":
        reversals.reinstate_post(session, post, actor=actor, reason=reason,
                                 details={"qa_review": review.id},
                                 event_reason="qa_adjudication", now=now, reverses=reverses)
        return
    before = {"post": post.status}
    post.status = PostStatus.removed
    post.updated_at = now
    session.add(post)
    client = session.get(Client, post.client_id)
    decision = _decision(session, action=action, flag=None, client_id=client.id, post_id=post.id,
                         actor=actor, reason=reason,
                         details={"qa_review": review.id, "before": before}, now=now)
    _post_event(session, "post.removed", post, client, decision=decision.id,
                reason="qa_adjudication")
    flags.rerank(session, [client.id], now=now)  # the removal is a strike
    record(session, actor=actor, action=f"post.{action}", subject_type="post",
           subject_id=post.id, before=before, after={"post": post.status, "decision": decision.id})


def _reinstate_client(session: Session, client: Client, *, review: QaReview, actor: Actor,
                      now: datetime, reverses: int | None) -> None:
    """The suspended client active again (removed posts stay removed, as ``reinstate``)."""
    reversals.reinstate_client(session, client, actor=actor,
                               reason=f"QA adjudication of case {review.id}",
                               details={"qa_review": review.id},
                               event_reason="qa_adjudication", now=now, reverses=reverses)


def training_label(session: Session, decision_id: int) -> str | None:
    """The label training should use for a decision: the adjudicated verdict when there is
    one (it supersedes both moderators'), else the decision's own."""
    review = session.exec(select(QaReview).where(QaReview.decision_id == decision_id)).first()
    if review is not None and review.adjudicated_label:
        return review.adjudicated_label
    decision = session.get(Decision, decision_id)
    return LABEL_OF.get(decision.action) if decision else None
