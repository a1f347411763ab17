"""Flask extensions, created unbound and initialised in the factory."""
from __future__ import annotations

from flask import request
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def submitted_email() -> str:
    """Rate-limit key for login attempts against one account, from any address."""
    return "login-email:" + (request.form.get("email") or "").strip().lower()[:254]
