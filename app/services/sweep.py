"""The safety net: find work that was stored but never done, and queue it again.

Covers a Redis outage during ingest, a worker killed mid-job, a job that exhausted its
retries, and scheduled follow-ups whose job was lost. Everything it queues is idempotent
and uses the same deterministic job ids as the first attempt, so a sweep that overlaps
the original work queues nothing twice. Runs every SWEEP_INTERVAL_SECONDS on the worker
(a scheduled job) and by hand with ``flask sweep``.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from models import Feedback, JobPost, OutboxEvent, Outreach, utcnow

from ..jobs import enqueue
from . import automation, flags, followups, notices, rollups, statistics, webhooks

BATCH = 500


def run(session: Session, *, now: datetime | None = None, limit: int = 50_000,
        delay: int | None = None, force_reconcile: bool = False) -> dict[str, Any]:
    """Queue everything overdue - stored at least ``delay`` seconds ago (default
    SWEEP_DELAY_SECONDS) and not done; returns counts per kind of work and per dispatch
    outcome."""
    now = now or utcnow()
    delay = current_app.config["SWEEP_DELAY_SECONDS"] if delay is None else delay
    cutoff = now - timedelta(seconds=delay)
    report: dict[str, Any] = {"at": now.isoformat(), "posts": 0, "clients": 0, "follow_ups": 0,
                              "outbox_subjects": 0, "notice_emails": 0, "dispatch": {}}

    def send(spec: enqueue.JobSpec) -> None:
        outcome = enqueue.dispatch(spec, revive=True)
        report["dispatch"][outcome] = report["dispatch"].get(outcome, 0) + 1

    posts = session.exec(select(JobPost.id, JobPost.content_hash)
                         .where(JobPost.scored_at.is_(None), JobPost.updated_at <= cutoff)
                         .order_by(JobPost.id).limit(limit)).all()
    report["posts"] = len(posts)
    for start in range(0, len(posts), BATCH):
        send(enqueue.score_posts_spec([tuple(p) for p in posts[start:start + BATCH]]))

    clients = session.exec(select(Feedback.client_id).where(Feedback.scored_at.is_(None))
                           .group_by(Feedback.client_id).limit(limit)).all()
    report["clients"] = len(clients)
    for client_id in clients:
        send(enqueue.score_client_spec(client_id, "sweep"))

    due = followups.due_ids(session, now)
    report["follow_ups"] = len(due)
    for outreach_id in due:
        send(enqueue.follow_up_spec(outreach_id, None))

    if current_app.config.get("MARKETPLACE_WEBHOOK_URL"):
        subjects = session.exec(
            select(OutboxEvent.subject_type, OutboxEvent.subject_id, func.min(OutboxEvent.id))
            .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.withdrawn_at.is_(None),
                   or_(and_(OutboxEvent.next_attempt_at.is_(None),
                            OutboxEvent.created_at <= cutoff),
                       OutboxEvent.next_attempt_at <= now))
            .group_by(OutboxEvent.subject_type, OutboxEvent.subject_id)).all()
        report["outbox_subjects"] = len(subjects)
        for subject_type, subject_id, first_id in subjects:
            send(enqueue.deliver_outbox_spec(subject_type, subject_id, first_id))
    emails = notices.due_email_decisions(session, now)
    report["notice_emails"] = len(emails)
    for decision_id in emails:
        send(enqueue.send_notices_spec(decision_id, None))
    session.rollback()  # read-only: end the transaction
    report["failed_pruned"] = webhooks.prune_delivered_failures(session)
    # the dashboard's counts of the last day recounted (at most hourly in a long-running
    # process; always from ``flask sweep``): a write that missed its update heals
    # strikes that expired since the last decision on their client stop raising its flags
    # (hourly too: a strike's expiry is counted in days)
    if force_reconcile or rollups.reconcile_due(now):
        report["rollups_repaired"] = rollups.reconcile(session, now=now)
        report["strike_reranked"] = flags.rerank_expired(session, now=now)
    # the automation tiers follow their measured precision (a drop from hold is audited)
    report["tier_changes"] = automation.refresh(session, now=now)
    _remember(report)
    return report


def status(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """The backlog the sweep would pick up now, and what its last run did."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["SWEEP_DELAY_SECONDS"])
    count = lambda stmt: session.exec(stmt).one()  # noqa: E731
    # job_post and feedback grow with the marketplace: on PostgreSQL past
    # statistics.EXACT_COUNT_BELOW rows these are the planner's estimates ("about"), not a
    # scan of the table on every view (scored_at is deliberately not indexed: migration 0008)
    unscored = select(JobPost.id).where(JobPost.scored_at.is_(None))
    estimated = set()
    backlog = {}
    sizes = (statistics.table_sizes(session, [JobPost.__table__, Feedback.__table__])
             if statistics.set_based(session) else None)
    for key, table, rows in (
            ("posts_unscored", JobPost.__table__, unscored),
            ("posts_overdue", JobPost.__table__, unscored.where(JobPost.updated_at <= cutoff)),
            ("feedback_unscored", Feedback.__table__,
             select(Feedback.id).where(Feedback.scored_at.is_(None)))):
        backlog[key], exact = statistics.count_or_estimate(session, table, rows, sizes)
        if not exact:
            estimated.add(key)
    backlog.update({
        "follow_ups_due": count(select(func.count()).select_from(Outreach)
                                .where(followups.due(now))),
        "outbox_pending": count(select(func.count()).select_from(OutboxEvent)
                                .where(OutboxEvent.delivered_at.is_(None),
                                       OutboxEvent.withdrawn_at.is_(None))),
    })
    last = last_run()
    return {"backlog": backlog, "estimated": estimated, "last_run": last,
            "last_run_at": datetime.fromisoformat(last["at"]) if last and last.get("at") else None,
            "webhooks_enabled": bool(current_app.config.get("MARKETPLACE_WEBHOOK_URL")),
            "interval_seconds": current_app.config["SWEEP_INTERVAL_SECONDS"],
            "tick_seconds": current_app.config.get("EMBEDDED_TICK_SECONDS", 0),
            "delay_seconds": current_app.config["SWEEP_DELAY_SECONDS"]}


def _status_key() -> str:
    return f"{current_app.config['RQ_QUEUE_PREFIX']}:sweep:last"


def _remember(report: dict[str, Any]) -> None:
    """Keep the last run's report for the System page: in Redis, or without Redis in the
    instance folder (``flask sweep`` from cron and the web processes share it)."""
    current_app.extensions["trustdesk_sweep_last"] = report
    try:
        if enqueue.redis_url():
            enqueue.get_connection().set(_status_key(), json.dumps(report))
        else:
            path = _status_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_text(json.dumps(report), encoding="utf-8")
            os.replace(partial, path)  # readers see the old report or the new, never half
    except Exception:  # noqa: BLE001 - status is informational only
        pass


def last_run() -> dict[str, Any] | None:
    try:
        if enqueue.redis_url():
            raw = enqueue.get_connection().get(_status_key())
            if raw:
                return json.loads(raw)
        elif _status_file().exists():
            return json.loads(_status_file().read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001
        pass
    return current_app.extensions.get("trustdesk_sweep_last")


def _status_file() -> Path:
    return Path(current_app.instance_path) / "sweep-last.json"
