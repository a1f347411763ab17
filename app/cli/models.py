"""``flask models train|evaluate|sync|list``: the classifiers, from the console's side."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import session_scope
from ..jobs import enqueue
from ..services import model_registry, scoring
from ..services.audit import CLI, record

models_cli = AppGroup("models", help="Train, evaluate and list the detectors' models.")


def _model_dir():
    return current_app.config.get("MODEL_DIR")


@models_cli.command("train")
@click.option("--seed", type=int, default=None, help="Random seed (default: the classifiers').")
def train(seed: int | None) -> None:
    """Train every detector (deterministic), make the new version active, record it."""
    from classifiers.training import train_all

    kwargs = {"out_dir": _model_dir(), "progress": True}
    if seed is not None:
        kwargs["seed"] = seed
    result = train_all(**kwargs)
    with session_scope() as session:
        model_registry.sync(session, actor=CLI, model_dir=_model_dir())
    click.echo(f"trained version {result['version']} in {result['seconds']:.0f} s; now active")
    with session_scope() as session:
        posts = len(scoring.stale_posts(session, scoring.active_post_version()))
        clients = len(scoring.stale_clients(session, scoring.active_client_version()))
    if posts or clients:
        click.echo(f"{posts} posts and {clients} clients carry scores of other models: "
                   "`flask models rescore` scores them again")


@models_cli.command("evaluate")
def evaluate() -> None:
    """Evaluate the active models on the held-out data (prints the report)."""
    from classifiers.cli import main as classifiers_main

    args = ["evaluate"] + (["--model-dir", str(_model_dir())] if _model_dir() else [])
    raise SystemExit(classifiers_main(args))


@models_cli.command("sync")
def sync() -> None:
    """Record the model versions on disk in the database (which are active)."""
    with session_scope() as session:
        rows = model_registry.sync(session, actor=CLI, model_dir=_model_dir())
    click.echo(f"{len(rows)} model versions recorded")


@models_cli.command("rescore")
@click.option("--batch", type=click.IntRange(1, 5000), default=500, show_default=True,
              help="Posts per scoring job.")
@click.option("--dry-run", is_flag=True, help="Only count what would be rescored.")
def rescore(batch: int, dry_run: bool) -> None:
    """Score again every post and client the active models have not scored (e.g. after
    `flask models train`): jobs for the worker, or run here when no Redis is configured.
    Removed posts are left alone. Idempotent: what the active models already scored is
    skipped, also by a job queued twice."""
    post_version = scoring.active_post_version()
    client_version = scoring.active_client_version()
    with session_scope() as session:
        posts = scoring.stale_posts(session, post_version)
        clients = scoring.stale_clients(session, client_version)
        counts = {"posts": len(posts), "clients": len(clients)}
        if not dry_run and (posts or clients):
            record(session, actor=CLI, action="models.rescore", subject_type="model_version",
                   subject_id="all", after={**counts, "batch": batch,
                                            "posts_version": post_version,
                                            "clients_version": client_version})
            session.commit()
    what = f"{len(posts)} posts and {len(clients)} clients"
    if dry_run or not (posts or clients):
        click.echo(f"{what} to rescore (posts: {post_version}; clients: {client_version})")
        return
    specs = [enqueue.score_posts_spec(posts[i:i + batch], marker=f"rescore-{post_version}")
             for i in range(0, len(posts), batch)]
    specs += [enqueue.score_client_spec(client_id, f"rescore-{client_version}")
              for client_id in clients]
    outcomes: dict[str, int] = {}
    with click.progressbar(specs, label="rescoring") as bar:
        for spec in bar:
            outcome = enqueue.dispatch(spec)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    click.echo(f"{what} in {len(specs)} jobs: "
               + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())))


@models_cli.command("list")
def list_() -> None:
    """The active model version of each detector."""
    with session_scope() as session:
        rows = model_registry.active_versions(session)
    if not rows:
        click.echo("no models recorded: run `flask models sync`")
    for row in rows:
        click.echo(f"{row.name}\t{row.version}")
