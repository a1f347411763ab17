"""``flask models train|evaluate|sync|list``: the classifiers, from the console's side."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import jobs
from .db import session_scope
from .services import model_registry, scoring
from .services.audit import CLI, record

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
        stale = len(scoring.stale_posts(session, scoring.active_post_version()))
    if stale:
        click.echo(f"{stale} posts carry scores of other models: `flask models rescore` "
                   "scores them again")


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
@click.option("--dry-run", is_flag=True, help="Only count the posts that would be rescored.")
def rescore(batch: int, dry_run: bool) -> None:
    """Score again every post the active models have not scored (e.g. after `flask models
    train`): batch jobs for the worker, or run here when no Redis is configured. Removed
    posts are left alone. Idempotent: a post already scored by the active models is
    skipped, also by a job queued twice."""
    version = scoring.active_post_version()
    with session_scope() as session:
        posts = scoring.stale_posts(session, version)
        if not dry_run and posts:
            record(session, actor=CLI, action="posts.rescore", subject_type="model_version",
                   subject_id=version, after={"posts": len(posts), "batch": batch})
            session.commit()
    if dry_run or not posts:
        click.echo(f"{len(posts)} posts to rescore with {version}")
        return
    outcomes: dict[str, int] = {}
    with click.progressbar(length=len(posts), label=f"rescoring with {version}") as bar:
        for start in range(0, len(posts), batch):
            chunk = posts[start:start + batch]
            outcome = jobs.dispatch(jobs.score_posts_spec(chunk, marker=f"rescore-{version}"))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            bar.update(len(chunk))
    click.echo(f"{len(posts)} posts in {sum(outcomes.values())} jobs: "
               + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())))


@models_cli.command("list")
def list_() -> None:
    """The active model version of each detector."""
    with session_scope() as session:
        rows = model_registry.active_versions(session)
    if not rows:
        click.echo("no models recorded: run `flask models sync`")
    for row in rows:
        click.echo(f"{row.name}\t{row.version}")


def register(app: Flask) -> None:
    app.cli.add_command(models_cli)
