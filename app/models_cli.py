"""``flask models train|evaluate|sync|list``: the classifiers, from the console's side."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .db import session_scope
from .services import model_registry
from .services.audit import CLI

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
