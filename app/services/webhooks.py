"""Delivering outbox events to the marketplace as signed webhooks.

Each event is POSTed as JSON to MARKETPLACE_WEBHOOK_URL with headers
``X-TrustDesk-Signature: sha256=<hex HMAC-SHA256 of the exact body with WEBHOOK_SECRET>``,
``Idempotency-Key`` (stable per event: a retried delivery carries the same key) and
``X-TrustDesk-Event``. Any 2xx is delivered. A held event (``next_attempt_at`` in the
future) waits for its time; a withdrawn one (``withdrawn_at``) is never sent. Events of one subject go out in order: the
oldest pending one first, and a failure stops that subject's delivery (the job raises,
RQ retries it with backoff; the sweep re-enqueues whatever is still pending). Nothing is
dropped: an event leaves the outbox only by being delivered.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlmodel import Session, select

from models import OutboxEvent, utcnow

from ..jobs import failed

SIGNATURE_HEADER = "X-TrustDesk-Signature"


class WebhookDeliveryError(RuntimeError):
    """The marketplace did not accept an event; the job fails so that RQ retries it."""


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str, secret: str) -> bool:
    """What a receiver does (used by tests, documented for the marketplace)."""
    return hmac.compare_digest(sign(body, secret), signature)


def body_of(event: OutboxEvent) -> bytes:
    return json.dumps({
        "id": event.idempotency_key,
        "type": event.event_type,
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "occurred_at": event.created_at.isoformat(),
        "data": event.payload,
    }, sort_keys=True, separators=(",", ":")).encode()


def deliver_pending(session: Session, subject_type: str, subject_id: int,
                    *, now: datetime | None = None) -> int:
    """Deliver the subject's pending events oldest first; returns how many went out.
    Raises WebhookDeliveryError at the first one the marketplace does not accept."""
    url = current_app.config.get("MARKETPLACE_WEBHOOK_URL")
    if not url:
        return 0  # nowhere to send: events stay pending until a URL is configured
    secret = current_app.config.get("WEBHOOK_SECRET")
    if not secret:
        raise WebhookDeliveryError("WEBHOOK_SECRET is not set; refusing to send unsigned events")
    delivered = 0
    while True:
        # lock the subject's oldest pending event: a second job for the same subject
        # waits here, so events never overtake each other
        event = session.exec(
            select(OutboxEvent)
            .where(OutboxEvent.subject_type == subject_type, OutboxEvent.subject_id == subject_id,
                   OutboxEvent.delivered_at.is_(None), OutboxEvent.withdrawn_at.is_(None),
                   sa.or_(OutboxEvent.next_attempt_at.is_(None),
                          OutboxEvent.next_attempt_at <= (now or utcnow())))
            .order_by(OutboxEvent.id).limit(1).with_for_update()
        ).first()
        if event is None:
            session.commit()
            return delivered
        error = _post(url, event, secret)
        event.attempts += 1
        if error is None:
            event.delivered_at = now or utcnow()
            event.last_error = None
            delivered += 1
        else:
            event.last_error = error[:2000]
        session.add(event)
        session.commit()
        if error is not None:
            raise WebhookDeliveryError(f"event {event.id} ({event.event_type}): {error}")


def _post(url: str, event: OutboxEvent, secret: str) -> str | None:
    body = body_of(event)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "TrustDesk-Webhooks/1",
        "X-TrustDesk-Event": event.event_type,
        "Idempotency-Key": event.idempotency_key,
        SIGNATURE_HEADER: sign(body, secret),
    })
    timeout = current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"{exc.__class__.__name__}: {exc}"


_DELIVERY_JOB = re.compile(r"-outbox-(?P<type>[a-z_]+)-(?P<subject>\d+)-(?P<event>\d+)$")


def prune_delivered_failures(session: Session) -> int:
    """Take out of the failed registries the delivery jobs whose events were delivered since
    (by a later job or the sweep): nothing is left to do, and they would alarm the System
    page for the month failed jobs are kept. A job whose subject still has an event pending
    up to its own stays. Returns how many left."""
    pruned = 0
    for job_id, _args in failed.failed_of("app.jobs.tasks.deliver_outbox"):
        match = _DELIVERY_JOB.search(job_id)
        if match is None:
            continue
        pending = session.exec(select(OutboxEvent.id).where(
            OutboxEvent.subject_type == match["type"],
            OutboxEvent.subject_id == int(match["subject"]),
            OutboxEvent.id <= int(match["event"]),
            OutboxEvent.delivered_at.is_(None), OutboxEvent.withdrawn_at.is_(None)).limit(1)).first()
        if pending is None and failed.discard(job_id):
            pruned += 1
    session.rollback()  # read-only: end the transaction
    return pruned
