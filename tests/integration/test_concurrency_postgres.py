"""Two moderators (or two workers) at the same moment, on the real PostgreSQL: two threads
released together by a Barrier, over repeated trials (docs/concurrency.md)."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import session_scope
from app.services import moderation
from app.services.audit import Actor
from app.services.moderation import StaleCase
from models import AuditEvent, Decision, Flag, JobPost, Moderator
from tests.unit.console_fixtures import make_client, make_flag, make_post

pytestmark = pytest.mark.integration

TRIALS = 20


def _moderators(app) -> tuple[Actor, Actor]:
    with app.app_context(), session_scope() as s:
        actors = []
        for email in ("a@example.com", "b@example.com"):
            m = Moderator(email=email, password_hash="x", role="moderator")
            s.add(m)
            s.flush()
            actors.append(Actor.of(m))
        s.commit()
        return actors[0], actors[1]


def _post_with_two_flags(app) -> tuple[int, int, int]:
    """A live post with two open flags (scam and policy): (post id, flag a, flag b)."""
    with app.app_context(), session_scope() as s:
        client = make_client(s)
        post = make_post(s, client)
        a = make_flag(s, post, reason="policy", policy_types=["off_platform"])
        b = make_flag(s, post, reason="scam")
        s.commit()
        return post.id, a.id, b.id


def _race(app, *actions: Callable) -> list[str]:
    """Run each action in its own thread and session, all released at once; each answers
    "ok", "conflict" (StaleCase: the 409 answer), "deadlock: ..." (a StaleCase the
    database's deadlock detector caused: the locks were taken out of order) or the repr of
    anything else raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = [""] * len(actions)

    def run(i: int, action: Callable) -> None:
        with app.app_context(), session_scope() as s:
            barrier.wait()
            try:
                action(s)
                outcomes[i] = "ok"
            except StaleCase as exc:
                # a conflict found by the locks and versions, not a deadlock answered as one
                outcomes[i] = f"deadlock: {exc.__cause__!r}" if exc.__cause__ else "conflict"
            except Exception as exc:  # noqa: BLE001 - reported, then asserted on
                outcomes[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, a), name=f"racer-{i}")
               for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_dismiss_and_remove_on_two_flags_of_one_post_never_lose_an_update(migrated_app):
    app = migrated_app
    mod_a, mod_b = _moderators(app)
    for _ in range(TRIALS):
        post_id, flag_a, flag_b = _post_with_two_flags(app)
        dismissed, removed = _race(
            app,
            lambda s: moderation.dismiss(s, flag_id=flag_a, version=1, actor=mod_a),
            lambda s: moderation.remove(s, flag_id=flag_b, version=1, reason_code="scam",
                                        actor=mod_b))
        assert removed == "ok"
        assert dismissed in ("ok", "conflict")
        with app.app_context(), session_scope() as s:
            a = s.get(Flag, flag_a)
            remove = s.exec(select(Decision).where(Decision.flag_id == flag_b)).one()
            closed = [c["id"] for c in remove.details["closed_flags"]]
            dismissals = s.exec(select(Decision).where(Decision.flag_id == flag_a)).all()
            audits = s.exec(select(AuditEvent).where(AuditEvent.action == "post.dismiss",
                                                     AuditEvent.subject_id == str(post_id))).all()
            assert s.get(JobPost, post_id).status == "removed"
            if dismissed == "ok":
                # the dismissal stands: the flag says so, and the removal did not close it
                assert a.status == "dismissed", "the removal overwrote the dismissal"
                assert flag_a not in closed
                assert len(dismissals) == 1 and len(audits) == 1
            else:
                # the removal came first and closed it; the dismissal wrote nothing
                assert a.status == "resolved" and flag_a in closed
                assert dismissals == [] and audits == []


def test_undo_of_a_dismissal_does_not_reopen_a_flag_on_a_removed_post(migrated_app):
    app = migrated_app
    mod_a, mod_b = _moderators(app)
    post_id, flag_a, flag_b = _post_with_two_flags(app)
    with app.app_context(), session_scope() as s:
        dismissal = moderation.dismiss(s, flag_id=flag_a, version=1, actor=mod_a)
        moderation.remove(s, flag_id=flag_b, version=1, reason_code="scam", actor=mod_b)
        with pytest.raises(StaleCase):
            moderation.undo(s, decision_id=dismissal.id, actor=mod_a)
        s.expire_all()
        assert s.get(Flag, flag_a).status == "dismissed"
        assert s.get(Decision, dismissal.id).undone_at is None


def test_two_removals_of_one_post_through_two_flags_answer_ok_and_conflict(migrated_app):
    """Before: a deadlock (each held its own flag and waited for the other's) -> HTTP 500."""
    app = migrated_app
    mod_a, mod_b = _moderators(app)
    for _ in range(TRIALS):
        post_id, flag_a, flag_b = _post_with_two_flags(app)
        outcomes = _race(
            app,
            lambda s: moderation.remove(s, flag_id=flag_a, version=1, reason_code="scam",
                                        actor=mod_a),
            lambda s: moderation.remove(s, flag_id=flag_b, version=1, reason_code="scam",
                                        actor=mod_b))
        assert sorted(outcomes) == ["conflict", "ok"], outcomes
        with app.app_context(), session_scope() as s:
            decisions = s.exec(select(Decision).where(Decision.post_id == post_id)).all()
            assert len(decisions) == 1
            assert {s.get(Flag, f).status for f in (flag_a, flag_b)} == {"resolved"}


def test_suspend_and_a_post_removal_at_once_answer_ok_or_conflict(migrated_app):
    """A client-wide decision (suspend: the client, then its posts, then its flags, each by
    id) against a post decision (the post, then its flags): no deadlock, nothing lost."""
    app = migrated_app
    mod_a, mod_b = _moderators(app)
    for _ in range(TRIALS // 2):
        with app.app_context(), session_scope() as s:
            client = make_client(s)
            posts = [make_post(s, client) for _ in range(3)]
            flags = [make_flag(s, p, reason=r) for p in posts for r in ("scam", "policy")]
            s.commit()
            client_id, token = client.id, moderation.client_token(client)
            flag_id = flags[-1].id
        outcomes = _race(
            app,
            lambda s: moderation.suspend(s, client_id=client_id, client_version=token,
                                         reason="fraud ring", actor=mod_a),
            lambda s: moderation.remove(s, flag_id=flag_id, version=1, reason_code="scam",
                                        actor=mod_b))
        assert set(outcomes) <= {"ok", "conflict"} and "ok" in outcomes, outcomes
        with app.app_context(), session_scope() as s:
            open_flags = s.exec(select(Flag).where(Flag.client_id == client_id,
                                                   Flag.status == "open")).all()
            assert open_flags == [], outcomes


def test_two_workers_scoring_the_same_posts_do_not_deadlock(migrated_app, monkeypatch):
    """Two workers score overlapping chunks, listed in opposite orders. Before: the
    set-based score update locked the rows in the join's order (3 in 100 deadlocked)."""
    from app.services import scoring

    app = migrated_app
    with app.app_context(), session_scope() as s:
        client = make_client(s)
        ids = [make_post(s, client, title=f"Post {i}", description=f"Logo number {i}.").id
               for i in range(400)]
        s.commit()

    fake = _FakeScorer()
    monkeypatch.setattr(scoring, "get_scorer", lambda: fake)
    # each worker reads its posts in its own order (the read has no ORDER BY: any order)
    original = scoring.chunk_read
    monkeypatch.setattr(scoring, "chunk_read", lambda i, sb: original(i, sb).order_by(
        JobPost.id.desc() if threading.current_thread().name == "racer-1" else JobPost.id))
    for trial in range(TRIALS):
        fake.version = f"m-{trial}"
        outcomes = _race(app, lambda s: scoring.score_posts(_nested_loops(s), ids),
                         lambda s: scoring.score_posts(_nested_loops(s), list(reversed(ids))))
        assert outcomes == ["ok", "ok"], outcomes
        with app.app_context(), session_scope() as s:
            versions = set(s.exec(select(JobPost.model_version).where(JobPost.id.in_(ids))))
            assert versions == {f"m-{trial}"}
            counts = s.execute(sa.text(
                "SELECT count(*) FROM flag WHERE status = 'open' GROUP BY post_id, reason "
                "HAVING count(*) > 1")).all()
            assert counts == []


def _nested_loops(session):
    """The plan PostgreSQL picks for a chunk in a large table: a nested loop over the JSON
    rows, which visits (and locks) the posts in the order the rows were sent. (Here, in a
    small table, it would hash the rows and scan the table in its physical order.)"""
    session.execute(sa.text("SET LOCAL enable_hashjoin = off"))
    session.execute(sa.text("SET LOCAL enable_mergejoin = off"))
    return session


class _FakeScorer:
    """Every post flagged as a scam, at once (the ML models are not what is tested)."""

    version = "m-0"

    @property
    def versions(self) -> dict[str, str]:
        return {r: self.version for r in ("scam", "miscategorised", "policy")}

    def score_posts(self, posts):
        from classifiers.types import Evidence, PostScore

        return [PostScore(id=p.id, scores={"scam": 0.95, "miscategorised": 0.1, "policy": 0.1},
                          flags=["scam"], policy_types=[], suggested_category=None,
                          predicted_category=None,
                          evidence=[Evidence(label="scam", text="Logo", start=0, end=4,
                                             why="test", field="title", detector="scam",
                                             kind="rule")],
                          model_versions={"scam": self.version}) for p in posts]


def test_one_note_form_sent_twice_at_once_adds_one_note(migrated_app):
    """The same note form (one form_token) submitted twice at the same moment - a double click
    that reaches both gunicorn workers - is one note, not two."""
    app = migrated_app
    mod_a, _ = _moderators(app)
    for trial in range(TRIALS):
        post_id, flag_a, _ = _post_with_two_flags(app)
        token = f"tok-{trial}"

        def note(s):
            moderation.add_note(s, text="checked the client's other posts", actor=mod_a,
                                flag_id=flag_a, form_token=token)

        assert _race(app, note, note) == ["ok", "ok"]
        with app.app_context(), session_scope() as s:
            notes = s.exec(select(Decision).where(Decision.action == "note",
                                                  Decision.post_id == post_id)).all()
            assert len(notes) == 1, f"trial {trial}: {len(notes)} notes"
