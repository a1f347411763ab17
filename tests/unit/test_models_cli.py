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


def test_train_command_trains_a_candidate_and_promote_and_rollback_it(runner, app, tmp_path,
                                                                     monkeypatch):
    """`flask models train` trains a candidate (never active); `promote` activates it through
    the gate (`--override REASON` past a refusal); `rollback` returns to the earlier set."""
    import shutil

    from classifiers import candidates as cand
    from tests.unit.test_candidates import copy_trainer

    root = tmp_path / "models"
    shutil.copytree(ARTIFACTS_DIR, root)
    app.config["MODEL_DIR"] = str(root)
    shipped = read_active(root)
    trainer = copy_trainer(scam_precision_delta=-0.2)
    monkeypatch.setattr(cand, "train_candidate", trainer)
    r = runner.invoke(args=["models", "train", "--seed", "7", "--profile", "fast"])
    assert r.exit_code == 0, r.output
    assert "(not active)" in r.output and "gate: refuses" in r.output
    assert read_active(root) == shipped
    version = next(line.split()[3] for line in r.output.splitlines() if line.startswith("candidate "))
    refused = runner.invoke(args=["models", "promote", version])
    assert refused.exit_code == 1 and "gate refuses" in refused.output
    ok = runner.invoke(args=["models", "promote", version, "--override", "urgent"])
    assert ok.exit_code == 0, ok.output
    assert read_active(root)["scam"] == version
    listed = runner.invoke(args=["models", "candidates"]).output
    assert f"* 1\t{version}" in listed
    previous = next(line.split("\t")[1] for line in listed.splitlines() if "previous" in line)
    back = runner.invoke(args=["models", "rollback", previous])
    assert back.exit_code == 0, back.output
    assert read_active(root) == shipped
    assert runner.invoke(args=["models", "promote", "nope"]).exit_code == 1


def test_rescore_scores_again_what_other_models_scored(runner, app):
    """After new models: posts scored by another version (or never) are scored again, in
    batch jobs (inline here: no Redis); removed posts are left alone; a second run has
    nothing to do."""
    from app.services import scoring
    from models import JobPost
    from tests.support import factories as f

    with app.app_context(), session_scope() as s:
        c = f.client(s)
        posts = [f.post(s, c, f"p{i}", *f.SCAM) for i in range(5)]
        removed = f.post(s, c, "gone", *f.SCAM, status="removed")
        scoring.score_posts(s, [p.id for p in posts] + [removed.id])
        version = scoring.active_post_version()
        for p in [*posts[:3], removed]:  # as if scored by earlier models
            s.get(JobPost, p.id).model_version = "scam-0+cat-0+pol-0"
        s.commit()
        never = f.post(s, c, "never", *f.HONEST)  # stored, never scored
        ids = [p.id for p in posts] + [never.id]
    r = runner.invoke(args=["models", "rescore", "--dry-run"])
    assert r.exit_code == 0 and "4 posts and 0 clients to rescore" in r.output, r.output
    r = runner.invoke(args=["models", "rescore", "--batch", "2"])
    assert r.exit_code == 0, r.output
    assert "4 posts and 0 clients in 2 jobs: 2 inline" in r.output
    with app.app_context(), session_scope() as s:
        assert {s.get(JobPost, i).model_version for i in ids} == {version}
        assert s.get(JobPost, removed.id).model_version == "scam-0+cat-0+pol-0"
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "models.rescore")).all()
        assert event.after["posts"] == 4 and event.after["posts_version"] == version
    r = runner.invoke(args=["models", "rescore"])
    assert r.exit_code == 0 and "0 posts and 0 clients to rescore" in r.output


def test_rescore_queues_batch_jobs_with_their_own_ids(runner, app, monkeypatch):
    from app.jobs import enqueue
    from tests.support import factories as f

    sent = []
    monkeypatch.setattr(enqueue, "dispatch", lambda spec, revive=False: sent.append(spec) or "enqueued")
    with app.app_context(), session_scope() as s:
        c = f.client(s)
        posts = [f.post(s, c, f"p{i}", *f.HONEST) for i in range(3)]
        expected = [(p.id, p.content_hash) for p in posts]
    r = runner.invoke(args=["models", "rescore", "--batch", "2"])
    assert r.exit_code == 0 and "3 posts and 0 clients in 2 jobs: 2 enqueued" in r.output, r.output
    assert [spec.args for spec in sent] == [([expected[0][0], expected[1][0]],), ([expected[2][0]],)]
    assert all(spec.func == "app.jobs.tasks.score_posts" for spec in sent)
    # not the ids of the posts' first scoring jobs (those may have run and left, or not)
    assert sent[1].job_id != enqueue.score_posts_spec([expected[2]]).job_id


def test_rescore_rejects_a_bad_batch_size(runner, app):
    r = runner.invoke(args=["models", "rescore", "--batch", "0"])
    assert r.exit_code == 2 and "--batch" in r.output


def test_rescore_scores_clients_feedback_again_under_new_models(runner, app, monkeypatch):
    """A client scored by another feedback model has ALL its feedback scored again (feedback
    is otherwise scored once), then its pattern; clients without feedback are not jobs."""
    from app.services import scoring
    from models import Client, Feedback
    from tests.support import factories as f

    with app.app_context(), session_scope() as s:
        c = f.client(s)
        f.client(s, "no-feedback")
        f.history(s, c, "PPPPPP")
        scoring.score_client(s, c.id)
        current = s.get(Client, c.id).model_version
        assert current == scoring.client_version(scoring.get_scorer())
        for fb in s.exec(select(Feedback)):  # as if an earlier model had read them
            fb.negative = 0.123
        s.get(Client, c.id).model_version = "client-negativity-beta-2+feedback-old"
        s.commit()
    r = runner.invoke(args=["models", "rescore"])
    assert r.exit_code == 0 and "0 posts and 1 clients in 1 jobs: 1 inline" in r.output, r.output
    with app.app_context(), session_scope() as s:
        assert s.get(Client, c.id).model_version == current
        assert all(fb.negative != 0.123 and fb.negative < 0.5 for fb in s.exec(select(Feedback)))
    assert "0 posts and 0 clients to rescore" in runner.invoke(args=["models", "rescore"]).output
