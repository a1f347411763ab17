"""Automation tiers on the real PostgreSQL: two deciders on a held post, two refreshes at
once, and a hold made by the set-based scoring path."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import automation, moderation, scoring
from models import AuditEvent, AutomationTier, Flag, JobPost, OutboxEvent, PostHold
from tests.integration.test_concurrency_postgres import _moderators, _race
from tests.support import factories as f
from tests.unit.console_fixtures import make_client, make_flag, make_post

pytestmark = pytest.mark.integration

TRIALS = 10


def _held_post(app) -> tuple[int, int, int]:
    """A post held by its scam flag: (post id, flag id, hold id)."""
    with app.app_context(), session_scope() as s:
        post = make_post(s, make_client(s), status="under_review")
        flag = make_flag(s, post, reason="scam")
        hold = PostHold(post_id=post.id, flag_id=flag.id, tier_key="scam",
                        content_hash=post.content_hash, decisions=400, upheld=398,
                        precision=0.995, lower_bound=0.985)
        s.add(hold)
        s.commit()
        return post.id, flag.id, hold.id


def _events(s, post_id: int) -> list[str]:
    return [e.event_type for e in s.exec(select(OutboxEvent).where(
        OutboxEvent.subject_id == post_id, OutboxEvent.subject_type == "post")
        .order_by(OutboxEvent.id))]


def test_dismiss_and_remove_of_a_held_post_at_once_leave_one_outcome(migrated_app):
    app = migrated_app
    mod_a, mod_b = _moderators(app)
    seen = set()
    for _ in range(TRIALS):
        post_id, flag_id, hold_id = _held_post(app)
        dismissed, removed = _race(
            app,
            lambda s: moderation.dismiss(s, flag_id=flag_id, version=1, actor=mod_a),
            lambda s: moderation.remove(s, flag_id=flag_id, version=1, reason_code="scam",
                                        actor=mod_b))
        assert sorted([dismissed, removed]) == ["conflict", "ok"], (dismissed, removed)
        seen.add(dismissed)
        with app.app_context(), session_scope() as s:
            post, hold = s.get(JobPost, post_id), s.get(PostHold, hold_id)
            if dismissed == "ok":
                assert (post.status, hold.outcome) == ("live", "released")
                assert _events(s, post_id) == ["post.released"]
            else:
                assert (post.status, hold.outcome) == ("removed", "removed")
                assert _events(s, post_id) == ["post.removed"]
            assert hold.decision_id is not None


def test_two_dismissals_of_a_held_post_release_it_once(migrated_app):
    app = migrated_app
    mod_a, mod_b = _moderators(app)
    for _ in range(TRIALS):
        post_id, flag_id, hold_id = _held_post(app)
        outcomes = _race(
            app,
            lambda s: moderation.dismiss(s, flag_id=flag_id, version=1, actor=mod_a),
            lambda s: moderation.dismiss(s, flag_id=flag_id, version=1, actor=mod_b))
        assert sorted(outcomes) == ["conflict", "ok"], outcomes
        with app.app_context(), session_scope() as s:
            assert s.get(JobPost, post_id).status == "live"
            assert _events(s, post_id) == ["post.released"]


def test_two_refreshes_at_once_audit_a_change_once(migrated_app):
    app = migrated_app
    with app.app_context(), session_scope() as s:
        automation.ensure_rows(s)
        row = s.get(AutomationTier, "scam")
        row.max_tier, row.tier = "hold", "hold"  # in force, but nothing measured any more
        s.add(row)
        s.commit()
    outcomes = _race(app, lambda s: automation.refresh(s), lambda s: automation.refresh(s))
    assert outcomes == ["ok", "ok"]
    with app.app_context(), session_scope() as s:
        assert s.get(AutomationTier, "scam").tier == "review"
        assert len(s.exec(select(AuditEvent).where(
            AuditEvent.action == "automation.tier_relocked")).all()) == 1


def test_set_based_scoring_holds_a_post_under_the_hold_tier(migrated_app):
    app = migrated_app
    with app.app_context(), session_scope() as s:
        automation.ensure_rows(s)
        row = s.get(AutomationTier, "scam")
        row.max_tier, row.tier = "hold", "hold"
        row.precision, row.lower_bound, row.decisions, row.upheld = 0.995, 0.985, 400, 398
        s.add(row)
        s.commit()
        owner = f.client(s, "c-held")
        held = f.post(s, owner, "p-held", *f.SCAM)
        honest = f.post(s, owner, "p-honest", *f.HONEST)
        scoring.score_posts(s, [held.id, honest.id])
        s.expire_all()
        assert s.get(JobPost, held.id).status == "under_review"
        assert s.get(JobPost, honest.id).status == "live"
        hold = s.exec(select(PostHold)).one()
        assert s.get(Flag, hold.flag_id).reason == "scam" and hold.lower_bound == 0.985
        assert _events(s, held.id) == ["post.held"]
