"""The feedback path loads the feedback model alone (classifiers.feedback_scorer): a feedback
import, a client's rescoring (the RQ job ``score_clients``) and the follow-up re-check score
feedback only, so they load neither the post bundles nor the post scorer's module."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from app.jobs import tasks
from app.services import scoring
from classifiers import FeedbackInput, feedback_scorer, scorer
from tests.support import factories as f

ROOT = Path(__file__).resolve().parents[2]
ITEMS = [FeedbackInput(id="1", text="Never paid me and stopped answering.", rating=1),
         FeedbackInput(id="2", text="Great client, clear brief, paid on time.", rating=5),
         FeedbackInput(id="3", text="ok", rating=None)]


def test_the_feedback_model_alone_scores_as_the_whole_scorer_does():
    alone, whole = feedback_scorer.load_feedback_scorer(), scorer.load_scorer()
    assert alone.score_feedback(ITEMS) == whole.score_feedback(ITEMS)
    assert alone.versions["feedback"] == whole.versions["feedback"]
    assert alone.thresholds["feedback"] == whole.thresholds["feedback"]
    assert scoring.client_version(alone) == scoring.client_version(whole)
    # one feedback bundle in the process, whichever loaded it first
    assert whole._b["feedback"] is alone.bundle


def test_scoring_clients_loads_only_the_feedback_bundle(app, monkeypatch):
    """In this process: the job ``score_clients`` (what a feedback import queues) with empty
    model caches asks the registry for the feedback bundle and nothing else."""
    loaded: list[str] = []
    real = feedback_scorer.load_bundle

    def spy(root, detector, version):  # noqa: ANN001, ANN202
        loaded.append(detector)
        return real(root, detector, version)

    monkeypatch.setattr(feedback_scorer, "load_bundle", spy)
    monkeypatch.setattr(scorer, "load_bundle", spy)
    feedback_scorer.feedback_bundle.cache_clear()
    scorer._cached.cache_clear()
    with app.app_context():
        from app.db import session_scope

        with session_scope() as s:
            c = f.client(s, "neg")
            f.history(s, c, "PNNNNNN")
            client_id = c.id
        result = tasks.score_clients([client_id])
    assert loaded == ["feedback"], loaded
    assert result["clients"] == 1 and result["flagged"] == 1
    feedback_scorer.feedback_bundle.cache_clear()  # the spy's entries: not for other tests


def test_a_feedback_import_loads_no_post_model_in_a_fresh_process(tmp_path):
    """A fresh interpreter, as ``flask import feedback`` is: the command's preload and its
    scoring load the feedback bundle only, and never import ``classifiers.scorer`` (the post
    scorer, its vectorisers and rule prefilter)."""
    db = tmp_path / "fresh.db"
    clients, feedback = tmp_path / "clients.jsonl", tmp_path / "feedback.jsonl"
    clients.write_text(json.dumps({"external_id": "c1", "name": "Acme", "payment_verified": True,
                                   "joined_at": "2025-01-01T00:00:00Z"}) + "\n")
    feedback.write_text("".join(json.dumps({
        "external_id": f"f{i}", "client_id": "c1", "rating": 1 if i % 2 else 5,
        "comment": "Never paid me." if i % 2 else "Paid on time.",
        "created_at": f"2026-11-{i + 1:02d}T00:00:00Z"}) + "\n" for i in range(8)))
    script = textwrap.dedent(f"""
        import sys
        from classifiers import registry
        loaded = []
        real = registry.load_bundle
        def spy(root, detector, version):
            loaded.append(detector)
            return real(root, detector, version)
        registry.load_bundle = spy
        from sqlmodel import SQLModel
        from app.db import get_engine
        from tests.helpers import make_app
        app = make_app("sqlite:///{db}", INLINE_JOB_PROCESSES=0)
        with app.app_context():
            SQLModel.metadata.create_all(get_engine())
        runner = app.test_cli_runner()
        for kind, path in (("clients", "{clients}"), ("feedback", "{feedback}")):
            r = runner.invoke(args=["import", kind, path, "--no-progress"])
            assert r.exit_code == 0, r.output
        print(sorted(set(loaded)), "classifiers.scorer" in sys.modules)
        """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == "['feedback'] False"
