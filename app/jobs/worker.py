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
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

from rq.worker import SimpleWorker

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
    def __init__(self, *args, app=None, **kwargs):  # noqa: ANN001
        super().__init__(*args, **kwargs)
        if app is None:
            from .. import create_app

            app = create_app()
        self.app = app
        _install_fork_hooks()
        with self.app.app_context():
            from ..services.scoring import get_scorer

            get_scorer()  # load the models now, once, not on the first job
        from .execute import freeze_long_lived_objects

        freeze_long_lived_objects()  # ... and keep the collector away from them

    def perform_job(self, *args, **kwargs):  # noqa: ANN002, ANN003
        with self.app.app_context():
            return super().perform_job(*args, **kwargs)

    def work(self, *args, **kwargs):  # noqa: ANN002, ANN003
        if not kwargs.get("burst"):
            with self.app.app_context():
                from .enqueue import schedule_sweep

                schedule_sweep()
        return super().work(*args, **kwargs)
