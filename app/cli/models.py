"""``flask models ...``: train candidates, promote and roll back, evaluate, sync, rescore, list."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import session_scope
from ..jobs import enqueue
from ..services import candidates, model_registry, scoring
from ..services.audit import CLI, record

models_cli = AppGroup("models", help="Train, evaluate and list the detectors' models.")


def _model_dir():
    return current_app.config.get("MODEL_DIR")


@models_cli.command("train")
@click.option("--seed", type=int, default=None, help="Random seed (default: the classifiers').")
@click.option("--profile", type=click.Choice(["full", "fast"]), default=None,
              help="full: every row (default: MODEL_TRAIN_PROFILE); fast: a small subset.")
def train(seed: int | None, profile: str | None) -> None:
    """Train a CANDIDATE on the shipped data plus the moderators' labels (deterministic for
    the same rows and seed), compare it with the active models; it is never activated:
    `flask models promote VERSION` does that, through the gate."""
    if profile:
        current_app.config["MODEL_TRAIN_PROFILE"] = profile
    with session_scope() as session:
        try:
            row = candidates.request_training(session, actor=CLI, queue=False)
        except candidates.CandidateError as exc:
            raise click.ClickException(str(exc)) from exc
        total = (row.progress or {}).get("total", 1)
        with click.progressbar(length=total, label="training", file=sys.stderr) as bar:
            candidates.run_training(session, row.id, seed=seed, echo=lambda _what: bar.update(1))
        _print_comparison(candidates.get(session, row.id))


def _print_comparison(row) -> None:
    comparison = row.comparison or {}
    click.echo(f"candidate {row.id}: version {row.version} on {comparison.get('n_labels', 0)} labels "
               f"in {comparison.get('seconds') or 0:.0f} s (not active)")
    shipped = comparison.get("shipped", {})
    for key in sorted(shipped.get("candidate", {})):
        a, c = shipped.get("active", {}).get(key, {}), shipped["candidate"][key]
        click.echo(f"  {key:32s} precision {_f(a.get('precision'))} -> {_f(c.get('precision'))}"
                   f"  recall {_f(a.get('recall'))} -> {_f(c.get('recall'))}")
    failures = comparison.get("gate", {}).get("failures", [])
    click.echo("gate: passes" if not failures else "gate: refuses: " + "; ".join(failures))


def _f(value) -> str:
    return "  -  " if value is None else f"{value:.3f}"


@models_cli.command("candidates")
def candidates_() -> None:
    """The candidates and earlier versions (the active one marked)."""
    with session_scope() as session:
        view = candidates.overview(session)
    for row in view["candidates"]:
        mark = "*" if row.versions == view["active"] else " "
        gate = (row.comparison or {}).get("gate", {}).get("failures")
        click.echo(f"{mark} {row.id}\t{row.version or '-'}\t{row.status}\t"
                   + ("gate passes" if gate == [] else f"gate: {len(gate)} failures" if gate else ""))


@models_cli.command("promote")
@click.argument("version")
@click.option("--override", "override_reason", default=None,
              help="Promote although the gate refuses, for this reason (audited).")
def promote(version: str, override_reason: str | None) -> None:
    """Make a trained candidate active, if the gate passes (or --override REASON); queues
    the re-scoring of live posts and clients."""
    with session_scope() as session:
        try:
            row = candidates.by_version(session, version)
            out = candidates.promote(session, row.id, actor=CLI, override_reason=override_reason)
        except candidates.CandidateError as exc:
            raise click.ClickException(str(exc)) from exc
    extra = " (gate overridden)" if out["gate_failures"] else ""
    click.echo(f"{version} is active{extra}; re-scoring queued")


@models_cli.command("rollback")
@click.argument("version")
def rollback(version: str) -> None:
    """Re-activate an earlier version (one that was active before); queues the re-scoring."""
    with session_scope() as session:
        try:
            row = candidates.by_version(session, version)
            candidates.rollback(session, row.id, actor=CLI)
        except candidates.CandidateError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{version} is active again; re-scoring queued")


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
