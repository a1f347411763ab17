"""Appeals on the real PostgreSQL (migrated to head): two deciders on one appeal at the same
moment, two appeals against one decision at once, and an overturned suspension undone."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import Conflict, appeals, moderation, strikes
from app.services.audit import Actor
from models import Appeal, Client, Decision, JobPost, Moderator, OutboxEvent
from tests.integration.test_concurrency_postgres import _race
from tests.unit.console_fixtures import make_client, make_post, scam_case

pytestmark = pytest.mark.integration

TRIALS = 10


def _staff(app) -> dict[str, Actor]:
    with app.app_context(), session_scope() as s:
        out = {}
        for name, role in (("decider", "moderator"), ("a", "moderator"), ("b", "moderator"),
                           ("admin", "admin")):
            m = Moderator(email=f"{name}@example.com", password_hash="x", role=role)
            s.add(m)
            s.flush()
            out[name] = Actor.of(m)
        s.commit()
        return out


def _removed(app, staff) -> tuple[int, int]:
    """A removed scam post: (post id, the removal's decision id)."""
    with app.app_context(), session_scope() as s:
        _client, post, flag = scam_case(s)
        s.commit()
        decision = moderation.remove(s, flag_id=flag.id, version=flag.version,
                                     reason_code="scam", actor=staff["decider"])
        return post.id, decision.id


def test_two_deciders_on_one_appeal_one_wins_nothing_half_written(migrated_app):
    app = migrated_app
    staff = _staff(app)
    winners = set()
    for _ in range(TRIALS):
        post_id, decision_id = _removed(app, staff)
        with app.app_context(), session_scope() as s:
            appeal = appeals.file(s, decision_id=decision_id, text="please", actor=staff["admin"])
            appeal_id, version = appeal.id, appeal.version
        overturn, uphold = _race(
            app,
            lambda s: appeals.decide(s, appeal_id=appeal_id, version=version,
                                     outcome="overturn", reason="real job", actor=staff["a"]),
            lambda s: appeals.decide(s, appeal_id=appeal_id, version=version,
                                     outcome="uphold", reason="stands", actor=staff["b"]))
        assert sorted([overturn, uphold]) == ["conflict", "ok"], (overturn, uphold)
        with app.app_context(), session_scope() as s:
            appeal = s.get(Appeal, appeal_id)
            post = s.get(JobPost, post_id)
            reinstates = s.exec(select(Decision).where(Decision.action == "reinstate",
                                                       Decision.post_id == post_id)).all()
            decided = [e for e in s.exec(select(OutboxEvent).where(
                OutboxEvent.event_type == "appeal.decided"))
                if e.payload["appeal"] == appeal_id]
            assert len(decided) == 1 and appeal.version == version + 1
            if overturn == "ok":
                winners.add("overturn")
                assert appeal.status == "overturned" and post.status == "live"
                assert len(reinstates) == 1 and appeal.decided_by == staff["a"].moderator_id
            else:
                winners.add("uphold")
                assert appeal.status == "upheld" and post.status == "removed"
                assert reinstates == [] and appeal.decided_by == staff["b"].moderator_id
    assert winners  # (either may win any trial)


def test_two_appeals_against_one_decision_at_once(migrated_app):
    app = migrated_app
    staff = _staff(app)
    for _ in range(TRIALS):
        _post_id, decision_id = _removed(app, staff)
        outcomes = _race(app, *[
            (lambda s: appeals.file(s, decision_id=decision_id, text="twice",
                                    actor=staff["admin"]))] * 2)
        assert sorted(o.split("(")[0] for o in outcomes) == ["Conflict", "ok"], outcomes
        with app.app_context(), session_scope() as s:
            assert len(s.exec(select(Appeal).where(Appeal.decision_id == decision_id)).all()) == 1


def test_an_overturned_suspension_and_its_undo_on_postgresql(migrated_app):
    app = migrated_app
    staff = _staff(app)
    with app.app_context(), session_scope() as s:
        client = make_client(s)
        live = make_post(s, client)
        s.commit()
        decision = moderation.suspend(s, client_id=client.id,
                                      client_version=moderation.client_token(client),
                                      reason="fraud", actor=staff["admin"])
        appeal = appeals.file(s, decision_id=decision.id, text="not me", actor=staff["admin"])
        with pytest.raises(Conflict):
            appeals.file(s, decision_id=decision.id, text="again", actor=staff["admin"])
        appeal = appeals.decide(s, appeal_id=appeal.id, version=appeal.version,
                                outcome="overturn", reason="identity confirmed",
                                actor=staff["a"])
        s.expire_all()
        assert s.get(Client, client.id).status == "active"
        assert s.get(JobPost, live.id).status == "live"
        assert strikes.standing(s, client.id).total == 0
        appeals.undo(s, appeal_id=appeal.id, actor=staff["a"])
        s.expire_all()
        assert s.get(Client, client.id).status == "suspended"
        assert s.get(JobPost, live.id).status == "removed"
        assert strikes.standing(s, client.id).total == strikes.DEFAULT_WEIGHTS["suspend"]
