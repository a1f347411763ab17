"""Moderator accounts: creation, authentication, deactivation."""
from __future__ import annotations

import functools
import re

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Moderator, Role, utcnow

from . import Conflict, NotFound, ServiceError
from .audit import Actor, record

_hasher = PasswordHasher()
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12


@functools.cache
def _dummy_hash() -> str:
    """One hash to verify against when the e-mail is unknown, so timing does not reveal
    accounts (made on first use: hashing takes ~0.2 s, which every process start paid)."""
    return _hasher.hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_new_credentials(email: str, password: str, role: str) -> None:
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ServiceError(f"not a valid e-mail address: {email!r}")
    if role not in set(Role):
        raise ServiceError(f"role must be one of {', '.join(Role)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_moderator(
    session: Session, *, email: str, password: str, role: str, actor: Actor
) -> Moderator:
    email = normalise_email(email)
    validate_new_credentials(email, password, role)
    moderator = Moderator(email=email, password_hash=_hasher.hash(password), role=role)
    session.add(moderator)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"a user with e-mail {email} already exists") from exc
    record(session, actor=actor, action="user.create", subject_type="moderator",
           subject_id=moderator.id, after={"email": email, "role": role})
    session.commit()
    return moderator


def authenticate(session: Session, *, email: str, password: str) -> Moderator | None:
    """The active moderator with these credentials (and records the login), or None."""
    moderator = session.exec(
        select(Moderator).where(Moderator.email == normalise_email(email))
    ).first()
    if moderator is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(moderator.password_hash, password) or not moderator.active:
        return None
    if _hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = _hasher.hash(password)
    moderator.last_login_at = utcnow()
    record(session, actor=Actor.of(moderator), action="auth.login",
           subject_type="moderator", subject_id=moderator.id)
    session.commit()
    return moderator


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def deactivate(session: Session, *, email: str, actor: Actor) -> Moderator:
    moderator = get_by_email(session, email)
    if moderator.active:
        moderator.active = False
        moderator.session_version += 1  # ends every open session of this user
        record(session, actor=actor, action="user.deactivate", subject_type="moderator",
               subject_id=moderator.id, before={"active": True}, after={"active": False})
        session.commit()
    return moderator


def log_out(session: Session, *, moderator_id: int, actor: Actor) -> None:
    """End every session of this moderator: a copy of the login cookie (another tab, another
    device, a stolen one) stops working with the logout, for the rest of its lifetime.

    The cookie names ``<id>:<session_version>`` (``load_for_session``); logging out bumps the
    version, so it logs the moderator out on their other devices too (the price of keeping no
    table of sessions). Incremented in SQL, so two logouts at once both count."""
    session.execute(sa.update(Moderator).where(Moderator.id == moderator_id)
                    .values(session_version=Moderator.session_version + 1))
    record(session, actor=actor, action="auth.logout", subject_type="moderator",
           subject_id=moderator_id)
    session.commit()


def get_by_email(session: Session, email: str) -> Moderator:
    moderator = session.exec(
        select(Moderator).where(Moderator.email == normalise_email(email))
    ).first()
    if moderator is None:
        raise NotFound(f"no user with e-mail {normalise_email(email)}")
    return moderator


def load_for_session(session: Session, login_id: str) -> Moderator | None:
    """Flask-Login's user loader: ``"<id>:<session_version>"`` of an active user."""
    try:
        raw_id, raw_version = login_id.split(":", 1)
        user_id, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    try:
        moderator = session.get(Moderator, user_id)
    except sa.exc.DBAPIError as exc:
        # the request's first statement, on a pooled connection that died since its last
        # use (app.db pings only those idle a while): the pool has dropped it; once more,
        # on a new one
        if not exc.connection_invalidated:
            raise
        session.rollback()
        moderator = session.get(Moderator, user_id)
    if moderator is None or not moderator.active or moderator.session_version != version:
        return None
    return moderator


def list_moderators(session: Session) -> list[Moderator]:
    return list(session.exec(select(Moderator).order_by(Moderator.email)))


def count(session: Session) -> int:
    return len(session.exec(select(Moderator.id).limit(1)).all())
