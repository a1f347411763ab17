"""The strike re-rank on the real PostgreSQL (migrated to head), two threads released together:
two removals of one client's posts at once both go through (no deadlock, no 409) and leave
the client's third open flag with the boost of both strikes; a removal and a moderator's
dismissal of that third flag at once both go through too (the re-rank bumps no version); and
the sweep's re-rank of expired strikes beside a removal of the same client."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import flags as flag_service, moderation, strikes
from app.services.audit import Actor
from models import Client, Flag, Moderator, utcnow
from tests.integration.test_concurrency_postgres import _race
from tests.unit.console_fixtures import make_client, make_flag, make_post

pytestmark = pytest.mark.integration

TRIALS = 10


def _moderators(app) -> list[Actor]:
    with app.app_context(), session_scope() as s:
        out = []
        for name in ("a", "b"):
            m = Moderator(email=f"{name}@example.com", password_hash="x", role="moderator")
            s.add(m)
            s.flush()
            out.append(Actor.of(m))
        s.commit()
        return out


def _client_with_cases(app) -> tuple[list[tuple[int, int]], int]:
    """A client with two scam cases ((flag id, version) each) and a third open flag scored at
    priority 40 (its id)."""
    with app.app_context(), session_scope() as s:
        client = make_client(s)
        cases = [make_flag(s, make_post(s, client)) for _ in range(2)]
        third = make_post(s, client)
        s.commit()
        flag_service.upsert_open_flags(s, [(
            {"subject_type": "post", "subject_id": third.id, "client_id": client.id,
             "post_id": third.id},
            flag_service.Detection(reason="policy", score=0.7, model_version="m",
                                   policy_types=["off_platform"], priority=40.0))])
        s.commit()
        other = s.exec(select(Flag).where(Flag.post_id == third.id)).one()
        return [(f.id, f.version) for f in cases], other.id


def _remove(actor, flag_id, version):
    return lambda s: moderation.remove(s, flag_id=flag_id, version=version, reason_code="scam",
                                       actor=actor)


def _flag(app, flag_id) -> Flag:
    with app.app_context(), session_scope() as s:
        flag = s.get(Flag, flag_id)
        s.expunge(flag)
        return flag


def test_two_removals_of_one_clients_posts_at_once_both_count(migrated_app):
    app = migrated_app
    a, b = _moderators(app)
    contact = strikes.PRIORITY_BOOST["contact"]  # 3 + 3 = 6: the contact step (4)
    for trial in range(TRIALS):
        (first, second), other = _client_with_cases(app)
        outcomes = _race(app, _remove(a, *first), _remove(b, *second))
        assert outcomes == ["ok", "ok"], (trial, outcomes)
        flag = _flag(app, other)
        assert (flag.priority, flag.strike_boost) == (40.0 + contact, contact), (trial, flag)


def test_a_removal_and_a_dismissal_of_the_clients_other_flag_at_once(migrated_app):
    app = migrated_app
    a, b = _moderators(app)
    for trial in range(TRIALS):
        (first, _), other = _client_with_cases(app)
        version = _flag(app, other).version  # the form moderator b has open
        outcomes = _race(app, _remove(a, *first), lambda s: moderation.dismiss(
            s, flag_id=other, version=version, actor=b))
        assert outcomes == ["ok", "ok"], (trial, outcomes)
        assert _flag(app, other).status == "dismissed"


def test_the_sweeps_rerank_of_expired_strikes_and_a_removal_of_the_same_client_at_once(
        migrated_app):
    """Two strikes of a client expire while a moderator removes another of its posts: the
    sweep's re-rank (which locks its clients first, like a decision) and the removal both go
    through, and the client's open flag ends with the boost of the new strike alone, whichever
    of them ran first: the re-rank never writes a standing read before the removal committed."""
    app = migrated_app
    a, b = _moderators(app)
    warning, contact = strikes.PRIORITY_BOOST["warning"], strikes.PRIORITY_BOOST["contact"]
    for trial in range(TRIALS):
        (first, second), other = _client_with_cases(app)
        with app.app_context(), session_scope() as s:
            # both removals were made a day longer ago than strikes last
            then = utcnow() - timedelta(days=strikes.expiry_days() + 1)
            for flag_id, version in (first, second):
                moderation.remove(s, flag_id=flag_id, version=version, reason_code="scam",
                                  actor=a, now=then)
            assert s.get(Flag, other).strike_boost == contact  # 3 + 3, then: the contact step
            client = s.get(Flag, other).client_id
            third = make_flag(s, make_post(s, s.get(Client, client)))
            s.commit()
            new_case = (third.id, third.version)
        outcomes = _race(app, lambda s: flag_service.rerank_expired(s),
                         _remove(b, *new_case))
        assert outcomes == ["ok", "ok"], (trial, outcomes)
        flag = _flag(app, other)
        assert (flag.priority, flag.strike_boost) == (40.0 + warning, warning), (trial, flag)
