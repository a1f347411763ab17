"""``flask users create|list|deactivate``: moderator accounts."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from models import Role

from ..db import session_scope
from ..services import ServiceError, users
from ..services.audit import CLI
from .common import fail, run_service

users_cli = AppGroup("users", help="Manage moderator accounts.")


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
            fail(exc)
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
    run_service(users.deactivate, email=email, actor=CLI)
    click.echo(f"deactivated {users.normalise_email(email)}")
