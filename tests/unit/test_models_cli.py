"""`flask models ...`: the classifiers' registry as the console records it."""
from __future__ import annotations

import json

from sqlmodel import select

from app.db import session_scope
from classifiers.registry import ARTIFACTS_DIR, read_active
from models import AuditEvent, ModelVersion


def test_sync_records_the_active_versions_once(runner, app):
    r = runner.invoke(args=["models", "sync"])
    assert r.exit_code == 0, r.output
    active = read_active(ARTIFACTS_DIR)
    listed = runner.invoke(args=["models", "list"]).output
    for detector, version in active.items():
        assert f"{detector}\t{version}" in listed
    runner.invoke(args=["models", "sync"])  # idempotent
    with app.app_context(), session_scope() as s:
        rows = s.exec(select(ModelVersion)).all()
        assert len(rows) == len({(r.name, r.version) for r in rows})
        assert {r.name for r in rows if r.active} == set(active)
        scam = next(r for r in rows if r.name == "scam" and r.active)
        assert scam.metrics and scam.artifact.endswith("model.skops")
        assert len(s.exec(select(AuditEvent).where(
            AuditEvent.action == "models.activate")).all()) == 1


def test_switching_the_active_version_moves_the_flag(runner, app, tmp_path):
    """A registry with two versions of one detector: activating the other one."""
    import shutil

    root = tmp_path / "models"
    shutil.copytree(ARTIFACTS_DIR, root)
    active = read_active(root)
    old = root / "scam" / active["scam"]
    shutil.copytree(old, root / "scam" / "v-next")
    app.config["MODEL_DIR"] = str(root)
    runner.invoke(args=["models", "sync"])
    (root / "active.json").write_text(json.dumps({**active, "scam": "v-next"}))
    assert runner.invoke(args=["models", "sync"]).exit_code == 0
    with app.app_context(), session_scope() as s:
        [scam] = s.exec(select(ModelVersion).where(ModelVersion.name == "scam",
                                                   ModelVersion.active)).all()
        assert scam.version == "v-next"


def test_train_command_trains_and_records(runner, app, monkeypatch):
    calls = {}

    def fake_train_all(**kwargs):
        calls.update(kwargs)
        return {"version": read_active(ARTIFACTS_DIR)["scam"], "seconds": 1.0}

    monkeypatch.setattr("classifiers.training.train_all", fake_train_all)
    r = runner.invoke(args=["models", "train", "--seed", "7"])
    assert r.exit_code == 0, r.output
    assert calls["seed"] == 7 and "now active" in r.output
    assert "scam\t" in runner.invoke(args=["models", "list"]).output
