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


class ModelCandidate(SQLModel, table=True):
    """One set of model versions trained as a candidate (or recorded as the set that was
    active before a promotion): its training progress, its comparison with the active
    models, and whether it is shadow scoring."""
    __tablename__ = "model_candidate"
    __table_args__ = (sa.UniqueConstraint("version", name="uq_model_candidate_version"),)

    id: int | None = Field(default=None, primary_key=True)
    #: the post detectors' version (None until trained)
    version: str | None = Field(default=None, max_length=64)
    #: every detector's version (the feedback model is the active one's)
    versions: dict[str, Any] | None = json_field()
    #: queued / training / ready / failed / previous (recorded when replaced)
    status: str = Field(default="queued", max_length=16)
    progress: dict[str, Any] | None = json_field()
    comparison: dict[str, Any] | None = json_field()
    error: str | None = Field(default=None, max_length=2000)
    requested_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    promoted_at: datetime | None = None
    #: shadow scoring runs until then (None: not shadowing)
    shadow_until: datetime | None = None


class ShadowScore(SQLModel, table=True):
    """A post scored by a shadow candidate beside the active models (no flag created)."""
    __tablename__ = "shadow_score"
    __table_args__ = (
        sa.UniqueConstraint("candidate_id", "post_id", name="uq_shadow_score_candidate_post"),
        sa.Index("ix_shadow_score_candidate_disagree", "candidate_id", "disagree"),
    )

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="model_candidate.id")
    post_id: int = Field(foreign_key="job_post.id", index=True)
    active_flags: list[str] | None = json_field()
    candidate_flags: list[str] | None = json_field()
    disagree: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
