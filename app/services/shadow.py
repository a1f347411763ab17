"""Shadow mode (docs/models.md): a trained candidate scores every post the active models score,
for a period, beside them, without creating flags. The Models page shows where the two
disagree and how the moderators' decisions on those posts came out."""
from __future__ import annotations

from datetime import timedelta
import sqlalchemy as sa
from sqlmodel import Session, select

from classifiers.candidates import flag_keys
from models import Decision, JobPost, ModelCandidate, ShadowScore, utcnow

from .model_files import CandidateError, active_set, candidate_scorer, get_candidate, model_dir
from .audit import Actor, record
from .transactions import owns_transaction

#: the newest disagreements the Models page lists
LIST_LIMIT = 50


@owns_transaction
def start(session: Session, candidate_id: int, *, days: int, actor: Actor) -> ModelCandidate:
    """Shadow-score with this candidate for ``days`` (one shadow at a time). One commit."""
    if not 1 <= days <= 90:
        raise CandidateError("Shadow mode runs for 1 to 90 days.", 422)
    row = get_candidate(session, candidate_id)
    if row.status != "ready" or not row.versions:
        raise CandidateError(f"Candidate {candidate_id} is {row.status}: only a "
                                          "trained candidate can shadow-score.", 409)
    if row.versions == active_set():
        raise CandidateError(f"{row.version} is the active version.", 409)
    for other in session.exec(select(ModelCandidate).where(ModelCandidate.shadow_until.is_not(None))):
        other.shadow_until = None
        session.add(other)
    row.shadow_until = utcnow() + timedelta(days=days)
    session.add(row)
    record(session, actor=actor, action="models.shadow_start", subject_type="model_candidate",
           subject_id=row.id, after={"version": row.version, "until": row.shadow_until.isoformat()})
    session.commit()
    return row


@owns_transaction
def stop(session: Session, candidate_id: int, *, actor: Actor) -> ModelCandidate:
    row = get_candidate(session, candidate_id)
    if row.shadow_until is None:
        raise CandidateError(f"Candidate {candidate_id} is not shadow-scoring.", 409)
    row.shadow_until = None
    session.add(row)
    record(session, actor=actor, action="models.shadow_stop", subject_type="model_candidate",
           subject_id=row.id, after={"version": row.version})
    session.commit()
    return row


def current(session: Session) -> ModelCandidate | None:
    return session.exec(select(ModelCandidate).where(ModelCandidate.shadow_until > utcnow())
                        .order_by(ModelCandidate.id.desc())).first()


def score_beside(session: Session, post_inputs: list, active_results: list) -> int:
    """Score these posts with the shadow candidate (if one runs) and store both flag sets;
    no flag is created. Part of the scoring chunk's transaction. Returns rows written."""
    row = current(session)
    if row is None or not post_inputs:
        return 0
    scorer = candidate_scorer(model_dir(), row.versions)
    ids = [int(p.id) for p in post_inputs]
    seen = set(session.exec(select(ShadowScore.post_id).where(
        ShadowScore.candidate_id == row.id, ShadowScore.post_id.in_(ids))).all())
    todo = [(p, a) for p, a in zip(post_inputs, active_results) if int(p.id) not in seen]
    if not todo:
        return 0
    now = utcnow()
    for (post, active), shadow in zip(todo, scorer.score_posts([p for p, _ in todo])):
        a, c = sorted(flag_keys(active)), sorted(flag_keys(shadow))
        session.add(ShadowScore(candidate_id=row.id, post_id=int(post.id), active_flags=a,
                                candidate_flags=c, disagree=a != c, created_at=now))
    return len(todo)


def report(session: Session, candidate_id: int) -> dict:
    """Counts, the newest disagreements, and the moderators' decisions on them."""
    base = select(sa.func.count()).select_from(ShadowScore).where(ShadowScore.candidate_id == candidate_id)
    scored = session.exec(base).one()
    disagreements = session.exec(base.where(ShadowScore.disagree)).one()
    rows = session.exec(
        select(ShadowScore, JobPost.external_id, JobPost.title)
        .join(JobPost, JobPost.id == ShadowScore.post_id)
        .where(ShadowScore.candidate_id == candidate_id, ShadowScore.disagree)
        .order_by(ShadowScore.id.desc()).limit(LIST_LIMIT)).all()
    post_ids = [s.post_id for s, _, _ in rows]
    outcome: dict[int, str] = {}
    if post_ids:
        for d in session.exec(select(Decision).where(Decision.post_id.in_(post_ids),
                                                     Decision.undone_at.is_(None))
                              .order_by(Decision.id)):
            if d.action in ("remove", "dismiss", "recategorise"):
                outcome[d.post_id] = d.action
    summary: dict[str, dict[str, int]] = {}
    items = []
    for s, external_id, title in rows:
        added = sorted(set(s.candidate_flags or []) - set(s.active_flags or []))
        dropped = sorted(set(s.active_flags or []) - set(s.candidate_flags or []))
        decided = outcome.get(s.post_id, "undecided")
        side = "candidate only" if added and not dropped else "active only" if dropped and not added else "both differ"
        summary.setdefault(side, {}).setdefault(decided, 0)
        summary[side][decided] += 1
        items.append({"post_id": s.post_id, "external_id": external_id, "title": title,
                      "active": s.active_flags or [], "candidate": s.candidate_flags or [],
                      "added": added, "dropped": dropped, "outcome": decided, "at": s.created_at})
    return {"scored": scored, "disagreements": disagreements, "items": items, "summary": summary}
