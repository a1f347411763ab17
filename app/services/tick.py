"""The embedded tick: without Redis, nothing else runs the work that is due later - follow-up
re-checks at the end of their window, webhook retries, work whose enqueue was lost - so the
served process (``make run``, each gunicorn worker) runs the sweep every
``EMBEDDED_TICK_SECONDS`` (``app.jobs.ticker``). The sweep dispatches inline: the due
follow-ups are re-checked, pending webhooks delivered, unscored posts scored, in this process.

One runner at a time across every process on the database: a run first takes the ``lease``
row with one conditional UPDATE - free (its ``locked_until`` has passed) and not run in the
last half interval - which on PostgreSQL locks the row (a concurrent UPDATE waits, then finds
the condition false) and on SQLite takes the database's write lock; the lease is committed
before the sweep starts and given back after it. A runner that dies holding it blocks the
tick until ``locked_until``, ``LEASE_INTERVALS`` intervals (at least ten minutes) later.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import Lease, utcnow

from . import sweep

NAME = "embedded-tick"
LEASE_INTERVALS = 10
MIN_LEASE_SECONDS = 600


def take_lease(session: Session, *, owner: str, interval: int, now: datetime,
               name: str = NAME) -> bool:
    """Take the lease if it is free and the task has not run in the last half interval
    (several processes ticking at the same period then run it about once per period)."""
    if session.get(Lease, name) is None:
        session.add(Lease(name=name))
        try:
            session.commit()
        except IntegrityError:  # another process created it meanwhile
            session.rollback()
    hold = timedelta(seconds=max(interval * LEASE_INTERVALS, MIN_LEASE_SECONDS))
    result = session.execute(
        update(Lease)
        .where(Lease.name == name,
               or_(Lease.locked_until.is_(None), Lease.locked_until <= now),
               or_(Lease.last_run_at.is_(None),
                   Lease.last_run_at <= now - timedelta(seconds=interval / 2)))
        .values(owner=owner, locked_until=now + hold))
    session.commit()
    return result.rowcount == 1


def give_back(session: Session, *, owner: str, name: str = NAME) -> None:
    """Free the lease and note the run (only the owner's lease)."""
    session.rollback()
    done = utcnow()
    session.execute(update(Lease).where(Lease.name == name, Lease.owner == owner)
                    .values(locked_until=done, last_run_at=done))
    session.commit()


def run_once(session: Session, *, owner: str, interval: int,
             now: datetime | None = None) -> dict[str, Any] | None:
    """One tick: the sweep's report if this process took the lease and ran it, else None."""
    if not take_lease(session, owner=owner, interval=interval, now=now or utcnow()):
        return None
    try:
        return sweep.run(session)
    finally:
        give_back(session, owner=owner)
