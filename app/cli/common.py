"""What the command modules share."""
from __future__ import annotations

import click

from ..db import session_scope
from ..services import ServiceError


def fail(exc: ServiceError) -> None:
    """A service's refusal, as a command's error (exit code 1, the message on stderr)."""
    raise click.ClickException(str(exc))


def run_service(use_case, /, **kwargs):
    """Call one service use case in its own session (the service commits); a refusal becomes the
    command's error. Returns what the service returned."""
    with session_scope() as session:
        try:
            return use_case(session, **kwargs)
        except ServiceError as exc:
            fail(exc)
