"""What the marketplace sends us: clients, their job posts, and freelancers' feedback."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import enum_check, json_field, utcnow
from .enums import ClientStatus, PostStatus


class Client(SQLModel, table=True):
    __tablename__ = "client"
    __table_args__ = (
        enum_check("status", ClientStatus),
        sa.Index("ix_client_scored_at", "scored_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200, index=True)
    country: str | None = Field(default=None, max_length=64)
    joined_at: datetime | None = Field(default=None)
    payment_verified: bool = Field(default=False)
    phone_verified: bool = Field(default=False)
    identity_verified: bool = Field(default=False)
    status: str = Field(max_length=16, default=ClientStatus.active, index=True)
    status_changed_at: datetime | None = Field(default=None)
    #: latest client-level negativity score and the model that produced it
    negativity_score: float | None = Field(default=None)
    scored_at: datetime | None = Field(default=None)
    model_version: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


#: PostgreSQL leaves this share of each job_post page free when rows are inserted, so that
#: the row's new version after scoring fits on the same page: with no index on the columns
#: scoring writes (scores, scored_at, model_version), the update is then "HOT" and adds no
#: entry to the table's indexes - two of them trigram indexes over the post's text
#: (migration 0008; measured: ~40 us a post instead of ~140). 40% filled at insert leaves
#: room for nearly every row's scored version (migration 0009: 99.5% of the updates HOT on
#: the demo posts, against 69% at 50%).
JOB_POST_FILLFACTOR = 40


class JobPost(SQLModel, table=True):
    __tablename__ = "job_post"
    __table_args__ = (
        enum_check("status", PostStatus),
        sa.Index("ix_job_post_client_posted", "client_id", "posted_at"),
        # deliberately no index on scored_at (see JOB_POST_FILLFACTOR): the sweep, once a
        # minute, finds unscored posts with a scan of the table
        {"postgresql_with": {"fillfactor": JOB_POST_FILLFACTOR}},
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True, index=True)
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT")
    title: str = Field(max_length=300)
    description: str = Field(sa_type=sa.Text)
    category: str | None = Field(default=None, max_length=64, index=True)
    skills: list[str] | None = json_field()
    budget: float | None = Field(default=None)
    posted_at: datetime = Field(default_factory=utcnow)
    status: str = Field(max_length=16, default=PostStatus.live, index=True)
    #: SHA-256 of the scored content: an unchanged post is not rescored
    content_hash: str = Field(max_length=64)
    #: the detectors' scores, written by every scoring and read whole: text on PostgreSQL
    #: (see base.JSONTextType)
    scores: dict[str, Any] | None = json_field(as_text=True)
    scored_at: datetime | None = Field(default=None)
    model_version: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"
    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        sa.Index("ix_feedback_client_created", "client_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True, index=True)
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT")
    freelancer_ref: str | None = Field(default=None, max_length=64)
    contract_ref: str | None = Field(default=None, max_length=64)
    rating: int
    comment: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    #: probability that the comment + rating is negative about the client
    negative: float | None = Field(default=None)
    scored_at: datetime | None = Field(default=None)
