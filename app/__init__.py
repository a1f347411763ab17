"""The TrustDesk web console: ``create_app`` builds one configured instance."""
from __future__ import annotations

from typing import Any

from flask import Flask

from config import Config

#: every blueprint, a package under app/ exposing ``bp``
BLUEPRINTS = ("auth", "queue", "cases", "clients", "audit", "system", "api", "metrics", "qa",
              "automation", "appeals", "models_admin")


def create_app(config: Config | dict[str, Any] | None = None) -> Flask:
    """Application factory. ``config`` is a Config, or a dict of overrides on Config()."""
    if isinstance(config, Config):
        settings = config.as_flask_config()
    else:
        settings = Config().as_flask_config()
        settings.update(config or {})

    app = Flask(__name__, instance_path=str(settings["INSTANCE_DIR"]))
    app.config.update(settings)
    app.config["TESTING"] = app.config.get("TESTING") or settings["TRUSTDESK_ENV"] == "testing"

    from . import db, security
    from .web import errors
    from .extensions import csrf, htmx, init_limiter, login_manager

    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter = init_limiter(app)
    _init_login(app, login_manager)
    security.init_app(app)
    errors.init_app(app)

    from .web.params import IdConverter, refuse_nul_in_query

    app.url_map.converters["int"] = IdConverter  # before any rule is added
    app.before_request(refuse_nul_in_query)

    import importlib

    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"{__name__}.{name}").bp)
    from .auth.routes import throttle_login

    throttle_login(app, limiter)

    from .cli import register as register_cli

    register_cli(app)
    _init_templates(app)
    from .jobs import ticker

    ticker.init_app(app)  # without Redis: the periodic sweep in the served process
    return app


def _init_login(app: Flask, login_manager) -> None:  # noqa: ANN001
    from flask import redirect, request, url_for

    from .db import get_session
    from .extensions import htmx
    from .services import users

    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(login_id: str):
        return users.load_for_session(get_session(), login_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if htmx:  # a fragment request: make the whole page go to the login form
            return "", 401, {"HX-Redirect": target}
        return redirect(target)


def _init_templates(app: Flask) -> None:
    from models.taxonomy import category_label

    from .security import csrf_token
    from .services.moderation import removal_reason
    from .web.fragments import pure_macro
    from .web.markup import GLOBALS as MARKUP, plural
    from .web.ui import chrome_urls, fixed_url, form_token, id_url

    # in place of Flask-WTF's generate_csrf (CSRFProtect.init_app put it in the globals
    # and in a context processor; a later processor's names win)
    app.jinja_env.globals["csrf_token"] = csrf_token
    template_csrf = {"csrf_token": csrf_token}
    app.context_processor(lambda: template_csrf)
    app.jinja_env.globals["fixed_url"] = fixed_url
    app.jinja_env.globals["chrome_urls"] = chrome_urls
    app.jinja_env.globals["id_url"] = id_url
    app.jinja_env.globals["form_token"] = form_token
    app.jinja_env.globals["pure_macro"] = pure_macro
    app.jinja_env.globals["removal_reason"] = removal_reason
    app.jinja_env.globals.update(MARKUP)
    app.jinja_env.filters["category_label"] = category_label
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["dt"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "—"
