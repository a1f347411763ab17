"""The RQ worker class: runs jobs inside the app context, with the models loaded once.

``flask worker`` uses it. Plain ``rq worker`` users get the same with::

    rq worker -w app.jobs.worker.AppWorker --with-scheduler --url "$REDIS_URL" \\
        trustdesk-scoring trustdesk-webhooks trustdesk-default

It is a SimpleWorker: jobs run in the worker process itself (no fork per job), so the
trained models are loaded once per worker process and every job reuses them.

RQ runs its scheduler in a process forked from the worker. If the worker dies without
stopping it (SIGKILL, the OOM killer), that process used to live on, orphaned, holding the
scheduler lock. On Linux the worker's forked children now ask the kernel for a SIGTERM when
the worker dies (``prctl(PR_SET_PDEATHSIG)``), which RQ's scheduler handles by releasing its
locks and exiting; a restarted worker then takes the scheduler over.

It also rides out what RQ alone does not (``app.jobs.recovery``):

- **Redis going away.** RQ's loop quits on some connection errors (and its scheduler process
  always does): the worker waits for Redis with backoff, logging it, and starts its loop
  again in the same process (the models stay loaded).
- **A maintenance pass every ``WORKER_MAINTENANCE_SECONDS``** (RQ's default is 10 minutes, and
  an idle worker blocks on Redis for 6.75 of them): it restarts a dead scheduler - first
  releasing a lock held by a scheduler that is dead on this host, so one killed with its
  worker (``kill -9`` of the group) is replaced at once, not after RQ's 10-minute fallback;
  recovers the jobs a dead worker left in the started registries; and schedules the periodic
  sweep if it is missing (Redis restarted empty).
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.worker import SimpleWorker

from . import recovery

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_hooks_installed = False
_parent_pid = 0  # the forking process, noted just before each fork


def _remember_parent() -> None:
    global _parent_pid
    _parent_pid = os.getpid()


def _die_with_parent() -> None:
    """In a child just forked from the worker: SIGTERM when the worker dies (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols, libc's prctl among them
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            return
    except (OSError, AttributeError):  # pragma: no cover - no prctl here
        return
    if os.getppid() != _parent_pid:  # the worker died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _install_fork_hooks() -> None:
    """Once per process (a test may build several workers in one)."""
    global _hooks_installed
    if sys.platform.startswith("linux") and not _hooks_installed:
        _hooks_installed = True
        os.register_at_fork(before=_remember_parent, after_in_child=_die_with_parent)


class AppWorker(SimpleWorker):
    #: seconds between reconnection attempts while Redis is away, doubling up to the maximum
    reconnect_delays = (1.0, 30.0)

    def __init__(self, *args, app=None, **kwargs):  # noqa: ANN001
        if app is None:
            from .. import create_app

            app = create_app()
        kwargs.setdefault("maintenance_interval", app.config["WORKER_MAINTENANCE_SECONDS"])
        super().__init__(*args, **kwargs)
        self.app = app
        _install_fork_hooks()
        with self.app.app_context():
            from ..services.scoring import get_scorer

            get_scorer()  # load the models now, once, not on the first job
        from .execute import freeze_long_lived_objects

        freeze_long_lived_objects()  # ... and keep the collector away from them

    def _set_ip_address(self, connection) -> None:  # noqa: ANN001
        """RQ asks Redis for the worker's address when it is built: Redis being down then
        must not stop the worker from starting (it waits for Redis in ``work``)."""
        try:
            super()._set_ip_address(connection)
        except (RedisConnectionError, RedisTimeoutError):
            self.ip_address = "unknown"

    @property
    def dequeue_timeout(self) -> int:
        """Block on the queues no longer than a maintenance interval (RQ: worker_ttl - 15 s),
        so that an idle worker's maintenance passes come on time."""
        return max(1, min(self.worker_ttl - 15, int(self.maintenance_interval)))

    def perform_job(self, *args, **kwargs):  # noqa: ANN002, ANN003
        with self.app.app_context():
            return super().perform_job(*args, **kwargs)

    def work(self, *args, **kwargs):  # noqa: ANN002, ANN003
        """RQ's loop, started again in this process whenever it ends without a stop request
        (Redis went away); a burst worker runs it once."""
        burst = kwargs.get("burst", False)
        delay = self.reconnect_delays[0]
        while True:
            worked, started = False, time.monotonic()
            try:
                self._prepare_loop(with_scheduler=kwargs.get("with_scheduler", False), burst=burst)
                worked = super().work(*args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError) as exc:
                self.log.warning("Worker %s: Redis is unreachable (%s)", self.name, exc)
            if burst or self._stopping:
                return worked
            if time.monotonic() - started > 10 * self.reconnect_delays[1]:
                delay = self.reconnect_delays[0]  # it ran a good while: start the backoff over
            delay = self._wait_for_redis(delay)

    @property
    def _stopping(self) -> bool:
        """A stop was asked for (RQ only sets ``_stop_requested`` when it comes mid-job)."""
        return self._stop_requested or self._shutdown_requested_date is not None

    def _prepare_loop(self, *, with_scheduler: bool, burst: bool) -> None:
        """Before (re)starting RQ's loop: nothing runs in this worker yet, so what its name
        left started is abandoned (an earlier loop cut off by Redis, or a killed worker of
        the same name), and a dead scheduler's locks are released."""
        recovery.recover_abandoned_jobs(self.connection, self.queues, dead_worker=self.name,
                                        exception_handlers=self._exc_handlers)
        if with_scheduler:
            recovery.release_dead_scheduler_locks(self.connection, self.queue_names())
        if not burst:
            self._maintain_app()
        self.last_cleaned_at = None  # a maintenance pass first thing in the loop

    def _wait_for_redis(self, delay: float) -> float:
        """Sleep with backoff until Redis answers (or a stop is requested); returns the
        delay to wait if the loop ends again soon."""
        while not self._stopping:
            self.log.warning("Worker %s: the work loop ended without a stop request; "
                        "reconnecting to Redis in %.0f s", self.name, delay)
            time.sleep(delay)
            delay = min(delay * 2, self.reconnect_delays[1])
            try:
                self.connection.ping()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                self.log.warning("Worker %s: Redis still unreachable: %s", self.name, exc)
                continue
            self.log.warning("Worker %s: Redis answers; starting the work loop again", self.name)
            break
        return delay

    def register_birth(self) -> None:
        """RQ refuses a name whose hash is still there without a death mark: a worker
        restarted under its name after a ``kill -9``, or this one after Redis cut its loop
        off before it could register its death, takes that place."""
        if recovery.worker_dead(self.connection, self.name, this_process_dead=True):
            self.connection.hset(self.key, "death", "recovered")
        super().register_birth()

    def run_maintenance_tasks(self) -> None:
        """RQ's pass (restart a dead scheduler, clean the registries), with a dead local
        scheduler's lock released first and a dead worker's started jobs recovered at once;
        then the app's: the periodic sweep scheduled if it is missing."""
        if self.scheduler is not None and not (self.scheduler._process
                                               and self.scheduler._process.is_alive()):
            recovery.release_dead_scheduler_locks(self.connection, self.queue_names())
        recovery.recover_abandoned_jobs(self.connection, self.queues, running_worker=self.name,
                                        exception_handlers=self._exc_handlers)
        super().run_maintenance_tasks()
        self._maintain_app()

    def _maintain_app(self) -> None:
        with self.app.app_context():
            from .enqueue import ensure_sweep_scheduled

            ensure_sweep_scheduled()
