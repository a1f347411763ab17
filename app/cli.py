"""``flask`` commands: users, tokens, and first-run bootstrap."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from models import Role

from .db import session_scope
from .services import ServiceError, tokens, users
from .services.audit import CLI

users_cli = AppGroup("users", help="Manage moderator accounts.")
tokens_cli = AppGroup("tokens", help="Manage marketplace API tokens.")
similar_cli = AppGroup("similar", help="The similar-posts index (near duplicates, shared contacts).")


def _fail(exc: ServiceError) -> None:
    raise click.ClickException(str(exc))


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.moderator.value,
              show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from stdin.")
def users_create(email: str, role: str, password_stdin: bool) -> None:
    """Create a moderator account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        try:
            moderator = users.create_moderator(session, email=email, password=password,
                                               role=role, actor=CLI)
        except ServiceError as exc:
            _fail(exc)
        click.echo(f"created {moderator.role} {moderator.email}")


@users_cli.command("list")
def users_list() -> None:
    """List moderator accounts."""
    with session_scope() as session:
        rows = users.list_moderators(session)
    if not rows:
        click.echo("no users")
    for m in rows:
        last = m.last_login_at.isoformat(timespec="seconds") if m.last_login_at else "never"
        state = "active" if m.active else "deactivated"
        click.echo(f"{m.email}\t{m.role}\t{state}\tlast login {last}")


@users_cli.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Deactivate an account (ends its sessions; the account and its history stay)."""
    with session_scope() as session:
        try:
            users.deactivate(session, email=email, actor=CLI)
        except ServiceError as exc:
            _fail(exc)
    click.echo(f"deactivated {users.normalise_email(email)}")


@tokens_cli.command("create")
@click.argument("name")
def tokens_create(name: str) -> None:
    """Create an API token; the token is the last line printed (shown only once)."""
    with session_scope() as session:
        try:
            _row, token = tokens.create_token(session, name=name, actor=CLI)
        except ServiceError as exc:
            _fail(exc)
    click.echo(f"created API token {name!r}; store it now, it is not shown again:")
    click.echo(token)


@tokens_cli.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke an API token by name."""
    with session_scope() as session:
        try:
            tokens.revoke_token(session, name=name, actor=CLI)
        except ServiceError as exc:
            _fail(exc)
    click.echo(f"revoked {name!r}")


@tokens_cli.command("list")
def tokens_list() -> None:
    """List API tokens (names and prefixes; the tokens themselves are not stored)."""
    with session_scope() as session:
        for t in tokens.list_tokens(session):
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
            click.echo(f"{t.name}\t{t.prefix}…\t{state}")


@click.command("bootstrap")
@with_appcontext
def bootstrap() -> None:
    """First run: record the shipped models, and create a demo admin when there is no user
    at all (printing its login)."""
    path = Path(current_app.instance_path) / "demo-admin.txt"
    email = current_app.config["DEMO_ADMIN_EMAIL"]
    from .services import model_registry

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


@similar_cli.command("index")
@click.option("--progress/--no-progress", default=True, show_default=True)
def similar_index(progress: bool) -> None:
    """Index the posts that have no similarity keys yet (posts are indexed when scored;
    run this once after upgrading a database that already holds posts)."""
    from tqdm import tqdm

    from .services import similar

    with session_scope() as session, tqdm(unit=" posts", desc="index", file=sys.stderr,
                                          disable=not progress) as bar:
        n = similar.backfill(session, progress=bar.update)
    click.echo(f"indexed {n} posts")


def register(app: Flask) -> None:
    from . import ingest_cli, models_cli, worker_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(similar_cli)
    app.cli.add_command(bootstrap)
    ingest_cli.register(app)
    worker_cli.register(app)
    models_cli.register(app)
