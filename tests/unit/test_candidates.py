"""Model candidates (app/services/candidates.py, classifiers/candidates.py, docs/models.md):
training never activates, the gate, the override (audited), rollback, re-scoring."""
from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from sqlmodel import select

from app.services import candidates, scoring, shadow
from classifiers import candidates as cand
from classifiers.registry import ARTIFACTS_DIR, read_active
from models import AuditEvent, Flag, JobPost, ModelCandidate, ShadowScore, utcnow
from tests.unit.console_fixtures import db, make_client, staff  # noqa: F401


@pytest.fixture(autouse=True)
def models_root(tmp_path, monkeypatch):
    """A copy of the shipped registry: candidates are written there, never into the repo."""
    root = tmp_path / "models"
    shutil.copytree(ARTIFACTS_DIR, root)
    monkeypatch.setenv("MODEL_DIR", str(root))
    return root


def copy_trainer(*, scam_precision_delta: float = 0.0, scam_threshold: float | None = None):
    """A stand-in for ``train_candidate``: the active models under a new version, their
    shipped figures shifted (``scam_precision_delta``) or a scam threshold changed."""
    calls = []

    def train(labels, *, out_dir, profile, cutoff, progress, seed=None):
        calls.append(list(labels))
        active = read_active(out_dir)
        version = f"cand-{len(list((out_dir / 'scam').iterdir()))}"
        metrics = {}
        for det, v in active.items():
            if det == "feedback":
                metrics[det] = json.loads((out_dir / det / v / "metrics.json").read_text())
                continue
            shutil.copytree(out_dir / det / v, out_dir / det / version)
            m = json.loads((out_dir / det / version / "metrics.json").read_text())
            m["version"] = f"{det}-{version}"
            if det == "scam":
                m["cv_all"]["precision"] += scam_precision_delta
                if scam_threshold is not None:
                    m["threshold"] = scam_threshold
            (out_dir / det / version / "metrics.json").write_text(json.dumps(m))
            metrics[det] = m
            progress(det)
        return {"version": version, "versions": {**{d: version for d in active}, "feedback": active["feedback"]},
                "metrics": metrics, "seconds": 0.1, "n_labels": len(labels), "time_split_scorer": None}

    train.calls = calls
    return train


def trained(db, staff, trainer) -> ModelCandidate:
    row = candidates.request_training(db, actor=staff["admin"], queue=False)
    candidates.run_training(db, row.id, trainer=trainer)
    return candidates.get(db, row.id)


def scored_posts(db, n=3):
    client = make_client(db)
    posts = [JobPost(external_id=f"sp-{i}", client_id=client.id, title="Data entry from home",
                     description="Earn $500 per day, pay a $30 registration fee, contact us on Telegram.",
                     category="admin_support", status="live", content_hash=f"x{i}", posted_at=utcnow())
             for i in range(n)]
    db.add_all(posts)
    db.commit()
    scoring.score_posts(db, [p.id for p in posts])
    return posts


def test_training_records_a_candidate_and_never_activates_it(app, db, staff, models_root):
    before = read_active(models_root)
    row = trained(db, staff, copy_trainer())
    assert row.status == "ready" and row.version.startswith("cand-")
    assert read_active(models_root) == before
    comparison = row.comparison
    assert set(comparison) >= {"shipped", "time_split", "short_honest", "last_30_days", "gate"}
    assert comparison["short_honest"]["candidate"]["n"] > 0
    assert comparison["gate"]["failures"] == []
    assert row.progress["step"] == row.progress["total"]
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "models.train")).one()


def test_a_second_training_is_refused_while_one_runs(app, db, staff):
    candidates.request_training(db, actor=staff["admin"], queue=False)
    with pytest.raises(candidates.CandidateError) as err:
        candidates.request_training(db, actor=staff["admin"], queue=False)
    assert err.value.status == 409


def test_gate_refuses_a_worse_candidate_and_accepts_a_better_one(app, db, staff, models_root):
    worse = trained(db, staff, copy_trainer(scam_precision_delta=-0.2))
    assert any(f.startswith("scam:") for f in worse.comparison["gate"]["failures"])
    with pytest.raises(candidates.CandidateError) as err:
        candidates.promote(db, worse.id, actor=staff["admin"])
    assert err.value.status == 409 and err.value.failures
    assert read_active(models_root)["scam"] != worse.version
    better = trained(db, staff, copy_trainer(scam_precision_delta=+0.01))
    assert better.comparison["gate"]["failures"] == []
    out = candidates.promote(db, better.id, actor=staff["admin"])
    assert read_active(models_root)["scam"] == better.version and out["gate_failures"] == []


def test_gate_refuses_a_candidate_that_flags_a_short_honest_post(app, db, staff):
    row = trained(db, staff, copy_trainer(scam_threshold=0.0))
    assert any("short honest" in f for f in row.comparison["gate"]["failures"])


def test_override_promotes_with_a_reason_and_is_audited(app, db, staff, models_root):
    worse = trained(db, staff, copy_trainer(scam_precision_delta=-0.2))
    with pytest.raises(candidates.CandidateError):
        candidates.promote(db, worse.id, actor=staff["admin"], override_reason="   ")
    candidates.promote(db, worse.id, actor=staff["admin"], override_reason="new scam wave")
    assert read_active(models_root)["scam"] == worse.version
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "models.promote")).one()
    assert event.after["override_reason"] == "new scam wave" and event.after["gate_failures"]


def test_promotion_rescores_live_posts_and_rollback_restores_their_scores(app, db, staff, models_root):
    posts = scored_posts(db)
    shipped = read_active(models_root)
    db.expire_all()
    before = {p.id: (db.get(JobPost, p.id).scores, db.get(JobPost, p.id).model_version) for p in posts}

    def open_scam_flags():
        return {f.post_id for f in db.exec(select(Flag).where(Flag.reason == "scam", Flag.status == "open"))}

    assert open_scam_flags() == {p.id for p in posts}
    row = trained(db, staff, copy_trainer(scam_threshold=1.5))
    candidates.promote(db, row.id, actor=staff["admin"])  # inline: re-scored after the commit
    db.expire_all()
    assert {db.get(JobPost, p.id).model_version for p in posts} == {row.version}
    assert open_scam_flags() == set()  # the candidate's threshold flags none of them
    assert candidates.rescore_progress(db)["done"]
    previous = db.exec(select(ModelCandidate).where(ModelCandidate.status == "previous")).one()
    assert previous.versions == shipped
    candidates.rollback(db, previous.id, actor=staff["admin"])
    db.expire_all()
    assert read_active(models_root) == shipped
    assert {p.id: (db.get(JobPost, p.id).scores, db.get(JobPost, p.id).model_version) for p in posts} == before
    assert open_scam_flags() == {p.id for p in posts}
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "models.rollback")).one()


def test_rescoring_is_idempotent_and_leaves_claimed_flags(app, db, staff, models_root):
    posts = scored_posts(db, 2)
    flags = db.exec(select(Flag).where(Flag.reason == "scam")).all()
    assert len(flags) == 2
    claimed = flags[0]
    claimed.claimed_by = staff["moderator"].moderator_id
    claimed.claimed_until = utcnow() + timedelta(minutes=15)
    db.add(claimed)
    db.commit()
    row = trained(db, staff, copy_trainer(scam_threshold=1.5))  # flags no scam any more
    candidates.promote(db, row.id, actor=staff["admin"])
    db.expire_all()
    by_id = {f.id: db.get(Flag, f.id) for f in flags}
    assert by_id[claimed.id].status == "open" and by_id[claimed.id].claimed_by is not None
    assert by_id[flags[1].id].status == "dismissed"
    assert candidates.queue_rescoring(db) == {"posts": 0, "clients": 0, "batch": 500}
    versions = {db.get(JobPost, p.id).scored_at for p in posts}
    candidates.queue_rescoring(db)
    db.expire_all()
    assert {db.get(JobPost, p.id).scored_at for p in posts} == versions


def test_stale_clients_are_rescored_in_batches(app, db, monkeypatch):
    from app.jobs import enqueue
    from app.services import scoring

    jobs = []
    monkeypatch.setattr(scoring, "stale_posts", lambda _s, _v: [])
    monkeypatch.setattr(scoring, "stale_clients", lambda _s, _v: list(range(1, 1201)))
    monkeypatch.setattr(enqueue, "score_clients", lambda _s, ids, marker: jobs.append((list(ids), marker)))
    assert candidates.queue_rescoring(db) == {"posts": 0, "clients": 1200, "batch": 500}
    assert [len(ids) for ids, _ in jobs] == [500, 500, 200]
    assert [i for ids, _ in jobs for i in ids] == list(range(1, 1201))
    assert len({marker for _, marker in jobs}) == 1 and jobs[0][1].startswith("rescore-")


def test_rollback_needs_a_version_that_was_active(app, db, staff):
    row = trained(db, staff, copy_trainer())
    with pytest.raises(candidates.CandidateError) as err:
        candidates.rollback(db, row.id, actor=staff["admin"])
    assert err.value.status == 409


def test_shadow_scores_beside_the_active_models_without_flags(app, db, staff):
    row = trained(db, staff, copy_trainer(scam_threshold=1.5))
    shadow.start(db, row.id, days=3, actor=staff["admin"])
    posts = scored_posts(db, 2)
    rows = db.exec(select(ShadowScore)).all()
    assert {r.post_id for r in rows} == {p.id for p in posts}
    assert all(r.disagree and "scam" in r.active_flags and "scam" not in r.candidate_flags for r in rows)
    assert not any(row.version in (f.model_version or "") for f in db.exec(select(Flag)))
    report = shadow.report(db, row.id)
    assert report["scored"] == 2 and report["disagreements"] == 2
    assert report["summary"] == {"active only": {"undecided": 2}}
    shadow.stop(db, row.id, actor=staff["admin"])
    assert shadow.current(db) is None


def test_shadow_days_are_bounded(app, db, staff):
    row = trained(db, staff, copy_trainer())
    with pytest.raises(candidates.CandidateError) as err:
        shadow.start(db, row.id, days=0, actor=staff["admin"])
    assert err.value.status == 422


# --- the classifiers' side (pure) --------------------------------------------------------------

def label(title, description, reason, positive, days=1, **kw):
    return cand.LabelInput(title=title, description=description, category=kw.pop("category", None),
                           reason=reason, positive=positive, decided_at=utcnow() - timedelta(days=days), **kw)


def test_a_label_wins_over_the_shipped_row_of_the_same_text():
    from classifiers.data import PostRow

    shipped = [PostRow("s1", "Data entry", "Pay a fee", "seed", "g1", 1, "admin_support",
                       policy_types=["off_platform"]),
               PostRow("s2", "Logo", "Bakery logo", "seed", "g2", 0, "design_creative")]
    rows = cand.merge_labels(shipped, [label("data  ENTRY", "pay a fee", "scam", False),
                                       label("Data entry", "Pay a fee", "policy", False, policy_type="off_platform")])
    merged = [r for r in rows if r.source == "label"]
    assert len(rows) == 2 and len(merged) == 1
    assert (merged[0].scam, merged[0].policy_types, merged[0].true_category) == (0, [], "admin_support")
    assert merged[0].group == "g1"


def test_gate_rules():
    figures = {"scam": {"precision": 0.9, "flagged": 10}}
    ok = {"shipped": {"active": figures, "candidate": {"scam": {"precision": 0.89}}},
          "short_honest": {"candidate": {"flagged": 0}}}
    assert cand.gate(ok, 0.02) == []
    worse = {**ok, "shipped": {"active": figures, "candidate": {"scam": {"precision": 0.85}}}}
    assert cand.gate(worse, 0.02) and cand.gate(worse, 0.1) == []
    few = {"time_split": {"active": figures, "candidate": {"scam": {"precision": 0.1, "flagged": 2}}}}
    assert cand.gate(few, 0.02) == []  # too few flags on the labels after the cut-off to judge
    honest = {**ok, "short_honest": {"candidate": {"flagged": 1, "posts": [{"id": "sh1"}]}}}
    assert "sh1" in cand.gate(honest, 0.02)[0]


def test_a_candidate_trained_on_labels_that_contradict_the_shipped_data_changes_its_scores(
        app, db, staff, models_root):
    """The real training (its fast profile): seed scam posts that moderators dismissed as not
    scams. The candidate, trained on the shipped rows plus these labels, scores them far
    lower than the active models, which learnt them as scams; nothing is activated."""
    from app.services import moderation
    from classifiers.training import build_datasets
    from tests.unit.console_fixtures import make_flag, make_post

    profile = cand.PROFILES["fast"]
    rows = build_datasets(1729, limit=profile.limit, seed_every=profile.seed_every, real_posts=False).posts
    scams = [r for r in rows if r.scam and r.source == "seed"][:6]
    client = make_client(db)
    for r in scams:
        post = make_post(db, client, title=r.title, description=r.description, category=r.posted_category)
        flag = make_flag(db, post, reason="scam")
        db.commit()
        moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    app_config = {"MODEL_TRAIN_PROFILE": "fast"}
    from flask import current_app
    current_app.config.update(app_config)
    before = read_active(models_root)
    row = trained(db, staff, None)
    assert row.status == "ready", row.error
    assert read_active(models_root) == before
    assert row.comparison["n_labels"] == 6
    inputs = [cand.PostInput(id=str(i), title=r.title, description=r.description, category=r.posted_category)
              for i, r in enumerate(scams)]
    old = [s.scores["scam"] for s in scoring.get_scorer().score_posts(inputs)]
    new = [s.scores["scam"] for s in candidates.candidate_scorer(models_root, row.versions).score_posts(inputs)]
    assert all(n < o - 0.2 for n, o in zip(new, old)), (old, new)


# --- the Models page ---------------------------------------------------------------------------

def test_models_page_access(app, client, db, staff):
    from tests.unit.console_fixtures import as_user, token

    as_user(client, "moderator@example.com")
    assert client.get("/models/").status_code == 403
    client = app.test_client()
    as_user(client, "analyst@example.com")
    page = client.get("/models/")
    assert page.status_code == 200 and "Train a candidate" in page.text
    assert 'id="train-candidate"' not in page.text  # analysts read, admins act
    assert 'href="/models/tiers"' in page.text  # the automation tiers, one click away
    assert client.post("/models/train", data={"csrf_token": token(client, "/models/")}).status_code == 403


def test_admin_trains_promotes_with_override_and_sees_rescoring(app, client, db, staff, models_root, monkeypatch):
    from tests.unit.console_fixtures import as_user, token

    monkeypatch.setattr(cand, "train_candidate", copy_trainer(scam_precision_delta=-0.2))
    scored_posts(db, 2)
    as_user(client, "admin@example.com")
    assert client.post("/models/train").status_code == 400  # no CSRF token
    r = client.post("/models/train", data={"csrf_token": token(client, "/models/")})
    assert r.status_code == 303  # trained inline (no Redis) after the commit
    row = db.exec(select(ModelCandidate)).one()
    db.refresh(row)
    assert row.status == "ready"
    page = client.get("/models/")
    assert "The gate refuses this candidate" in page.text and "Promote despite the gate" in page.text
    fragment = client.get("/models/", headers={"HX-Request": "true", "HX-Target": "training-progress"})
    assert fragment.text.lstrip().startswith('<div id="training-progress"')
    refused = client.post(f"/models/candidates/{row.id}/promote", data={"csrf_token": token(client, "/models/")})
    assert refused.status_code == 409 and "scam" in refused.text
    assert client.post(f"/models/candidates/{row.id}/promote", data={
        "csrf_token": token(client, "/models/"), "override_reason": "x" * 501}).status_code == 422
    ok = client.post(f"/models/candidates/{row.id}/promote", data={
        "csrf_token": token(client, "/models/"), "override_reason": "<b>urgent</b> scam wave"})
    assert ok.status_code == 303
    assert read_active(models_root)["scam"] == row.version
    page = client.get("/models/")
    assert "2</strong> of 2 live posts" in page.text and "(done)" in page.text
    assert client.post("/models/candidates/999/promote", data={"csrf_token": token(client, "/models/")}).status_code == 404
    assert client.get("/models/candidates/999").status_code == 404
    shadow_form = client.post(f"/models/candidates/{row.id}/shadow",
                              data={"csrf_token": token(client, "/models/"), "days": "5"})
    assert shadow_form.status_code == 409  # the active version cannot shadow itself


def test_a_failed_training_is_recorded_and_raised(app, db, staff, models_root):
    def broken(*_a, **_k):
        raise ValueError("out of memory")

    row = candidates.request_training(db, actor=staff["admin"], queue=False)
    with pytest.raises(ValueError):
        candidates.run_training(db, row.id, trainer=broken)
    row = candidates.get(db, row.id)
    assert row.status == "failed" and "out of memory" in row.error
    assert candidates.run_training(db, row.id, trainer=broken) == {"candidate": row.id, "status": "failed"}
    assert candidates.request_training(db, actor=staff["admin"], queue=False).status == "queued"


def test_only_post_labels_with_their_judged_text_train():
    from app.services.labels import Label

    def lab(subject_type, text, **kw):
        return Label(subject_type=subject_type, subject_id=1, subject="x", reason=kw.get("reason", "scam"),
                     policy_type=kw.get("policy_type"), category=None, positive=True, decided_at=utcnow(),
                     decided_by="m", model_version=None, decision_id=1, source="decision", text=text)

    got = candidates.label_inputs([
        lab("post", {"title": "T", "description": "D", "category": "writing"}),
        lab("post", None), lab("client", None, reason="negative_client"),
        lab("post", {"title": "T", "description": "D2", "category": None}, reason="policy", policy_type="off_platform")])
    assert [(g.description, g.reason, g.policy_type, g.category) for g in got] == [
        ("D", "scam", None, "writing"), ("D2", "policy", "off_platform", None)]
