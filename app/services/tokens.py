"""API tokens for the marketplace: shown once, stored as a SHA-256 hash only."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import ApiToken, utcnow

from . import Conflict, NotFound, ServiceError
from .audit import Actor, record

TOKEN_PREFIX = "td_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str, actor: Actor) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the token text (the only time it exists)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ServiceError("token name must be 1-100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=hash_token(token), prefix=token[:10])
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"a token named {name!r} already exists") from exc
    record(session, actor=actor, action="token.create", subject_type="api_token",
           subject_id=row.id, after={"name": name, "prefix": row.prefix})
    session.commit()
    return row, token


def revoke_token(session: Session, *, name: str, actor: Actor) -> ApiToken:
    row = session.exec(select(ApiToken).where(ApiToken.name == name.strip())).first()
    if row is None:
        raise NotFound(f"no token named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record(session, actor=actor, action="token.revoke", subject_type="api_token",
               subject_id=row.id, after={"name": row.name})
        session.commit()
    return row


def verify_token(session: Session, token: str) -> ApiToken | None:
    """The live token matching ``token`` (and stamps its use), or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(token)
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now  # at most once a minute: not a write on every API call
        session.commit()
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(ApiToken.name)))
