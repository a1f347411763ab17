"""Flask extensions, created unbound and initialised in the factory."""
from __future__ import annotations

from flask import Flask, current_app
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()


def init_limiter(app: Flask) -> Limiter:
    """One Limiter per app (its storage and key prefix are per app, e.g. in tests)."""
    limiter = Limiter(key_func=get_remote_address, default_limits=[],
                      key_prefix=app.config["RATELIMIT_KEY_PREFIX"])
    limiter.init_app(app)
    app.extensions["trustdesk_limiter"] = limiter
    return limiter


def get_limiter() -> Limiter:
    return current_app.extensions["trustdesk_limiter"]
