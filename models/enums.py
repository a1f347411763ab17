"""Closed vocabularies shared by every layer (stored as plain strings in the database)."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    moderator = "moderator"
    analyst = "analyst"


class ClientStatus(StrEnum):
    active = "active"
    contacted = "contacted"
    suspended = "suspended"


class PostStatus(StrEnum):
    live = "live"
    under_review = "under_review"
    removed = "removed"


class SubjectType(StrEnum):
    post = "post"
    client = "client"


class FlagReason(StrEnum):
    scam = "scam"
    miscategorised = "miscategorised"
    policy = "policy"
    negative_client = "negative_client"


class FlagStatus(StrEnum):
    open = "open"
    resolved = "resolved"
    dismissed = "dismissed"


class PolicyType(StrEnum):
    off_platform = "off_platform"
    unpaid_work = "unpaid_work"
    academic_dishonesty = "academic_dishonesty"
    fake_reviews = "fake_reviews"
    account_rental = "account_rental"


class OutreachOutcome(StrEnum):
    pending = "pending"
    improved = "improved"
    suspended = "suspended"


class DecisionAction(StrEnum):
    dismiss = "dismiss"
    recategorise = "recategorise"
    remove = "remove"
    escalate = "escalate"
    note = "note"
    contact = "contact"
    suspend = "suspend"
    reinstate = "reinstate"
