"""``flask labels export [--since DATE] FILE``: the training labels as JSON lines."""
from __future__ import annotations

import json
from datetime import timezone

import click
from flask.cli import AppGroup

from ..db import session_scope
from ..services import labels

labels_cli = AppGroup("labels", help="The training labels derived from decisions.")


@labels_cli.command("export")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only labels decided on or after this day (YYYY-MM-DD, UTC).")
@click.argument("out", metavar="FILE", type=click.File("w", encoding="utf-8"))
def export(since, out) -> None:  # noqa: ANN001
    """Write the labels that stand (see docs/labels.md) to FILE, one JSON object a line
    (``-``: standard output)."""
    since = since.replace(tzinfo=timezone.utc) if since is not None else None
    with session_scope() as session:
        rows = labels.current(session, since=since)
        session.rollback()
    for row in rows:
        out.write(json.dumps(row.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
    if out.name != "<stdout>":
        click.echo(f"{len(rows)} labels written to {out.name}", err=True)
