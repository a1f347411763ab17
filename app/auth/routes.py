"""Login and logout. Failed logins are throttled per (account, address) and per address."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from ..db import get_session
from ..security import public
from ..services import users
from ..web.ui import actor
from . import bp
from .forms import LoginForm


def _login_failed(_response) -> bool:  # noqa: ANN001
    """Only failed attempts count towards the throttle."""
    return bool(g.get("login_failed"))


def _pair_limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_FAILURE_LIMIT"]


def _account_at_address() -> str:
    """Throttle key for attempts against one account from one address. Not the account
    alone: an attacker guessing from their address must not lock the owner out of theirs."""
    email = users.normalise_email(request.form.get("email") or "")[:254]
    return f"login-pair:{get_remote_address()}:{email}"


def throttle_login(app: Flask, limiter: Limiter) -> None:
    """Failed logins are limited per (account, address) pair (``LOGIN_FAILURE_LIMIT``) and
    per address, whatever the accounts (``LOGIN_ADDRESS_FAILURE_LIMIT``, higher: people
    behind one office address share it). In the limiter's storage: Redis when there is one,
    so every worker process counts the same failures."""
    view = app.view_functions["auth.login"]
    for limit, key_func in ((_pair_limit, _account_at_address), (_address_limit, None)):
        view = limiter.limit(limit, methods=["POST"], deduct_when=_login_failed,
                             key_func=key_func)(view)
    app.view_functions["auth.login"] = view


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("queue.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("queue.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        moderator = users.authenticate(get_session(), email=form.email.data,
                                       password=form.password.data)
        if moderator is not None:
            login_user(moderator)
            return redirect(_safe_next(request.args.get("next")), code=303)
        g.login_failed = True
        flash("Wrong e-mail or password, or the account is deactivated.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends the session server-side too (``users.log_out``): a copied cookie stops working."""
    users.log_out(get_session(), moderator_id=current_user.id, actor=actor())
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/")
def home():
    # the queue, with any filters a link to "/" carried (``?category=writing``)
    return redirect(url_for("queue.index", **request.args.to_dict(flat=False)))
