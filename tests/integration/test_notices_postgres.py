"""Notices to affected freelancers for real: PostgreSQL, Redis, a `flask worker` delivering
the held notices (webhook and e-mail) once the undo window has passed, an undo withdrawing
them, and the race of an undo with a delivery settled by the row locks."""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import select
from app.db import get_engine, session_scope
from app.services import moderation, notices, tokens, webhooks
from app.services.audit import CLI, Actor
from models import Flag, Moderator, OutboxEvent, utcnow
from tests.e2e.smtp_sink import SmtpSink
from tests.helpers import make_app
from tests.integration.conftest import REDIS_URL
from tests.integration.worker_support import WorkerEnv, wait_for
from tests.support.receiver import Receiver
from tests.support.services import migrate
from tests.unit.console_fixtures import make_client, make_post, scam_case

pytestmark = pytest.mark.integration

SECRET = "whsec-integration-0123456789"
UNDO = 3
CONTACTS = [{"freelancer_id": "fl-1", "kind": "applicant", "email": "ana@example.org"},
            {"freelancer_id": "fl-2", "kind": "messaged"}]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


@pytest.fixture
def env(pg_url, redis_client, tmp_path, receiver, sink):
    migrate(pg_url)
    e = WorkerEnv(pg_url, REDIS_URL, tmp_path, UNDO_SECONDS=str(UNDO),
                  MARKETPLACE_WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=SECRET,
                  SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port))
    yield e
    e.stop_workers()
    e.cleanup_redis()


@pytest.fixture
def app(env):
    overrides = env.app_overrides()
    overrides.update(UNDO_SECONDS=UNDO, SMTP_PORT=int(overrides["SMTP_PORT"]))
    app = make_app(env.settings["DATABASE_URL"], **overrides)
    yield app
    with app.app_context():
        get_engine().dispose()


def moderator(s) -> Actor:
    m = Moderator(email="mod@example.com", password_hash="x", role="moderator")
    s.add(m)
    s.commit()
    return Actor.of(m)


def scam_post_with_contacts(app) -> tuple[int, int, str]:
    """A scam case whose contacts arrive through the API; returns (post, flag, external id)."""
    with app.app_context(), session_scope() as s:
        _c, post, flag = scam_case(s)
        s.commit()
        post_id, flag_id, ext = post.id, flag.id, post.external_id
        _row, token = tokens.create_token(s, name="marketplace", actor=CLI)
    api = app.test_client()
    r = api.put(f"/api/v1/posts/{ext}/contacts", json={"contacts": CONTACTS},
                headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.json
    return post_id, flag_id, ext


def notice_bodies(receiver) -> list[dict]:
    return [b for b in (json.loads(r["body"]) for r in receiver.received)
            if b["type"] == "freelancer.notice"]


def test_the_worker_delivers_each_notice_once_after_the_window(env, app, receiver, sink):
    post_id, flag_id, ext = scam_post_with_contacts(app)
    env.start_worker()
    with app.app_context(), session_scope() as s:
        d = moderation.remove(s, flag_id=flag_id, version=1, reason_code="scam",
                              actor=moderator(s))
        decision_id = d.id
        decided_at = d.created_at
    # the post.removed event goes at once; the notices wait for the undo window
    wait_for(lambda: len(receiver.received) >= 1, timeout=30, what="post.removed", env=env)
    if utcnow() < decided_at + timedelta(seconds=UNDO):  # (a slow worker start may pass it)
        assert notice_bodies(receiver) == []
    wait_for(lambda: len(notice_bodies(receiver)) == 2, timeout=60, what="2 notices", env=env)
    wait_for(lambda: len(sink.messages) == 1, timeout=60, what="1 notice e-mail", env=env)
    env.flask("sweep", "--delay", "0")  # the safety net finds nothing left to send
    time.sleep(2)
    assert sorted(b["data"]["freelancer"] for b in notice_bodies(receiver)) == ["fl-1", "fl-2"]
    assert all(b["data"]["post"] == ext for b in notice_bodies(receiver))
    for r in receiver.received:
        assert webhooks.verify(r["body"], r["headers"]["X-TrustDesk-Signature"], SECRET)
    assert [m[1] for m in sink.messages] == [["ana@example.org"]]
    with app.app_context(), session_scope() as s:
        rows = notices.of_decision(s, decision_id)
        assert [st for _n, st in rows] == ["sent", "sent"]
        # never before the undo window ended, however late post.removed arrived
        sent = s.exec(select(OutboxEvent).where(OutboxEvent.event_type == "freelancer.notice")).all()
        assert len(sent) == 2
        assert all(e.delivered_at >= decided_at + timedelta(seconds=UNDO) for e in sent)
        summary = notices.summary(s, post_id=post_id, client_id=rows[0][0].client_id)
        assert (summary.notified, summary.sent, summary.pending) == (2, 2, 0)


def test_an_undo_within_the_window_means_the_worker_never_sends_them(env, app, receiver, sink):
    _post_id, flag_id, _ext = scam_post_with_contacts(app)
    env.start_worker()
    with app.app_context(), session_scope() as s:
        actor = moderator(s)
        d = moderation.remove(s, flag_id=flag_id, version=1, reason_code="scam", actor=actor)
        moderation.undo(s, decision_id=d.id, actor=actor)
        decision_id = d.id
    wait_for(lambda: len(receiver.received) == 2, timeout=30, what="removed + reinstated", env=env)
    time.sleep(UNDO + 3)  # the notices' scheduled jobs ran and found them withdrawn
    env.flask("sweep", "--delay", "0")
    time.sleep(2)
    assert [json.loads(r["body"])["type"] for r in receiver.received] == [
        "post.removed", "post.reinstated"]
    assert sink.messages == []
    with app.app_context(), session_scope() as s:
        assert {st for _n, st in notices.of_decision(s, decision_id)} == {"withdrawn"}


def test_an_undo_racing_a_delivery_leaves_each_notice_sent_or_withdrawn(env, app, receiver):
    """Two threads on PostgreSQL: one delivers the notices (as the worker would, once due),
    the other withdraws them (the undo's step). The row locks decide each notice: it is
    either received and sent, or withdrawn and never received - never both, never lost."""
    with app.app_context(), session_scope() as s:
        actor = moderator(s)
    for round_ in range(4):
        with app.app_context(), session_scope() as s:
            client = make_client(s)
            post = make_post(s, client)
            notices.replace_contacts(s, post.id, [{"freelancer_id": f"r{round_}-{i}",
                                                   "kind": "applicant"} for i in range(6)])
            flag = Flag(subject_type="post", subject_id=post.id, client_id=client.id,
                        post_id=post.id, reason="scam", score=0.9, evidence=[])
            s.add(flag)
            s.commit()
            d = moderation.remove(s, flag_id=flag.id, version=1, reason_code="scam", actor=actor)
            decision_id = d.id
            subjects = [n.id for n, _ in notices.of_decision(s, decision_id)]
        due = utcnow() + timedelta(seconds=UNDO + 1)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def deliver() -> None:
            try:
                with app.app_context(), session_scope() as s:
                    barrier.wait()
                    for subject_id in subjects:
                        webhooks.deliver_pending(s, notices.SUBJECT, subject_id, now=due)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        def withdraw() -> None:
            try:
                with app.app_context(), session_scope() as s:
                    barrier.wait()
                    time.sleep(0.002 * round_)
                    notices.withdraw(s, decision_id=decision_id, now=utcnow())
                    s.commit()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=deliver), threading.Thread(target=withdraw)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        got = {b["data"]["notice"] for b in notice_bodies(receiver)}
        with app.app_context(), session_scope() as s:
            for notice, state in notices.of_decision(s, decision_id):
                event = s.exec(select(OutboxEvent).where(
                    OutboxEvent.subject_type == "notice",
                    OutboxEvent.subject_id == notice.id)).one()
                if notice.id in got:
                    assert state == "sent" and event.withdrawn_at is None
                else:
                    assert state == "withdrawn" and event.delivered_at is None
                    assert event.withdrawn_at is not None


def test_two_writers_of_one_posts_contacts_leave_one_list(env, app):
    with app.app_context(), session_scope() as s:
        client = make_client(s)
        post = make_post(s, client)
        s.commit()
        ext = post.external_id
    lists = [[{"freelancer_id": f"a-{i}", "kind": "applicant"} for i in range(40)],
             [{"freelancer_id": f"a-{i}", "kind": "messaged"} for i in range(20, 60)]]
    barrier = threading.Barrier(2)
    results: list = []

    def write(contacts) -> None:
        with app.app_context(), session_scope() as s:
            barrier.wait()
            results.append(notices.put_contacts(s, post_external_id=ext, contacts=contacts))

    threads = [threading.Thread(target=write, args=(c,)) for c in lists]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    with app.app_context(), session_scope() as s:
        stored = sorted((c.freelancer_ref, c.kind) for c in notices.contacts_of(s, [post.id]))
    assert stored in [sorted((c["freelancer_id"], c["kind"]) for c in lst) for lst in lists]
