"""Training labels, derived from the moderators' decisions in one place (docs/labels.md).

Decisions are append-only: labels are never stored, they are read from the decisions (and
the QA adjudications and follow-up outcomes that supersede them) whenever they are needed.

- ``derive(sources)`` is the pure rule: decision-like rows in, the labels that stand out.
- ``current(session, since=...)`` runs the one query that feeds it.
- ``summary(session)`` counts them per reason and per ISO week (the system and models
  pages), and keeps the count until a decision or an audited change may have moved it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable

import weakref

import sqlalchemy as sa
from sqlmodel import Session, select

from models import (Appeal, AppealStatus, AuditEvent, Client, Decision, DecisionAction, Flag, FlagReason, JobPost, Moderator,
                    Outreach, OutreachOutcome, QaReview, SubjectType)
from models.taxonomy import NOT_A_JOB

A = DecisionAction
#: the decisions that carry a judgement (escalations, notes and reinstatements do not)
LABELLED_ACTIONS = (A.dismiss, A.remove, A.recategorise, A.contact, A.suspend)
#: QA verdicts (``QaLabel``) -> the decision action they stand for
_VERDICT_ACTION = {"not_violation": A.dismiss, "remove": A.remove,
                   "recategorise": A.recategorise, "contact": A.contact, "suspend": A.suspend}
SYSTEM = "system"


@dataclass(frozen=True)
class Label:
    """One training label: the subject, what it is (or is not), the judged text."""
    subject_type: str
    subject_id: int
    subject: str                   # the marketplace's external id
    reason: str                    # a FlagReason
    policy_type: str | None        # for reason "policy"
    category: str | None           # for reason "miscategorised": the right category
    positive: bool
    decided_at: datetime
    decided_by: str                # the moderator's e-mail, or "system"
    model_version: str | None      # the model that raised the flag
    decision_id: int | None
    source: str                    # "decision", "qa_adjudication", "follow_up"
    text: dict[str, Any] | None = field(default=None)  # the judged snapshot (posts)

    @property
    def key(self) -> tuple:
        """Labels with the same key supersede each other (the latest stands)."""
        return (self.subject_type, self.subject_id, self.reason, self.policy_type)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["decided_at"] = self.decided_at.isoformat()
        return out


@dataclass(frozen=True)
class Source:
    """What ``derive`` reads: one decision (or follow-up outcome) with its flag's facts."""
    action: str
    subject_type: str
    subject_id: int
    subject: str
    at: datetime
    by: str
    decision_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    flag_reason: str | None = None
    flag_policy_types: tuple[str, ...] = ()
    flag_suggested: str | None = None
    model_version: str | None = None
    undone: bool = False
    #: an admin's QA adjudication of this decision: (verdict, when, who)
    adjudication: tuple[str, datetime, str] | None = None
    source: str = "decision"
    #: the decision was overturned on appeal: (when, who)
    overturned: tuple[datetime, str] | None = None


def _labels_for(src: Source, action: str, at: datetime, by: str, source: str) -> list[Label]:
    judged = src.details.get("judged") or {}
    text = ({k: judged.get(k) for k in ("title", "description", "category", "content_hash")}
            if judged else None)

    def label(reason: str, positive: bool, *, policy_type: str | None = None,
              category: str | None = None) -> Label:
        return Label(subject_type=src.subject_type, subject_id=src.subject_id,
                     subject=src.subject, reason=str(reason), policy_type=policy_type,
                     category=category, positive=positive, decided_at=at, decided_by=by,
                     model_version=src.model_version, decision_id=src.decision_id,
                     source=source, text=text)

    if src.subject_type == SubjectType.client:
        if action in (A.contact, A.suspend):
            return [label(FlagReason.negative_client, True)]
        if action == A.dismiss:
            return [label(FlagReason.negative_client, False)]
        return []
    if action == A.remove:
        code = src.details.get("reason_code") or _flag_code(src)
        if code == "scam":
            return [label(FlagReason.scam, True)]
        if code == NOT_A_JOB:
            return [label(FlagReason.miscategorised, True, category=NOT_A_JOB)]
        if code:
            return [label(FlagReason.policy, True, policy_type=code)]
        return [label(src.flag_reason, True)] if src.flag_reason else []
    if action == A.recategorise:
        category = src.details.get("to") or src.flag_suggested
        return [label(FlagReason.miscategorised, True, category=category),
                label(FlagReason.scam, False)]
    if action == A.dismiss and src.flag_reason:
        if src.flag_reason == FlagReason.policy and src.flag_policy_types:
            return [label(FlagReason.policy, False, policy_type=t)
                    for t in src.flag_policy_types]
        category = judged.get("category") if src.flag_reason == FlagReason.miscategorised else None
        return [label(src.flag_reason, False, category=category)]
    return []


def _flag_code(src: Source) -> str:
    """The removal reason a flag stands for (a QA verdict "remove" on a dismissal)."""
    if src.flag_reason == FlagReason.scam:
        return "scam"
    if src.flag_reason == FlagReason.policy and src.flag_policy_types:
        return src.flag_policy_types[0]
    if src.flag_reason == FlagReason.miscategorised and src.flag_suggested == NOT_A_JOB:
        return NOT_A_JOB
    return ""


def labels_of(src: Source) -> list[Label]:
    """The labels one source yields: none when undone; an admin's adjudication that
    differs from the decision replaces its labels (dated and signed by the adjudicator)."""
    if src.undone:
        return []
    if src.overturned is not None:
        return _overturned(src)
    if src.adjudication is not None:
        verdict, at, by = src.adjudication
        action = _VERDICT_ACTION.get(verdict)
        if action is not None and action != src.action:
            return _labels_for(src, action, at, by, "qa_adjudication")
    return _labels_for(src, src.action, src.at, src.by, src.source)


def _overturned(src: Source) -> list[Label]:
    """An overturn on appeal supersedes the decision's labels: what it found (a scam, a
    policy breach, a wrong category, a negative client) was not so - the negative label,
    dated and signed by the appeal's decider. A recategorisation's category was right."""
    at, by = src.overturned
    judged = src.details.get("judged") or {}
    out = []
    for lab in _labels_for(src, src.action, at, by, "appeal_overturn"):
        if not lab.positive:
            continue  # "not a scam" from a recategorisation is no longer what was decided
        category = judged.get("category") if lab.reason == FlagReason.miscategorised else None
        out.append(replace(lab, positive=False, category=category or lab.category))
    return out


def derive(sources: Iterable[Source]) -> list[Label]:
    """The labels that stand: per subject and reason (and policy type) the latest one
    (ties: the later decision). Sorted by time."""
    latest: dict[tuple, Label] = {}
    for src in sources:
        for lab in labels_of(src):
            old = latest.get(lab.key)
            if old is None or (lab.decided_at, lab.decision_id or 0) >= (
                    old.decided_at, old.decision_id or 0):
                latest[lab.key] = lab
    return sorted(latest.values(), key=lambda x: (x.decided_at, x.decision_id or 0, x.key))


# --- the query ----------------------------------------------------------------------------

def sources(session: Session) -> list[Source]:
    """Every decision that may carry a label, plus the follow-ups that ended "improved"."""
    rows = session.exec(
        select(Decision, Flag, Moderator.email, QaReview, JobPost.external_id,
               Client.external_id, Appeal)
        .join(Flag, Flag.id == Decision.flag_id, isouter=True)
        .join(Moderator, Moderator.id == Decision.moderator_id, isouter=True)
        .join(QaReview, sa.and_(QaReview.decision_id == Decision.id,
                                QaReview.adjudicated_label.is_not(None)), isouter=True)
        .join(JobPost, JobPost.id == Decision.post_id, isouter=True)
        .join(Client, Client.id == Decision.client_id)
        .join(Appeal, sa.and_(Appeal.decision_id == Decision.id,
                              Appeal.status == AppealStatus.overturned), isouter=True)
        .where(Decision.action.in_([str(a) for a in LABELLED_ACTIONS]))
        .order_by(Decision.id))
    out: list[Source] = []
    adjudicators: dict[int, str] = {}
    deciders: dict[int, str] = {}
    for decision, flag, email, review, post_ext, client_ext, appeal in rows:
        details = decision.details or {}
        if "qa_review" in details or "appeal" in details:
            continue  # a correction (QA adjudication, appeal): the verdict is the label
        overturned = None
        if appeal is not None:
            if appeal.decided_by not in deciders:
                moderator = session.get(Moderator, appeal.decided_by)
                deciders[appeal.decided_by] = moderator.email if moderator else SYSTEM
            overturned = (appeal.decided_at, deciders[appeal.decided_by])
        adjudication = None
        if review is not None:
            if review.adjudicator_id not in adjudicators:
                moderator = session.get(Moderator, review.adjudicator_id)
                adjudicators[review.adjudicator_id] = moderator.email if moderator else SYSTEM
            adjudication = (review.adjudicated_label, review.adjudicated_at,
                            adjudicators[review.adjudicator_id])
        is_post = decision.subject_type == SubjectType.post
        out.append(Source(
            action=decision.action, subject_type=decision.subject_type,
            subject_id=decision.subject_id, subject=post_ext if is_post else client_ext,
            at=decision.created_at, by=email or SYSTEM, decision_id=decision.id,
            details=details, flag_reason=flag.reason if flag else None,
            flag_policy_types=tuple(flag.policy_types or ()) if flag else (),
            flag_suggested=flag.suggested_category if flag else None,
            model_version=flag.model_version if flag else details.get("model_version"),
            undone=decision.undone_at is not None, adjudication=adjudication,
            overturned=overturned))
    improved = session.exec(
        select(Outreach, Client.external_id, Flag.model_version)
        .join(Client, Client.id == Outreach.client_id)
        .join(Flag, Flag.id == Outreach.flag_id, isouter=True)
        .where(Outreach.outcome == OutreachOutcome.improved))
    for outreach, client_ext, version in improved:
        out.append(Source(action=A.dismiss, subject_type=SubjectType.client,
                          subject_id=outreach.client_id, subject=client_ext,
                          at=outreach.outcome_at or outreach.created_at, by=SYSTEM,
                          model_version=version, source="follow_up"))
    return out


def current(session: Session, *, since: datetime | None = None) -> list[Label]:
    """The labels that stand now (decided at or after ``since``, if given)."""
    labels = derive(sources(session))
    if since is not None:
        labels = [x for x in labels if x.decided_at >= since]
    return labels


#: per engine (a database): the fingerprint of the last count, and the count (``summary``)
_SUMMARIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _fingerprint(session: Session) -> tuple:
    """Changes whenever a standing label may have: decisions are append-only (a new one has a
    higher id), and every undo, QA adjudication, appeal decision and follow-up outcome writes
    an audit event (so does every decision). Two index lookups, whatever the history."""
    newest = lambda column: sa.select(sa.func.max(column)).scalar_subquery()  # noqa: E731
    return tuple(session.execute(sa.select(newest(AuditEvent.id), newest(Decision.id))).one())


def summary(session: Session) -> dict[str, Any]:
    """Counts of the standing labels: per reason (and policy type), per ISO week. Deriving
    them reads every labelled decision, so the count is kept per database until the
    fingerprint changes: the system and models pages, viewed often, then read two index
    entries, and the decisions only after something was decided. (Read before the count: a
    write landing during it changes the fingerprint, so the next view counts again.)"""
    engine = session.get_bind()
    key = _fingerprint(session)
    cached = _SUMMARIES.get(engine)
    if cached is not None and cached[0] == key:
        return cached[1]
    counts = _summarise(current(session))
    _SUMMARIES[engine] = (key, counts)
    return counts


def _summarise(labels: list[Label]) -> dict[str, Any]:
    by_reason: Counter = Counter()
    by_week: Counter = Counter()
    for lab in labels:
        name = f"{lab.reason}: {lab.policy_type}" if lab.policy_type else lab.reason
        by_reason[(name, lab.positive)] += 1
        year, week, _ = lab.decided_at.isocalendar()
        by_week[(f"{year}-W{week:02d}", lab.positive)] += 1

    def table(counter: Counter) -> list[tuple[str, int, int]]:
        names = sorted({k for k, _ in counter})
        return [(n, counter[(n, True)], counter[(n, False)]) for n in names]

    return {"total": len(labels), "by_reason": table(by_reason), "by_week": table(by_week)}
