"""Events for the marketplace (outbox pattern).

``emit`` adds an OutboxEvent to the caller's transaction, next to the decision that
caused it, and defers its delivery job until that transaction commits. Delivery
(``deliver_pending``) posts each event as a signed webhook, in order per subject.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import OutboxEvent

from ..jobs import enqueue
from . import bulk

#: the events the marketplace can receive
EVENT_TYPES = frozenset({
    "post.removed", "post.recategorised", "post.reinstated",
    "client.contacted", "client.suspended", "client.reinstated",
    "post.held", "post.released",
    "appeal.decided", "appeal.reopened",
})


def emit(session: Session, *, event_type: str, subject_type: str, subject_id: int,
         payload: dict[str, Any]) -> OutboxEvent:
    """Record an event in the current transaction; it is delivered after the commit."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event = OutboxEvent(event_type=event_type, subject_type=subject_type, subject_id=subject_id,
                        payload=payload, idempotency_key=uuid.uuid4().hex)
    session.add(event)
    session.flush()
    enqueue.deliver_outbox(session, subject_type, subject_id, event.id)
    return event


def emit_all(session: Session, events: list[dict[str, Any]], *, now: datetime) -> list[int]:
    """``emit`` for many events (each a dict of ``emit``'s keyword arguments), in the given
    order, by one multi-row insert (``bulk.insert_ids``); returns their ids."""
    for e in events:
        if e["event_type"] not in EVENT_TYPES:
            raise ValueError(f"unknown event type {e['event_type']!r}")
    ids = bulk.insert_ids(session, OutboxEvent.__table__, [
        {**e, "idempotency_key": uuid.uuid4().hex, "created_at": now, "attempts": 0}
        for e in events])
    for e, event_id in zip(events, ids, strict=True):
        enqueue.deliver_outbox(session, e["subject_type"], e["subject_id"], event_id)
    return ids
