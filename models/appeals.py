"""Appeals against moderation decisions: one per decision, decided (uphold or overturn) by
someone other than the original decider. Its own table: decisions are never changed (an
overturn's reversal is a decision of its own, named here)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import enum_check, json_field, utcnow


class AppealStatus(StrEnum):
    pending = "pending"          # waiting in the appeal queue
    upheld = "upheld"            # the decision stands
    overturned = "overturned"    # the decision was reversed


class AppealSource(StrEnum):
    api = "api"                  # forwarded by the marketplace (POST /api/v1/appeals)
    console = "console"          # entered by a moderator (an appeal that came by e-mail)


PENDING = sa.text("status = 'pending'")


class Appeal(SQLModel, table=True):
    __tablename__ = "appeal"
    __table_args__ = (
        enum_check("status", AppealStatus),
        enum_check("source", AppealSource),
        # the appeal queue: pending appeals, oldest first
        sa.Index("ix_appeal_pending", "created_at", "id", sqlite_where=PENDING,
                 postgresql_where=PENDING),
        sa.Index("ix_appeal_client", "client_id"),
        sa.Index("ix_appeal_decided", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: the decision contested: one appeal per decision (the database enforces it)
    decision_id: int = Field(foreign_key="decision.id", ondelete="RESTRICT", unique=True)
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT")
    post_id: int | None = Field(default=None, foreign_key="job_post.id", ondelete="RESTRICT")
    #: who appeals, as the marketplace names them (the client's external id)
    appellant: str = Field(max_length=200)
    text: str = Field(sa_type=sa.Text)
    source: str = Field(max_length=16, default=AppealSource.api)
    entered_by: int | None = Field(default=None, foreign_key="moderator.id", ondelete="RESTRICT")
    status: str = Field(max_length=16, default=AppealStatus.pending)
    #: optimistic locking: every change increments it; a decision names the version it read
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = Field(default=None)
    decided_by: int | None = Field(default=None, foreign_key="moderator.id", ondelete="RESTRICT")
    outcome_reason: str = Field(default="", sa_type=sa.Text)
    #: what an overturn changed (the reversal's decisions, the posts reinstated, the
    #: category restored), so that its undo puts exactly that back
    reversal: dict[str, Any] | None = json_field()
