"""Trained model versions known to the console (the registry's files live in classifiers/)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import json_field, utcnow


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_version"
    __table_args__ = (
        sa.UniqueConstraint("name", "version", name="uq_model_version_name_version"),
        # at most one active version per detector
        sa.Index(
            "uq_model_version_active",
            "name",
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: str = Field(max_length=64)
    metrics: dict[str, Any] | None = json_field()
    thresholds: dict[str, Any] | None = json_field()
    artifact: str = Field(max_length=500)
    active: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
