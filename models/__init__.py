"""TrustDesk's tables (SQLModel). Import everything from here."""
from sqlmodel import SQLModel

from .appeals import Appeal, AppealSource, AppealStatus
from .audit import AuditEvent, AuditLogImmutable
from .base import utcnow
from .enums import (
    ClientStatus,
    DecisionAction,
    FlagReason,
    FlagStatus,
    OutreachOutcome,
    PolicyType,
    PostStatus,
    Role,
    SubjectType,
)
from .flag_search import FlagSearch
from .lease import Lease
from .marketplace import Client, Feedback, JobPost
from .metrics import MetricsRollup
from .ml import ModelCandidate, ModelVersion, ShadowScore
from .moderation import Decision, DecisionImmutable, Flag, OutboxEvent, Outreach
from .qa import QaLabel, QaReview, QaScan, QaStatus
from .similarity import PostSimilarityKey
from .users import ApiToken, Moderator
from .automation import AutomationTier, HoldOutcome, PostHold, Tier
from .notices import CONTACT_KINDS, FreelancerContact, FreelancerNotice

metadata = SQLModel.metadata

__all__ = [
    "ApiToken", "AuditEvent", "AuditLogImmutable", "Client", "ClientStatus", "Decision",
    "DecisionImmutable",
    "DecisionAction", "Feedback", "Flag", "FlagReason", "FlagSearch", "FlagStatus", "JobPost", "Lease", "ModelVersion",
    "Moderator", "OutboxEvent", "Outreach", "OutreachOutcome", "PolicyType", "PostSimilarityKey", "PostStatus", "QaLabel",
    "QaReview", "QaScan", "QaStatus", "Role",
    "SQLModel", "SubjectType", "metadata", "utcnow",
    "MetricsRollup",
    "AutomationTier", "HoldOutcome", "PostHold", "Tier",
    "Appeal", "AppealSource", "AppealStatus",
    "CONTACT_KINDS", "FreelancerContact", "FreelancerNotice",
    "ModelCandidate", "ShadowScore",
]
