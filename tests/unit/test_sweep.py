"""The sweep finds stored-but-unscored work and queues it once."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.jobs import enqueue
from app.db import session_scope
from app.services import sweep as sweep_service
from models import Feedback, Flag, JobPost, utcnow
from tests.support import factories as f


def test_sweep_scores_overdue_posts_and_feedback(app, runner):
    app.config["SCORING_COALESCE"] = 0  # score exactly what the sweep names
    with app.app_context(), session_scope() as s:
        c = f.client(s)
        old = f.post(s, c, "p-old", *f.SCAM, updated_at=utcnow() - timedelta(hours=1))
        fresh = f.post(s, c, "p-new", *f.SCAM)  # within the delay: its own job may still run
        f.history(s, c, "NNNNNN")
        old_id, fresh_id = old.id, fresh.id
        before = sweep_service.status(s)["backlog"]
        assert (before["posts_unscored"], before["posts_overdue"]) == (2, 1)
    r = runner.invoke(args=["sweep"])
    assert r.exit_code == 0, r.output
    assert '"posts": 1' in r.output and '"clients": 1' in r.output
    with app.app_context(), session_scope() as s:
        assert s.get(JobPost, old_id).scored_at is not None
        assert s.get(JobPost, fresh_id).scored_at is None
        assert all(fb.scored_at for fb in s.exec(select(Feedback)))
        assert s.exec(select(Flag).where(Flag.subject_id == old_id)).all()
        status = sweep_service.status(s)
        assert status["backlog"]["posts_unscored"] == 1
        assert status["backlog"]["posts_overdue"] == 0
        assert status["last_run"]["posts"] == 1


def test_sweep_delay_zero_takes_everything_not_done_yet(app, runner):
    """``flask sweep --delay 0`` (after an interrupted import): fresh work too; a bad delay is
    refused before anything runs."""
    app.config["SCORING_COALESCE"] = 0
    with app.app_context(), session_scope() as s:
        fresh_id = f.post(s, f.client(s), "p-new", *f.SCAM).id
    r = runner.invoke(args=["sweep", "--delay", "-1"])
    assert r.exit_code == 2 and "-1" in r.output
    with app.app_context(), session_scope() as s:
        assert s.get(JobPost, fresh_id).scored_at is None
    r = runner.invoke(args=["sweep", "--delay", "0"])
    assert r.exit_code == 0 and '"posts": 1' in r.output, r.output
    with app.app_context(), session_scope() as s:
        assert s.get(JobPost, fresh_id).scored_at is not None


def test_second_sweep_finds_nothing(app):
    with app.app_context(), session_scope() as s:
        c = f.client(s)
        f.post(s, c, "p1", *f.HONEST, updated_at=utcnow() - timedelta(hours=1))
        assert sweep_service.run(s)["posts"] == 1
        assert sweep_service.run(s)["posts"] == 0


def test_sweep_uses_the_same_job_ids_as_ingest(app, monkeypatch):
    sent = []
    monkeypatch.setattr(enqueue, "dispatch", lambda spec, revive=False: sent.append(spec) or "x")
    with app.app_context(), session_scope() as s:
        c = f.client(s)
        p = f.post(s, c, "p1", *f.HONEST, updated_at=utcnow() - timedelta(hours=1))
        sweep_service.run(s)
        assert sent[0].job_id == enqueue.score_posts_spec([(p.id, p.content_hash)]).job_id
