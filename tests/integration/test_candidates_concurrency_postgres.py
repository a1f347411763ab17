"""Two admins changing the model registry at the same moment, on the real PostgreSQL (two
threads released by a Barrier): of two training requests one is recorded, the other gets the
409; of two promotions of one candidate one activates it, the other gets the 409; two
promotions of two candidates run one after the other (the second reads what the first made
active). The registry's advisory lock (``candidates._lock_registry``) serialises them."""
from __future__ import annotations

import json
import shutil
import threading

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import candidates
from app.services.audit import Actor
from app.jobs import enqueue
from app.services.model_files import CandidateError
from classifiers.registry import ARTIFACTS_DIR, read_active
from models import AuditEvent, ModelCandidate, ModelVersion, Moderator

pytestmark = pytest.mark.integration

TRIALS = 10


def _admins(app) -> list[Actor]:
    with app.app_context(), session_scope() as s:
        out = []
        for email in ("admin-a@example.com", "admin-b@example.com"):
            m = Moderator(email=email, password_hash="x", role="admin")
            s.add(m)
            s.flush()
            out.append(Actor.of(m))
        s.commit()
        return out


def _at_once(app, calls) -> list[str]:
    """Run ``calls`` (functions of a session), each in its own thread and session, released
    together; returns "ok", "refused <status>" or the unexpected exception, per call."""
    barrier = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def run(i: int) -> None:
        with app.app_context(), session_scope() as s:
            barrier.wait()
            try:
                calls[i](s)
                outcomes[i] = "ok"
            except CandidateError as exc:
                outcomes[i] = f"refused {exc.status}"
            except Exception as exc:  # noqa: BLE001 - reported, then asserted on
                outcomes[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_training_requests_at_once_record_one(migrated_app):
    app = migrated_app
    admins = _admins(app)
    for trial in range(TRIALS):
        outcomes = _at_once(app, [
            lambda s, i=i: candidates.request_training(s, actor=admins[i], queue=False)
            for i in range(2)])
        assert sorted(outcomes) == ["ok", "refused 409"], (trial, outcomes)
        with app.app_context(), session_scope() as s:
            queued = s.exec(select(ModelCandidate).where(ModelCandidate.status == "queued")).all()
            assert len(queued) == 1, (trial, len(queued))
            queued[0].status = "failed"  # the next trial starts with nothing training
            s.add(queued[0])
            s.commit()


@pytest.fixture
def registry(migrated_app, tmp_path, monkeypatch):
    """A copy of the shipped registry as the app's MODEL_DIR, with ``candidate(name)`` making
    a trained candidate whose version files are there (copied figures, an empty model file:
    a promotion only checks that it exists); the re-scoring a promotion queues is not run."""
    root = tmp_path / "models"
    shutil.copytree(ARTIFACTS_DIR, root)
    migrated_app.config["MODEL_DIR"] = str(root)
    monkeypatch.setattr(enqueue, "rescore", lambda session, marker: None)
    active = read_active(root)

    def candidate(name: str) -> int:
        for detector, version in active.items():
            target = root / detector / name
            target.mkdir()
            metrics = json.loads((root / detector / version / "metrics.json").read_text())
            (target / "metrics.json").write_text(json.dumps({**metrics, "version": name}))
            (target / "model.skops").write_bytes(b"")
        with migrated_app.app_context(), session_scope() as s:
            row = ModelCandidate(version=name, versions={d: name for d in active},
                                 status="ready", requested_by="test",
                                 comparison={"gate": {"failures": []}})
            s.add(row)
            s.commit()
            return row.id

    return root, candidate


def _promote(admin, candidate_id):
    return lambda s: candidates.promote(s, candidate_id, actor=admin, override_reason="test")


def test_two_promotions_of_one_candidate_at_once_activate_it_once(migrated_app, registry):
    app, (root, candidate) = migrated_app, registry
    admins = _admins(app)
    for trial in range(5):
        name = f"cand-{trial}"
        row_id = candidate(name)
        outcomes = _at_once(app, [_promote(admins[i], row_id) for i in range(2)])
        assert sorted(outcomes) == ["ok", "refused 409"], (trial, outcomes)
        assert set(read_active(root).values()) == {name}
        with app.app_context(), session_scope() as s:
            promoted = s.exec(select(AuditEvent).where(AuditEvent.action == "models.promote")).all()
            assert len(promoted) == trial + 1, (trial, len(promoted))
            on = {r.name: r.version for r in s.exec(select(ModelVersion).where(ModelVersion.active))}
            assert set(on.values()) == {name}, (trial, on)


def test_two_promotions_of_two_candidates_at_once_run_one_after_the_other(migrated_app, registry):
    app, (root, candidate) = migrated_app, registry
    admins = _admins(app)
    shipped = read_active(root)
    for trial in range(5):
        ids = [candidate(f"a-{trial}"), candidate(f"b-{trial}")]
        outcomes = _at_once(app, [_promote(admins[i], ids[i]) for i in range(2)])
        assert outcomes == ["ok", "ok"], (trial, outcomes)
        with app.app_context(), session_scope() as s:
            first, second = s.exec(select(AuditEvent).where(AuditEvent.action == "models.promote")
                                   .order_by(AuditEvent.id.desc()).limit(2)).all()[::-1]
            # the second read what the first made active: no promotion lost between them
            assert second.before == {k: v for k, v in first.after.items() if k in shipped}
            winner = {k: v for k, v in second.after.items() if k in shipped}
            assert read_active(root) == winner
            on = {r.name: r.version for r in s.exec(select(ModelVersion).where(ModelVersion.active))}
            assert on == {k: v for k, v in winner.items() if k in on}, (trial, on)
