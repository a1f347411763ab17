"""``flask tokens create|revoke|list``: marketplace API tokens."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import session_scope
from ..services import tokens
from ..services.audit import CLI
from .common import run_service

tokens_cli = AppGroup("tokens", help="Manage marketplace API tokens.")


@tokens_cli.command("create")
@click.argument("name")
def tokens_create(name: str) -> None:
    """Create an API token; the token is the last line printed (shown only once)."""
    _row, token = run_service(tokens.create_token, name=name, actor=CLI)
    click.echo(f"created API token {name!r}; store it now, it is not shown again:")
    click.echo(token)


@tokens_cli.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke an API token by name."""
    run_service(tokens.revoke_token, name=name, actor=CLI)
    click.echo(f"revoked {name!r}")


@tokens_cli.command("list")
def tokens_list() -> None:
    """List API tokens (names and prefixes; the tokens themselves are not stored)."""
    with session_scope() as session:
        for t in tokens.list_tokens(session):
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
            click.echo(f"{t.name}\t{t.prefix}…\t{state}")
