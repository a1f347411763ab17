"""Leases: which process runs a periodic task now (the embedded tick), in the database."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Lease(SQLModel, table=True):
    """One row per periodic task. A process runs the task only after taking the lease with a
    conditional UPDATE (free: ``locked_until`` passed; not run for a while: ``last_run_at``),
    so several processes never run it at once, on SQLite as on PostgreSQL."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=64)
    owner: str | None = Field(default=None, max_length=200)
    locked_until: datetime | None = Field(default=None)
    last_run_at: datetime | None = Field(default=None)
