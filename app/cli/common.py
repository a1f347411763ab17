"""What the command modules share."""
from __future__ import annotations

import click

from ..services import ServiceError


def fail(exc: ServiceError) -> None:
    """A service's refusal, as a command's error (exit code 1, the message on stderr)."""
    raise click.ClickException(str(exc))
