"""Failed jobs: RQ's failed registries, for ``flask jobs failed|requeue`` and the admin page."""
from __future__ import annotations

from typing import Any

from . import enqueue


def failed_jobs() -> list[dict[str, Any]]:
    """Every job in the failed registries, newest first (empty without Redis)."""
    if enqueue.redis_url() is None:
        return []
    from rq.job import Job

    rows = []
    for queue in enqueue.all_queues():
        registry = queue.failed_job_registry
        for job in Job.fetch_many(registry.get_job_ids(), connection=enqueue.get_connection()):
            if job is None:
                continue
            result = job.latest_result()
            lines = ((result.exc_string if result else None) or "").strip().splitlines()
            rows.append({
                "id": job.id, "queue": queue.name, "func": job.func_name, "args": job.args,
                "ended_at": job.ended_at, "error": lines[-1] if lines else "",
                "description": job.description,
            })
    rows.sort(key=lambda r: r["ended_at"].timestamp() if r["ended_at"] else 0.0, reverse=True)
    return rows


def _registry_of(job_id: str):
    """The failed registry holding ``job_id``, or None."""
    for queue in enqueue.all_queues():
        registry = queue.failed_job_registry
        if job_id in registry.get_job_ids():
            return registry
    return None


def requeue(job_id: str) -> bool:
    """Put a failed job back on its queue. False if it is not in a failed registry."""
    registry = _registry_of(job_id)
    if registry is not None:
        registry.requeue(job_id)
    return registry is not None


def failed_of(func: str) -> list[tuple[str, tuple]]:
    """``(job id, args)`` of every failed job of the function ``func`` (a dotted path)."""
    if enqueue.redis_url() is None:
        return []
    from rq.job import Job

    found = []
    for queue in enqueue.all_queues():
        ids = queue.failed_job_registry.get_job_ids()
        for job in Job.fetch_many(ids, connection=enqueue.get_connection()):
            if job is not None and job.func_name == func:
                found.append((job.id, tuple(job.args)))
    return found


def discard(job_id: str) -> bool:
    """Remove a failed job whose work was done since (the job too). False if it is not in a
    failed registry."""
    registry = _registry_of(job_id)
    if registry is not None:
        registry.remove(job_id, delete_job=True)
    return registry is not None
