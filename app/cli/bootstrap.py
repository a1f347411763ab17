"""``flask bootstrap``: the first run."""
from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from models import Role

from ..db import session_scope
from ..services import users
from ..services.audit import CLI


@click.command("bootstrap")
@with_appcontext
def bootstrap() -> None:
    """First run: record the shipped models, and create a demo admin when there is no user
    at all (printing its login)."""
    path = Path(current_app.instance_path) / "demo-admin.txt"
    email = current_app.config["DEMO_ADMIN_EMAIL"]
    from ..services import model_registry

    with session_scope() as session:
        model_registry.sync(session, actor=CLI, model_dir=current_app.config.get("MODEL_DIR"))
        if users.count(session) > 0:
            if path.exists():
                click.echo(f"Demo admin login: {path.read_text().strip()}  (from {path})")
            return
        password = secrets.token_urlsafe(12)
        users.create_moderator(session, email=email, password=password, role=Role.admin,
                               actor=CLI)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{email} / {password}\n")
    path.chmod(0o600)
    click.echo(f"Created demo admin. Log in with: {email} / {password}  (saved in {path})")
