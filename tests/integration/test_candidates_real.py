"""Model candidates for real: PostgreSQL, Redis and `flask worker` subprocesses train a
candidate (the fast profile of the real training) and re-score live posts after its
promotion and after the rollback (docs/models.md)."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import get_engine, session_scope
from app.services import candidates, scoring, users
from app.services.audit import CLI
from classifiers.registry import ARTIFACTS_DIR, read_active
from models import Flag, JobPost, ModelCandidate, utcnow
from tests.helpers import PASSWORD, make_app
from tests.integration.conftest import REDIS_URL
from tests.integration.test_worker_real import bulk_posts
from tests.integration.worker_support import WorkerEnv, wait_for
from tests.support.services import migrate

pytestmark = pytest.mark.integration


@pytest.fixture
def env(pg_url, redis_client, tmp_path):
    migrate(pg_url)
    root = tmp_path / "models"
    shutil.copytree(ARTIFACTS_DIR, root)
    e = WorkerEnv(pg_url, REDIS_URL, tmp_path, MODEL_DIR=str(root), MODEL_TRAIN_PROFILE="fast",
                  MODEL_RESCORE_BATCH="40")
    e.root = root
    yield e
    e.stop_workers()
    e.cleanup_redis()


@pytest.fixture
def app(env):
    app = make_app(env.settings["DATABASE_URL"], **{**env.app_overrides(), "MODEL_RESCORE_BATCH": 40})
    yield app
    with app.app_context():
        get_engine().dispose()


def progress(app) -> dict:
    with app.app_context(), session_scope() as s:
        return candidates.rescore_progress(s)


def test_worker_trains_a_candidate_then_rescoring_follows_promotion_and_rollback(env, app):
    env.start_worker()
    env.start_worker()
    posts = bulk_posts(app, 120)
    with app.app_context(), session_scope() as s:
        scoring.score_posts(s, [p for p, _ in posts])
        row = candidates.request_training(s, actor=CLI)  # queued for the worker
    shipped = read_active(env.root)
    wait_for(lambda: _status(app, row.id) in ("ready", "failed"), timeout=600,
             what="the worker trains the candidate", env=env)
    with app.app_context(), session_scope() as s:
        trained = s.get(ModelCandidate, row.id)
        assert trained.status == "ready", trained.error
        assert read_active(env.root) == shipped  # training never activates
        assert trained.comparison["short_honest"]["candidate"]["n"] > 0
        # claim an open flag: re-scoring must leave it open and claimed
        moderator = users.create_moderator(s, email="m@example.com", password=PASSWORD,
                                           role="moderator", actor=CLI)
        flag = s.exec(select(Flag).where(Flag.status == "open").order_by(Flag.id)).first()
        flag.claimed_by, flag.claimed_until = moderator.id, utcnow() + timedelta(hours=1)
        s.add(flag)
        s.commit()
        claimed_id = flag.id
        candidates.promote(s, row.id, actor=CLI, override_reason="integration test")
    wait_for(lambda: progress(app)["done"], timeout=300, what="re-scoring after promotion", env=env)
    with app.app_context(), session_scope() as s:
        versions = set(s.exec(select(JobPost.model_version)).all())
        assert versions == {trained.version}
        assert candidates.queue_rescoring(s)["posts"] == 0  # idempotent: nothing left
        claimed = s.get(Flag, claimed_id)
        assert claimed.status == "open" and claimed.claimed_by == moderator.id
        previous = s.exec(select(ModelCandidate).where(ModelCandidate.status == "previous")).one()
        candidates.rollback(s, previous.id, actor=CLI)
    wait_for(lambda: progress(app)["done"], timeout=300, what="re-scoring after the rollback", env=env)
    with app.app_context(), session_scope() as s:
        assert read_active(env.root) == shipped
        assert set(s.exec(select(JobPost.model_version)).all()) == {scoring.active_post_version()}
        n = s.exec(select(sa.func.count()).select_from(Flag).where(
            Flag.subject_type == "post", Flag.status == "open")).one()
        assert n >= 40  # a third of the posts are scams: flagged again by the shipped models
    env.assert_workers_alive()


def _status(app, candidate_id: int) -> str:
    with app.app_context(), session_scope() as s:
        return s.get(ModelCandidate, candidate_id).status
