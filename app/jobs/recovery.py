"""What a killed worker leaves in Redis, and how a live worker takes it over.

RQ keeps two things alive for a while after a worker dies without cleaning up (``kill -9``,
the OOM killer, a host reboot):

- the **scheduler lock** of each queue (``rq:scheduler-lock:<queue>``, a 61 s lease): a
  worker restarted meanwhile finds it taken and, with RQ alone, retries only at its next
  maintenance pass (10 minutes later) - no retries, no sweep, no follow-ups until then;
- the **started registry** entries of the jobs it was running, until their heartbeat
  lease ends (the job's timeout plus a minute, 11 minutes for ours), and RQ's maintenance
  (every 10 minutes) then retries or fails them.

Both record who held them: a scheduler's hash names its host and pid, an execution names
its worker, whose hash names its host and pid. When that process is on this host and no
longer runs, or the worker's hash is gone (its lease ended, or Redis restarted), the holder
is dead for sure: the lock is released, and the jobs are handed to RQ's own cleanup at
once, which retries them (``Retry`` left) or fails them with ``AbandonedJobError``. A holder
on another host is left to its lease. (A scheduler killed in its first instant, before it
registered, is not identified either: its lock lasts 61 s.)
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def process_dead(hostname: str | None, pid: int | None) -> bool:
    """True only if ``pid`` on ``hostname`` is certainly not running: it is on this host and
    gone, or a zombie nobody reaps (a worker's orphaned child in a container)."""
    if not pid or hostname != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state == "Z"


def _text(value) -> str:  # noqa: ANN001
    return value.decode() if isinstance(value, bytes) else str(value or "")


def release_dead_scheduler_locks(connection, queue_names: Iterable[str]) -> list[str]:  # noqa: ANN001
    """Release the scheduler locks of ``queue_names`` held by a scheduler that is dead on
    this host; returns the queues freed."""
    from rq.scheduler import RQScheduler
    from rq.scripts import release_lock

    freed = []
    for queue_name in queue_names:
        key = RQScheduler.get_locking_key(queue_name)
        holder = connection.get(key)
        if holder is None:
            continue
        holder = _text(holder)
        info = connection.hmget(f"rq:scheduler:{holder}", "hostname", "pid")
        hostname, pid = _text(info[0]), _text(info[1])
        if process_dead(hostname, int(pid) if pid.isdigit() else None) \
                and release_lock(connection, key, holder):
            log.warning("released the scheduler lock of %s: its holder %s (pid %s) is dead",
                        queue_name, holder, pid)
            freed.append(queue_name)
    return freed


def worker_dead(connection, worker_name: str, *, this_process_dead: bool = False) -> bool:  # noqa: ANN001
    """The worker's hash is gone (its lease ended, or Redis restarted), it registered its
    death, or its process is dead on this host (``this_process_dead``: the caller, about to
    register again under the same name, counts as dead too)."""
    if not worker_name:
        return False
    hostname, pid, death = (_text(v) if v is not None else None for v in connection.hmget(
        f"rq:worker:{worker_name}", "hostname", "pid", "death"))
    if hostname is None and pid is None:
        return True
    if death is not None:
        return True
    pid_number = int(pid) if pid and pid.isdigit() else None
    if this_process_dead and hostname == socket.gethostname() and pid_number == os.getpid():
        return True
    return process_dead(hostname, pid_number)


def recover_abandoned_jobs(connection, queues, *, running_worker: str | None = None,  # noqa: ANN001
                           dead_worker: str | None = None, exception_handlers=None) -> int:  # noqa: ANN001
    """Recover the jobs dead workers left in the started registries, now rather than after
    their heartbeat lease: their entries are marked expired and RQ's own cleanup of the
    registry retries each (``Retry`` left) or fails it with ``AbandonedJobError``. That cleanup
    runs here under a lock of a minute (RQ's maintenance lock lasts 15 minutes, and a worker
    killed while holding it would hold it up). ``running_worker`` (the caller, busy) is
    alive; ``dead_worker`` (the caller, idle before its loop starts) is dead. Returns how
    many were recovered."""
    from rq.executions import Execution

    recovered = 0
    for queue in queues:
        registry = queue.started_job_registry
        expired = 0
        for entry in connection.zrange(registry.key, 0, -1):
            composite = _text(entry)
            job_id, _, execution_id = composite.rpartition(":")
            worker_name = _text(connection.hget(Execution(execution_id, job_id,
                                                          connection).key, "worker_name"))
            if worker_name == running_worker:
                continue
            if worker_name == dead_worker or not worker_name \
                    or worker_dead(connection, worker_name):
                connection.zadd(registry.key, {composite: 0}, xx=True)
                log.warning("job %s was left started by dead worker %s: recovering it",
                            job_id, worker_name or "(unknown)")
                expired += 1
        lock = f"{registry.key}:recovering"
        if expired and connection.set(lock, 1, nx=True, ex=60):
            try:
                registry.cleanup(exception_handlers=exception_handlers)
            finally:
                connection.delete(lock)
            recovered += expired
    return recovered
