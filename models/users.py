"""Moderators (people who log in) and API tokens (machines that call the API)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .base import enum_check, utcnow
from .enums import Role


class Moderator(SQLModel, table=True):
    __tablename__ = "moderator"
    __table_args__ = (enum_check("role", Role),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16, default=Role.moderator)
    active: bool = Field(default=True)
    #: bumped on deactivation or password change: invalidates existing sessions
    session_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = Field(default=None)

    # --- Flask-Login protocol (kept here so the model needs no Flask import) ---
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    #: SHA-256 of the token; the token itself is shown once and never stored
    token_hash: str = Field(max_length=64, unique=True, index=True)
    #: first characters of the token, to recognise it in listings
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
