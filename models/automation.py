"""Automation tiers per detector reason (and policy type), unlocked by measured precision,
and the automatic holds they allow (issue 24, docs/automation.md)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import enum_check, utcnow


class Tier(StrEnum):
    """How far the product acts on a reason's flags by itself, least to most."""
    shadow = "shadow"    # scored, not queued
    review = "review"    # queued for a human (the default)
    hold = "hold"        # the post is hidden at once and queued first for a human


class HoldOutcome(StrEnum):
    held = "held"
    released = "released"
    removed = "removed"


class AutomationTier(SQLModel, table=True):
    """One tier key (``scam``, ``miscategorised`` or ``policy:<type>``): the highest tier an
    admin allows, the tier in force, and the measurement that put it there."""

    __tablename__ = "automation_tier"
    __table_args__ = (enum_check("max_tier", Tier), enum_check("tier", Tier))

    key: str = Field(primary_key=True, max_length=48)
    max_tier: str = Field(max_length=16, default=Tier.review)
    tier: str = Field(max_length=16, default=Tier.review)
    #: the last measurement (decisions in the rolling window, upheld, Wilson 95 % bounds)
    decisions: int = Field(default=0)
    upheld: int = Field(default=0)
    precision: float | None = Field(default=None)
    lower_bound: float | None = Field(default=None)
    measured_at: datetime | None = Field(default=None)
    changed_at: datetime | None = Field(default=None)
    #: why the tier last changed on its own (shown on the tiers page), and when
    notice: str | None = Field(default=None, sa_type=sa.Text)
    notice_at: datetime | None = Field(default=None)
    #: optimistic lock of the admin's form
    version: int = Field(default=1)


class PostHold(SQLModel, table=True):
    """A post hidden automatically under a ``hold`` tier, with the measured precision that
    allowed it, until a human releases (dismisses) or removes it."""

    __tablename__ = "post_hold"
    __table_args__ = (
        enum_check("outcome", HoldOutcome),
        sa.Index("ix_post_hold_post", "post_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="job_post.id", ondelete="RESTRICT")
    flag_id: int = Field(foreign_key="flag.id", ondelete="RESTRICT")
    tier_key: str = Field(max_length=48)
    content_hash: str = Field(max_length=64)
    decisions: int
    upheld: int
    precision: float
    lower_bound: float
    held_at: datetime = Field(default_factory=utcnow)
    outcome: str = Field(max_length=16, default=HoldOutcome.held)
    settled_at: datetime | None = Field(default=None)
    decision_id: int | None = Field(default=None, foreign_key="decision.id", ondelete="RESTRICT")
