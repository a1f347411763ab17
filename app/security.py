"""Access rules applied to every request, security headers, and route markers.

Every route requires a logged-in moderator unless it is marked ``@public`` (login,
static files) or ``@token_auth`` (the marketplace API, which checks bearer tokens
itself). Analysts are read-only: they may not send state-changing requests at all.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, abort, current_app, g, request
from flask_wtf.csrf import generate_csrf
from flask_login import current_user

from models import Role

F = TypeVar("F", bound=Callable)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: endpoints every logged-in role may POST to
ANY_ROLE_MAY_POST = frozenset({"auth.logout"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def public(view: F) -> F:
    """Reachable without logging in."""
    view._public = True  # type: ignore[attr-defined]
    return view


def token_auth(view: F) -> F:
    """Authenticated by an API bearer token instead of a login session (and no CSRF)."""
    view._token_auth = True  # type: ignore[attr-defined]
    return view


def role_required(*roles: str) -> Callable[[F], F]:
    """Only moderators with one of ``roles`` may use the view (403 otherwise)."""
    unknown = set(roles) - set(Role)
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped._roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def _enforce_access():
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None  # 404/405 or a static file
    view = current_app.view_functions[endpoint]
    if getattr(view, "_public", False) or getattr(view, "_token_auth", False):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if (
        current_user.role == Role.analyst
        and request.method not in SAFE_METHODS
        and endpoint not in ANY_ROLE_MAY_POST
    ):
        abort(403, description="Analysts have read-only access.")
    return None


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_enforce_access)
    app.after_request(_security_headers)


def csrf_token() -> str:
    """The request's CSRF token, for templates (``csrf_token()``, in place of Flask-WTF's
    ``generate_csrf``). The same value: Flask-WTF keeps one signed token per request in
    ``g`` and returns it on every call, but looks its four settings up through the app
    proxy each time; a case page has eight forms. Here it asks once per request."""
    token = g.get(_TEMPLATE_TOKEN)
    if token is None:
        token = generate_csrf()
        setattr(g, _TEMPLATE_TOKEN, token)
    return token


_TEMPLATE_TOKEN = "_trustdesk_csrf_token"
