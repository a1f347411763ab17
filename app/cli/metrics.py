"""``flask metrics rebuild|check``: the dashboard's pre-aggregated counts."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import session_scope

metrics_cli = AppGroup("metrics", help="The dashboard's pre-aggregated counts (metrics_rollup).")


@metrics_cli.command("rebuild")
def metrics_rebuild() -> None:
    """Recount every figure from the raw rows (run once after upgrading a database that
    already holds flags and decisions; safe while the console runs)."""
    from ..services import rollups

    with session_scope() as session:
        n = rollups.rebuild(session)
    click.echo(f"rebuilt {n} counts")


@metrics_cli.command("check")
@click.option("--repair", is_flag=True, help="Add the differences found to the stored counts.")
def metrics_check(repair: bool) -> None:
    """Compare the stored counts with a recount from the raw rows (all of them); exits 1
    when they differ (and were not repaired)."""
    from ..services import rollups

    with session_scope() as session:
        delta = rollups.difference(session)
        for key, n in sorted(delta.items())[:20]:
            click.echo(f"{'/'.join(map(str, key))}: {n:+d}")
        if delta and repair:
            rollups.add(session, delta)
            session.commit()
    click.echo(f"{len(delta)} counts differ" + (" (repaired)" if delta and repair else ""))
    if delta and not repair:
        raise SystemExit(1)
