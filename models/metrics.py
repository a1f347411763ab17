"""Pre-aggregated counts for the oversight dashboard (``app/services/rollups.py``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class MetricsRollup(SQLModel, table=True):
    """How many rows of one kind fall in one UTC quarter of an hour, per reason and up to
    two more dimensions (a policy type, a moderator and an action, a histogram bucket...).
    Kept in step by the writes that change them (same transaction), rebuilt by
    ``flask metrics rebuild``, reconciled by the sweep."""
    __tablename__ = "metrics_rollup"

    kind: str = Field(max_length=16, primary_key=True)
    quarter: int = Field(sa_type=sa.BigInteger, primary_key=True)
    reason: str = Field(max_length=32, primary_key=True)
    dim1: str = Field(max_length=64, primary_key=True, default="")
    dim2: str = Field(max_length=64, primary_key=True, default="")
    n: int = Field(default=0)
