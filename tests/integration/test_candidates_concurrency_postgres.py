"""Two admins asking for a candidate training at the same moment, on the real PostgreSQL (two
threads released by a Barrier): one training is recorded, the other gets the 409."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import candidates
from app.services.audit import Actor
from app.services.model_files import CandidateError
from models import ModelCandidate, Moderator

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


def test_two_training_requests_at_once_record_one(migrated_app):
    app = migrated_app
    admins = _admins(app)
    for trial in range(TRIALS):
        barrier = threading.Barrier(2)
        outcomes = [""] * 2

        def ask(i: int) -> None:
            with app.app_context(), session_scope() as s:
                barrier.wait()
                try:
                    candidates.request_training(s, actor=admins[i], queue=False)
                    outcomes[i] = "ok"
                except CandidateError as exc:
                    outcomes[i] = f"refused {exc.status}"
                except Exception as exc:  # noqa: BLE001 - reported, then asserted on
                    outcomes[i] = repr(exc)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["ok", "refused 409"], (trial, outcomes)
        with app.app_context(), session_scope() as s:
            queued = s.exec(select(ModelCandidate).where(ModelCandidate.status == "queued")).all()
            assert len(queued) == 1, (trial, len(queued))
            queued[0].status = "failed"  # the next trial starts with nothing training
            s.add(queued[0])
            s.commit()
