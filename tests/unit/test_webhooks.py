"""Outbox events delivered as signed webhooks, in order, retried, never dropped."""
from __future__ import annotations

import json
import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import outbox, webhooks
from models import OutboxEvent
from tests.support import factories as f
from tests.support.receiver import Receiver, receiver  # noqa: F401  (fixture)

SECRET = "whsec-test-0123456789"


@pytest.fixture
def hooked_app(app, receiver):
    app.config.update(MARKETPLACE_WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=SECRET)
    return app


def emit(session, client, n):
    for i in range(n):
        outbox.emit(session, event_type="client.contacted", subject_type="client",
                    subject_id=client.id, payload={"seq": i})
    session.commit()


def test_events_are_signed_and_carry_an_idempotency_key(hooked_app, receiver):
    with hooked_app.app_context(), session_scope() as s:
        c = f.client(s)
        emit(s, c, 1)  # inline delivery right after the commit
        event = s.exec(select(OutboxEvent)).one()
        assert event.delivered_at is not None and event.attempts == 1
    [got] = receiver.received
    assert webhooks.verify(got["body"], got["headers"]["X-TrustDesk-Signature"], SECRET)
    assert not webhooks.verify(got["body"] + b" ", got["headers"]["X-TrustDesk-Signature"], SECRET)
    assert got["headers"]["Idempotency-Key"] == event.idempotency_key
    payload = json.loads(got["body"])
    assert payload["type"] == "client.contacted" and payload["subject"] == {
        "type": "client", "id": c.id} and payload["data"] == {"seq": 0}


def test_a_failing_endpoint_keeps_events_in_order_until_it_recovers(hooked_app, receiver):
    receiver.fail_next = 4
    with hooked_app.app_context(), session_scope() as s:
        c = f.client(s)
        emit(s, c, 3)  # three inline deliveries fail: logged, the events stay pending
        pending = s.exec(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))).all()
        assert len(pending) == 3 and pending[0].last_error == "HTTP 503"
        # a retry while the endpoint still fails: nothing overtakes the first event
        with pytest.raises(webhooks.WebhookDeliveryError):
            webhooks.deliver_pending(s, "client", c.id)
        assert receiver.received == []
        assert webhooks.deliver_pending(s, "client", c.id) == 3  # recovered
    assert [json.loads(r["body"])["data"]["seq"] for r in receiver.received] == [0, 1, 2]


def test_unreachable_endpoint_is_an_error_not_a_drop(app):
    app.config.update(MARKETPLACE_WEBHOOK_URL="http://127.0.0.1:1/hooks", WEBHOOK_SECRET=SECRET)
    with app.app_context(), session_scope() as s:
        c = f.client(s)
        emit(s, c, 1)
        with pytest.raises(webhooks.WebhookDeliveryError, match="Connection"):
            webhooks.deliver_pending(s, "client", c.id)
        event = s.exec(select(OutboxEvent)).one()
        assert event.delivered_at is None and event.attempts == 2


def test_without_a_url_events_wait(app):
    with app.app_context(), session_scope() as s:
        c = f.client(s)
        emit(s, c, 1)
        assert webhooks.deliver_pending(s, "client", c.id) == 0
        assert s.exec(select(OutboxEvent)).one().delivered_at is None


def test_unknown_event_type_is_refused(app):
    with app.app_context(), session_scope() as s:
        with pytest.raises(ValueError):
            outbox.emit(s, event_type="post.exploded", subject_type="post", subject_id=1,
                        payload={})
