"""Reviewer QA: a sample of decided cases judged again, blind, by a second moderator;
disagreements adjudicated by an admin. Its own tables: decisions are never changed."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import enum_check, utcnow


class QaStatus(StrEnum):
    pending = "pending"          # sampled, waiting for a second moderator
    agreed = "agreed"            # the second moderator reached the same verdict
    disagreed = "disagreed"      # waiting for an admin's adjudication
    adjudicated = "adjudicated"  # an admin's verdict supersedes both


class QaLabel(StrEnum):
    """The verdicts compared (a decision's action, as a label)."""
    not_violation = "not_violation"
    remove = "remove"
    recategorise = "recategorise"
    contact = "contact"
    suspend = "suspend"


class QaReview(SQLModel, table=True):
    __tablename__ = "qa_review"
    __table_args__ = (
        enum_check("status", QaStatus),
        enum_check("first_label", QaLabel),
        sa.CheckConstraint(f"review_label IS NULL OR review_label IN "
                           f"({', '.join(repr(str(v)) for v in QaLabel)})", name="review_label"),
        sa.CheckConstraint(f"adjudicated_label IS NULL OR adjudicated_label IN "
                           f"({', '.join(repr(str(v)) for v in QaLabel)})",
                           name="adjudicated_label"),
        # the QA queue and the adjudication queue: by status, oldest first
        sa.Index("ix_qa_review_status", "status", "id"),
        sa.Index("ix_qa_review_first_moderator", "first_moderator_id"),
        sa.Index("ix_qa_review_reviewer", "reviewer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", ondelete="RESTRICT", unique=True)
    flag_id: int = Field(foreign_key="flag.id", ondelete="RESTRICT")
    subject_type: str = Field(max_length=16)
    post_id: int | None = Field(default=None, foreign_key="job_post.id", ondelete="RESTRICT")
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT")
    reason: str = Field(max_length=32)
    first_moderator_id: int = Field(foreign_key="moderator.id", ondelete="RESTRICT")
    first_label: str = Field(max_length=32)
    sampled_at: datetime = Field(default_factory=utcnow)
    status: str = Field(max_length=16, default=QaStatus.pending)
    reviewer_id: int | None = Field(default=None, foreign_key="moderator.id", ondelete="RESTRICT")
    review_label: str | None = Field(default=None, max_length=32)
    review_comment: str = Field(default="", sa_type=sa.Text)
    reviewed_at: datetime | None = Field(default=None)
    adjudicator_id: int | None = Field(default=None, foreign_key="moderator.id",
                                       ondelete="RESTRICT")
    adjudicated_label: str | None = Field(default=None, max_length=32)
    adjudicated_at: datetime | None = Field(default=None)
    #: the corrective action the adjudication applied ("reinstate", "remove") or None
    correction: str | None = Field(default=None, max_length=32)


class QaScan(SQLModel, table=True):
    """How far the sampler has read the decision table (one row, id 1)."""
    __tablename__ = "qa_scan"

    id: int = Field(primary_key=True)
    last_decision_id: int = Field(default=0)
