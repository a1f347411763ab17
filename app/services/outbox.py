"""Events for the marketplace (outbox pattern).

``emit`` adds an OutboxEvent to the caller's transaction, next to the decision that
caused it, and defers its delivery job until that transaction commits. Delivery
(``deliver_pending``) posts each event as a signed webhook, in order per subject.

An event may be held (``not_before``, kept in ``next_attempt_at``): its delivery job is
scheduled for then, and nothing delivers it earlier. A held event may be withdrawn
(``withdrawn_at``) before it goes out: a freelancer notice whose decision was undone
within its undo window (``app/services/notices.py``). A withdrawn event is never sent.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import OutboxEvent, utcnow

from ..jobs import enqueue
from . import bulk

#: the events the marketplace can receive
EVENT_TYPES = frozenset({
    "post.removed", "post.recategorised", "post.reinstated",
    "client.contacted", "client.suspended", "client.reinstated",
    "post.held", "post.released",
    "appeal.decided", "appeal.reopened",
    "freelancer.notice",
})


def write_many(session: Session, *, event_type: str, subject_type: str,
               events: list[tuple[int, dict[str, Any]]], not_before: datetime | None = None) -> None:
    """Record many events (``(subject_id, payload)`` each) in the current transaction with
    one INSERT, held until ``not_before``. Their delivery is the caller's to ask for (one
    job for all: ``enqueue.deliver_notices``); the sweep finds any left pending."""
    _insert(session, [{"event_type": event_type, "subject_type": subject_type, "subject_id": subject_id,
                       "payload": payload} for subject_id, payload in events],
            now=utcnow(), not_before=not_before)


def _insert(session: Session, events: list[dict[str, Any]], *, now: datetime,
            not_before: datetime | None = None) -> list[int]:
    """The outbox rows of these events (dicts of ``emit``'s keyword arguments), one INSERT;
    their ids in the given order."""
    for e in events:
        if e["event_type"] not in EVENT_TYPES:
            raise ValueError(f"unknown event type {e['event_type']!r}")
    return bulk.insert_ids(session, OutboxEvent.__table__, [
        {**e, "idempotency_key": uuid.uuid4().hex, "created_at": now, "attempts": 0,
         "next_attempt_at": not_before} for e in events])


def emit(session: Session, *, event_type: str, subject_type: str, subject_id: int,
         payload: dict[str, Any], not_before: datetime | None = None) -> OutboxEvent:
    """Record an event in the current transaction; it is delivered after the commit (and
    not before ``not_before``, if given)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event = OutboxEvent(event_type=event_type, subject_type=subject_type, subject_id=subject_id,
                        payload=payload, idempotency_key=uuid.uuid4().hex,
                    next_attempt_at=not_before)
    session.add(event)
    session.flush()
    enqueue.deliver_outbox(session, subject_type, subject_id, event.id, at=not_before)
    return event


def emit_all(session: Session, events: list[dict[str, Any]], *, now: datetime) -> list[int]:
    """``emit`` for many events (each a dict of ``emit``'s keyword arguments), in the given
    order, by one multi-row insert (``_insert``); returns their ids."""
    ids = _insert(session, events, now=now)
    for e, event_id in zip(events, ids, strict=True):
        enqueue.deliver_outbox(session, e["subject_type"], e["subject_id"], event_id)
    return ids
