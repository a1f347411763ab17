"""Freelancers who interacted with a job post (the marketplace tells us: applicants and
people who messaged the client), and the notices written to them when the post comes down
for a reason that puts them at risk (see ``app/services/notices.py``)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import enum_check, json_field, utcnow

#: how a freelancer interacted with the post
CONTACT_KINDS = ("applicant", "messaged")


class FreelancerContact(SQLModel, table=True):
    """One freelancer who applied to a post or messaged its client (the marketplace's own
    reference, and an e-mail address if it gave one). Replaced as a set per post."""

    __tablename__ = "freelancer_contact"
    __table_args__ = (
        enum_check("kind", CONTACT_KINDS),
        sa.UniqueConstraint("post_id", "freelancer_ref", name="uq_freelancer_contact_post_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="job_post.id", ondelete="CASCADE")
    freelancer_ref: str = Field(max_length=64)
    email: str | None = Field(default=None, max_length=254)
    kind: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class FreelancerNotice(SQLModel, table=True):
    """A notice to one freelancer about one decision (a removal or a suspension): written
    in the decision's transaction with its ``freelancer.notice`` outbox event, held until
    the decision's undo window has passed, withdrawn by an undo before it is sent. Its
    event is the outbox event of subject ``("notice", id)``."""

    __tablename__ = "freelancer_notice"
    __table_args__ = (
        sa.UniqueConstraint("decision_id", "freelancer_ref", name="uq_freelancer_notice_decision_ref"),
        sa.Index("ix_freelancer_notice_client", "client_id"),
        sa.Index("ix_freelancer_notice_post", "post_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", ondelete="RESTRICT")
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT")
    #: the post the notice is about (a suspension's: the first of the freelancer's posts)
    post_id: int = Field(foreign_key="job_post.id", ondelete="RESTRICT")
    #: every post of this decision the freelancer had interacted with
    post_ids: list[int] = json_field(nullable=False, default=list)
    freelancer_ref: str = Field(max_length=64)
    email: str | None = Field(default=None, max_length=254)
    #: the template: scam, off_platform, account_rental or client_fraud
    reason: str = Field(max_length=32)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    #: not delivered (webhook or e-mail) before this: the decision's undo window
    send_after: datetime
    withdrawn_at: datetime | None = Field(default=None)
    emailed_at: datetime | None = Field(default=None)
