"""``flask worker``, ``flask sweep``, ``flask jobs failed|requeue``, ``flask followups run``."""
from __future__ import annotations

import json
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..jobs import enqueue, failed

jobs_cli = AppGroup("jobs", help="Inspect and retry background jobs (RQ).")
followups_cli = AppGroup("followups", help="Follow-up re-checks of contacted clients.")


def _require_redis() -> None:
    if not enqueue.redis_url():
        raise click.ClickException("REDIS_URL is not set: jobs run inline, there is no queue")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--name", help="Worker name (default: generated).")
@with_appcontext
def worker(burst: bool, name: str | None) -> None:
    """Run an RQ worker (with the scheduler) inside the app, models loaded once."""
    _require_redis()
    from ..jobs.worker import AppWorker

    w = AppWorker(enqueue.all_queues(), connection=enqueue.get_connection(), name=name,
                  app=current_app._get_current_object())
    w.work(burst=burst, with_scheduler=True, logging_level="INFO")


@click.command("sweep")
@click.option("--delay", type=click.IntRange(min=0), default=None, metavar="SECONDS",
              help="Only what was stored at least this long ago (default: SWEEP_DELAY_SECONDS, "
                   "which leaves work in flight to its own job); 0: everything not done yet, "
                   "e.g. after an interrupted import.")
@with_appcontext
def sweep(delay: int | None) -> None:
    """Queue (or, without Redis, run) everything stored but not yet done."""
    from ..db import session_scope
    from ..services import sweep as sweep_service

    with session_scope() as session:
        report = sweep_service.run(session, delay=delay, force_reconcile=True)
    click.echo(json.dumps(report, indent=2, default=str))


@jobs_cli.command("failed")
def jobs_failed() -> None:
    """List failed jobs, newest first."""
    _require_redis()
    rows = failed.failed_jobs()
    if not rows:
        click.echo("no failed jobs")
    for r in rows:
        ended = r["ended_at"].isoformat(timespec="seconds") if r["ended_at"] else "?"
        click.echo(f"{r['id']}\t{r['queue']}\t{ended}\t{r['func']}\t{r['error']}")


@jobs_cli.command("requeue")
@click.argument("job_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Requeue every failed job.")
def jobs_requeue(job_ids: tuple[str, ...], all_: bool) -> None:
    """Put failed jobs back on their queues."""
    _require_redis()
    if all_:
        job_ids = tuple(r["id"] for r in failed.failed_jobs())
    if not job_ids:
        raise click.UsageError("name JOB_IDS or use --all")
    missing = [job_id for job_id in job_ids if not failed.requeue(job_id)]
    click.echo(f"requeued {len(job_ids) - len(missing)}")
    if missing:
        raise click.ClickException(f"not in a failed registry: {', '.join(missing)}")


@followups_cli.command("run")
@click.option("--now", "now_text", help="Pretend it is this time (ISO 8601 with timezone).")
def followups_run(now_text: str | None) -> None:
    """Re-check every contacted client whose follow-up window has ended."""
    from models import utcnow

    from ..db import session_scope
    from ..services import followups

    now = utcnow()
    if now_text:
        now = datetime.fromisoformat(now_text)
        if now.tzinfo is None:
            raise click.BadParameter("needs a timezone, e.g. 2026-12-01T00:00:00+00:00")
    with session_scope() as session:
        due = followups.due_ids(session, now)
        for outreach_id in due:
            click.echo(f"outreach {outreach_id}: {followups.recheck(session, outreach_id, now=now)}")
    if not due:
        click.echo("no follow-ups due")
