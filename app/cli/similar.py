"""``flask similar index``: the similar-posts index."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..db import session_scope

similar_cli = AppGroup("similar", help="The similar-posts index (near duplicates, shared contacts).")


@similar_cli.command("index")
@click.option("--progress/--no-progress", default=True, show_default=True)
def similar_index(progress: bool) -> None:
    """Index the posts that have no similarity keys yet (posts are indexed when scored;
    run this once after upgrading a database that already holds posts)."""
    from tqdm import tqdm

    from ..services import similar

    with session_scope() as session, tqdm(unit=" posts", desc="index", file=sys.stderr,
                                          disable=not progress) as bar:
        n = similar.backfill(session, progress=bar.update)
    click.echo(f"indexed {n} posts")
