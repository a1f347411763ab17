"""Model candidates (docs/models.md): trained on the shipped data plus the moderators' labels,
compared with the active models, promoted only through the gate, rolled back in one action.

- ``request_training`` records a candidate and queues its training job;
  ``run_training`` (the job) trains it (``classifiers.candidates``), never activating it,
  and stores its comparison with the active models.
- ``promote`` activates a candidate if the gate passes (or an admin overrides it with a
  reason, audited); ``rollback`` re-activates any earlier set of versions. Both queue the
  re-scoring of what the new active models have not scored (``queue_rescoring``, batched,
  idempotent: what is scored by the active models is skipped).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlmodel import Session, select

from classifiers import candidates as cand
from classifiers.client_negativity import VERSION as NEGATIVITY_VERSION
from classifiers.registry import read_active, write_active
from models import Client, Feedback, JobPost, ModelCandidate, PostStatus, utcnow

from ..jobs import enqueue
from . import labels as label_service
from . import model_registry, scoring
from .audit import Actor, record
from .model_files import CandidateError, active_set, candidate_scorer, model_dir
from .model_files import get_candidate as get
from .model_files import config as _config
from .transactions import owns_transaction

RUNNING = ("queued", "training")
#: a training that has not reported for this long is taken for dead (a killed worker)
STALE_TRAINING = timedelta(hours=3)


#: the advisory lock every change of the model registry takes (PostgreSQL): a training
#: request, a promotion and a rollback check what is running or active under it
_REGISTRY_LOCK = 0x7D_4D0D_E15  # arbitrary, fixed


def _lock_registry(session: Session) -> None:
    """Serialise registry changes until the transaction ends: two admins clicking at the same
    moment get one training (the other a 409), or one promotion after the other, never two
    that both read the same state. SQLite lets one writer in at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_REGISTRY_LOCK)))


# --- training -----------------------------------------------------------------------------

@owns_transaction
def request_training(session: Session, *, actor: Actor, queue: bool = True) -> ModelCandidate:
    """Record a candidate and queue its training job (``queue=False``: the caller runs
    ``run_training`` itself). One at a time: 409 while one trains."""
    _lock_registry(session)
    running = session.exec(select(ModelCandidate).where(ModelCandidate.status.in_(RUNNING))).first()
    if running is not None and utcnow() - _last_report(running) < STALE_TRAINING:
        raise CandidateError(f"Candidate {running.id} is still training.", 409)
    if running is not None:
        running.status, running.error = "failed", "no progress for 3 hours (worker lost)"
        session.add(running)
    profile = _config("MODEL_TRAIN_PROFILE", "full")
    row = ModelCandidate(status="queued", requested_by=actor.label,
                         progress={"step": 0, "total": cand.steps(cand.PROFILES[profile]),
                                   "what": "queued", "profile": profile, "at": utcnow().isoformat()})
    session.add(row)
    session.flush()
    record(session, actor=actor, action="models.train", subject_type="model_candidate",
           subject_id=row.id, after={"profile": profile})
    if queue:
        enqueue.train_candidate(session, row.id)
    session.commit()
    return row


def _last_report(row: ModelCandidate) -> datetime:
    at = (row.progress or {}).get("at")
    return datetime.fromisoformat(at) if at else row.created_at


def label_inputs(labels: list[label_service.Label]) -> list[cand.LabelInput]:
    """The post labels that carry their judged text, as the classifiers read them."""
    out = []
    for lab in labels:
        text = lab.text or {}
        if lab.subject_type != "post" or not (text.get("title") or text.get("description")):
            continue
        out.append(cand.LabelInput(
            title=text.get("title") or "", description=text.get("description") or "",
            category=text.get("category"), reason=lab.reason, positive=lab.positive,
            decided_at=lab.decided_at, policy_type=lab.policy_type, label_category=lab.category,
            subject=lab.subject))
    return out


def run_training(session: Session, candidate_id: int, *, trainer: Callable | None = None,
                 seed: int | None = None, echo: Callable[[str], None] | None = None) -> dict:
    """Train the candidate (the job). Idempotent: a candidate already trained or failed is
    left as it is. Reports progress on its row (own commits); a failure is recorded on the
    row and raised."""
    row = session.get(ModelCandidate, candidate_id)
    if row is None:
        return {"candidate": candidate_id, "missing": True}
    if row.status not in RUNNING:
        return {"candidate": candidate_id, "status": row.status}
    profile = (row.progress or {}).get("profile") or _config("MODEL_TRAIN_PROFILE", "full")
    total = cand.steps(cand.PROFILES[profile])
    labs = label_inputs(label_service.current(session))
    cutoff = cand.time_cutoff([lab.decided_at for lab in labs])
    done = 0

    def progress(what: str) -> None:
        nonlocal done
        done += 1
        row.status = "training"
        row.progress = {"step": min(done, total), "total": total, "what": what, "profile": profile,
                        "n_labels": len(labs), "at": utcnow().isoformat()}
        session.add(row)
        session.commit()
        if echo is not None:
            echo(what)

    progress("labels read")
    try:
        result = (trainer or cand.train_candidate)(
            labs, out_dir=model_dir(), profile=profile, cutoff=cutoff, progress=progress,
            **({"seed": seed} if seed is not None else {}))
        progress("comparing with the active models")
        comparison = compare(session, result, labs, cutoff)
    except Exception as exc:
        session.rollback()
        row.status, row.error, row.finished_at = "failed", f"{type(exc).__name__}: {exc}"[:2000], utcnow()
        session.add(row)
        session.commit()
        raise
    row.version, row.versions = result["version"], result["versions"]
    row.comparison, row.status, row.finished_at = comparison, "ready", utcnow()
    row.progress = {**(row.progress or {}), "step": total, "what": "ready"}
    session.add(row)
    model_registry.sync(session, actor=Actor("system"), model_dir=model_dir())  # commits
    return {"candidate": candidate_id, "version": row.version, "gate": comparison["gate"]}


def recent_posts(session: Session, limit: int) -> list:
    """The newest ``limit`` posts of the last 30 days, as the scorer reads them."""
    from classifiers import PostInput

    since = utcnow() - timedelta(days=30)
    rows = session.execute(
        select(JobPost.id, JobPost.title, JobPost.description, JobPost.category, JobPost.skills,
               JobPost.budget)
        .where(JobPost.posted_at >= since).order_by(JobPost.id.desc()).limit(limit)).all()
    return [PostInput(id=str(r.id), title=r.title, description=r.description, category=r.category,
                      skills=r.skills, budget=r.budget) for r in rows]


def compare(session: Session, result: dict, labs: list[cand.LabelInput],
            cutoff: datetime | None) -> dict:
    """The candidate beside the active models on the same rows (stored with the candidate)."""
    active = scoring.get_scorer()
    candidate = candidate_scorer(model_dir(), result["versions"])
    after = [lab for lab in labs if cutoff is not None and lab.decided_at >= cutoff]
    split_scorer = result.get("time_split_scorer")
    time_split: dict[str, Any] = {"cutoff": cutoff.isoformat() if cutoff else None,
                                  "n_before": len(labs) - len(after), "n_after": len(after)}
    if cutoff is not None and split_scorer is not None:
        time_split.update(active=cand.evaluate_labels(active, after),
                          candidate=cand.evaluate_labels(split_scorer, after))
    limit = int(_config("MODEL_COMPARE_POSTS", 5000))
    comparison = {
        "active_versions": dict(active.versions), "candidate_versions": dict(result["versions"]),
        "n_labels": len(labs), "seconds": result.get("seconds"),
        "shipped": {"active": cand.shipped_figures(active.metrics),
                    "candidate": cand.shipped_figures(result["metrics"])},
        "time_split": time_split,
        "short_honest": {"active": cand.short_honest(active), "candidate": cand.short_honest(candidate)},
        "last_30_days": {**cand.flag_diff(active, candidate, recent_posts(session, limit)),
                         "limit": limit},
    }
    margin = float(_config("MODEL_GATE_MARGIN", 0.02))
    comparison["gate"] = {"margin": margin, "failures": cand.gate(comparison, margin)}
    return comparison


# --- promotion and rollback ----------------------------------------------------------------

def by_version(session: Session, version: str) -> ModelCandidate:
    row = session.exec(select(ModelCandidate).where(ModelCandidate.version == version)).first()
    if row is None:
        raise CandidateError(f"No candidate or earlier version {version!r}.", 404)
    return row


def _remember_active(session: Session, active: dict[str, str]) -> None:
    """Record the set being replaced (once), so a rollback can return to it."""
    for row in session.exec(select(ModelCandidate).where(ModelCandidate.versions.is_not(None))):
        if row.versions == active:
            return
    version = active.get("scam", "")
    if session.exec(select(ModelCandidate.id).where(ModelCandidate.version == version)).first():
        version = f"{version[:50]}-{utcnow():%H%M%S}"
    session.add(ModelCandidate(version=version, versions=active, status="previous",
                               requested_by="registry", finished_at=utcnow()))


@owns_transaction
def promote(session: Session, candidate_id: int, *, actor: Actor,
            override_reason: str | None = None) -> dict:
    """Make the candidate active if its gate passes, or with an admin's override reason.
    Queues the re-scoring of live posts and clients. One commit."""
    _lock_registry(session)
    row = get(session, candidate_id)
    if row.status != "ready" or not row.versions:
        raise CandidateError(f"Candidate {candidate_id} is {row.status}: only a trained "
                             "candidate can be promoted.", 409)
    override_reason = (override_reason or "").strip() or None
    margin = float(_config("MODEL_GATE_MARGIN", 0.02))
    failures = cand.gate(row.comparison or {}, margin)
    if failures and not override_reason:
        raise CandidateError("The gate refuses this candidate: " + "; ".join(failures), 409,
                             failures)
    return _activate(session, row, actor=actor, action="models.promote",
                     details={"gate_failures": failures, "override_reason": override_reason,
                              "margin": margin})


@owns_transaction
def rollback(session: Session, candidate_id: int, *, actor: Actor) -> dict:
    """Re-activate an earlier set of versions (a promoted candidate, or the set a promotion
    replaced). Queues the re-scoring. One commit."""
    _lock_registry(session)
    row = get(session, candidate_id)
    if not row.versions or (row.promoted_at is None and row.status != "previous"):
        raise CandidateError(f"Candidate {candidate_id} was never active: promote it instead.", 409)
    return _activate(session, row, actor=actor, action="models.rollback", details={})


def _activate(session: Session, row: ModelCandidate, *, actor: Actor, action: str,
              details: dict) -> dict:
    root = model_dir()
    before = read_active(root)
    if before == row.versions:
        raise CandidateError(f"{row.version} is already active.", 409)
    missing = [d for d, v in row.versions.items() if not (root / d / v / "model.skops").exists()]
    if missing:
        raise CandidateError(f"The files of {row.version} are missing ({', '.join(missing)}).", 422)
    _remember_active(session, before)
    row.promoted_at = utcnow()
    row.shadow_until = None
    session.add(row)
    record(session, actor=actor, action=action, subject_type="model_candidate", subject_id=row.id,
           before=before, after={**row.versions, **details})
    enqueue.rescore(session, f"{row.version}-{row.promoted_at:%Y%m%dT%H%M%S%f}")
    write_active(root, row.versions)
    try:
        model_registry.sync(session, actor=actor, model_dir=root)  # commits (and dispatches)
    except Exception:
        write_active(root, before)  # nothing half-done: the old models stay active
        raise
    return {"version": row.version, "before": before, "after": row.versions,
            "gate_failures": details.get("gate_failures", [])}


# --- re-scoring ------------------------------------------------------------------------------

def queue_rescoring(session: Session) -> dict:
    """Queue, in batches, every live post and client the active models have not scored (the
    re-scoring job). Idempotent: batch job ids name their posts and the version, and a
    scoring job skips what the active models already scored; claimed flags stay open (see
    ``flags.clear_below_threshold``); anything lost is the sweep's."""
    post_version = scoring.active_post_version()
    client_version = scoring.active_client_version()
    posts = scoring.stale_posts(session, post_version)
    clients = scoring.stale_clients(session, client_version)
    batch = int(_config("MODEL_RESCORE_BATCH", 500))
    for i in range(0, len(posts), batch):
        enqueue.score_posts(session, posts[i:i + batch], marker=f"rescore-{post_version}")
    for i in range(0, len(clients), batch):  # one job scores a batch of clients together
        enqueue.score_clients(session, clients[i:i + batch], f"rescore-{client_version}")
    session.commit()
    return {"posts": len(posts), "clients": len(clients), "batch": batch}


def active_labels() -> tuple[str, str]:
    """The version labels scoring writes with the active models (posts, clients), read from
    the registry's metrics files: a console process need not load the models for them."""
    root = model_dir()
    versions = {det: json.loads((root / det / v / "metrics.json").read_text(encoding="utf-8"))["version"]
                for det, v in read_active(root).items()}
    return (scoring.combined_version(versions, scoring.POST_REASONS),
            f"{NEGATIVITY_VERSION}+{versions['feedback']}"[:64])


def rescore_progress(session: Session) -> dict:
    """How far the active models' re-scoring has come: live posts (and clients with
    feedback) scored by them, of all."""
    post_version, client_version = active_labels()
    live = JobPost.status != PostStatus.removed
    posts_total = session.exec(select(sa.func.count()).select_from(JobPost).where(live)).one()
    posts_done = session.exec(select(sa.func.count()).select_from(JobPost).where(
        live, JobPost.model_version == post_version)).one()
    has_feedback = sa.exists().where(Feedback.client_id == Client.id)
    clients_total = session.exec(select(sa.func.count()).select_from(Client).where(has_feedback)).one()
    clients_done = session.exec(select(sa.func.count()).select_from(Client).where(
        has_feedback, Client.model_version == client_version)).one()
    return {"post_version": post_version, "posts_total": posts_total, "posts_done": posts_done,
            "clients_total": clients_total, "clients_done": clients_done,
            "done": posts_done == posts_total and clients_done == clients_total}


# --- what the Models page reads ---------------------------------------------------------------

def overview(session: Session) -> dict:
    rows = list(session.exec(select(ModelCandidate).order_by(ModelCandidate.id.desc()).limit(50)))
    active = active_set()
    return {"candidates": rows, "active": active,
            "active_row": next((r for r in rows if r.versions == active), None),
            "training": next((r for r in rows if r.status in RUNNING), None),
            "latest": next((r for r in rows if r.status == "ready" and r.versions != active), None)}
