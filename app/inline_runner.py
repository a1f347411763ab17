"""Inline jobs beside the caller (the bulk import without Redis): child processes run the
jobs that would otherwise run in line after each commit, so the caller's next write and
the jobs of its earlier ones run at the same time, on other cores.

One child (the leader) is forked from the caller when the runner starts, before the caller
opens a session. On its first job it runs ``prepare`` (loads the models) and then, on Linux,
forks the other children from itself: they start with the models loaded, and the machine
loads them once per import instead of once per child (~3 s of CPU each: scikit-learn,
skops, the vocabularies, the rule databases). Elsewhere (no ``PR_SET_PDEATHSIG`` to tie a
grandchild's life to its parent) every child is forked from the caller and prepares itself.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from queue import Empty, Full
from typing import Any, NamedTuple

from flask import current_app

from . import jobs
from .jobs import JobSpec, freeze_long_lived_objects

log = logging.getLogger(__name__)

#: forked children may be tied to their parent's life (Linux only): see the module docstring
FORK_FROM_LEADER = sys.platform.startswith("linux")


class InlineRunner:
    """``processes`` child processes that run inline jobs beside the caller, taking them in
    the order they were dispatched (see the module docstring for how they start). Each runs
    in an app context of its own with its own database connections. ``submit`` blocks while
    ``depth`` jobs wait: the caller never gets more than that far ahead, and memory stays
    constant. Processes, not threads: scoring is CPU-bound Python, and a thread would share
    the interpreter with the caller's import.

    Jobs may run at the same time in different children, as they do on several RQ workers:
    each is idempotent and guarded (see services.scoring). A child that dies (killed, out of
    memory) loses at most its job in progress - committed rows left for the sweep; if the
    leader dies, the children it forked die with it, and the jobs after it run in the
    caller, in line."""

    def __init__(self, app, depth: int, processes: int,
                 prepare: Callable[[], object] | None = None):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")  # the child inherits the app: no re-import
        self._channel = channel = _Channel(ctx.Queue(maxsize=depth), ctx.Value("i", 0),
                                           ctx.Value("i", 0), os.getpid())
        self._processes = processes
        self._submitted = 0
        self._failed_here = 0  # jobs the caller ran itself, in line, after a child died
        if FORK_FROM_LEADER:  # one child, which forks the others once prepared
            plan = [processes - 1]
        else:
            plan = [0] * processes
        self._children = [ctx.Process(target=_child_runs_jobs, name=f"inline-jobs-{n}",
                                      args=(app, channel, prepare, followers), daemon=True)
                          for n, followers in enumerate(plan)]
        for child in self._children:
            child.start()

    @property
    def failed(self) -> int:
        """Jobs that failed (logged; the sweep retries them)."""
        return _unlocked(self._channel.failed) + self._failed_here

    def _alive(self) -> bool:
        return any(child.is_alive() for child in self._children)

    def submit(self, spec: JobSpec) -> None:
        while self._alive():
            try:
                self._channel.queue.put(spec, timeout=0.5)
                self._submitted += 1
                return
            except Full:
                continue
        log.error("the scoring processes have stopped; running %s in line", spec.job_id)
        self._failed_here += jobs._run_now(spec) == "inline-failed"

    def close(self, *, run_waiting: bool = True) -> int:
        """Stop the children once they have run what was submitted (``run_waiting``), or at
        once: an interrupted caller stops the jobs in progress (their transactions roll
        back) and drops the ones waiting; their rows are committed and unscored, and the
        sweep scores them. (Not waiting for the jobs in progress: an interrupt can leave the
        caller's own write transaction open until its traceback is gone - a SQLite
        statement cut short keeps its lock - and a job waiting for that lock would hold the
        caller for the database's whole busy timeout.) Returns the number of jobs that did
        not run to the end (stopped, dropped, or lost with a child that died)."""
        if not run_waiting:
            for child in self._children:  # a leader's children die with it
                child.terminate()
        else:  # one sentinel per process (a process that died takes none: stop trying then)
            for _ in range(self._processes):
                while self._alive():
                    try:
                        self._channel.queue.put(None, timeout=0.5)
                        break
                    except Full:
                        continue
        for child in self._children:
            child.join()
        self._channel.queue.close()
        self._channel.queue.cancel_join_thread()  # what is left in the pipe was dropped
        lost = self._submitted - _unlocked(self._channel.finished)
        if run_waiting and lost:
            log.error("%d inline job(s) lost with a scoring process that died; what they "
                      "would have scored is left for the sweep (flask sweep)", lost)
        return lost


class _Channel(NamedTuple):
    """What every child shares with the caller: the job queue, the failed and finished
    counters (shared ints), and the caller's pid."""

    queue: Any
    failed: Any
    finished: Any
    caller: int


def _unlocked(counter) -> int:  # noqa: ANN001
    """A shared counter's value, read without its lock (an int is read whole): a child
    stopped while it held the lock would otherwise leave the caller waiting for ever."""
    return counter.get_obj().value


def _child_runs_jobs(app, channel: _Channel, prepare: Callable[[], object] | None,  # noqa: ANN001
                     followers: int) -> None:
    """The body of a child forked from the caller: jobs until the sentinel or the end of the
    caller; before the first, ``prepare()`` (e.g. load the models), then
    ``freeze_long_lived_objects``, then fork ``followers`` more children, which run jobs as
    this one does and die with it. (An interrupted caller terminates it.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the caller says when to stop
    _background.set(None)  # this process runs its jobs itself
    with app.app_context():
        from .db import get_engine

        get_engine().dispose(close=False)  # the caller's pooled connections stay its own
        first = _next_job(channel, channel.caller)
        if first is None:  # no job (an import that changes nothing loads nothing)
            return
        _prepare(prepare)
        forked: list[int] = []
        for _ in range(followers):
            try:
                forked.append(_fork_follower(channel))
            except OSError:  # (no memory, process limit): fewer processes, same jobs
                log.exception("could not start another inline job process")
                break
        try:
            _run_jobs(channel, channel.caller, first)
        finally:  # the sentinel: the followers end on theirs (or with this process)
            for pid in forked:
                os.waitpid(pid, 0)


def _fork_follower(channel: _Channel) -> int:
    """A child of this (prepared) process that takes jobs from the same queue, killed by the
    kernel the moment this process ends, however it ends (``PR_SET_PDEATHSIG``)."""
    leader = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _die_with_parent(leader)
        from .db import get_engine

        get_engine().dispose(close=False)  # the leader's pooled connections stay its own
        _run_jobs(channel, leader, None)
    except BaseException:  # noqa: BLE001 - a forked child never returns into its parent's code
        log.exception("an inline job process stopped")
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent ended before the call above
        os._exit(0)


def _next_job(channel: _Channel, parent: int) -> JobSpec | None:
    """The next job, or None for the sentinel or once ``parent`` is gone."""
    while os.getppid() == parent:
        try:
            return channel.queue.get(timeout=0.5)
        except Empty:
            continue
    return None


def _run_jobs(channel: _Channel, parent: int, spec: JobSpec | None) -> None:
    """Run ``spec`` (if any), then jobs from the queue until the sentinel or the end of
    ``parent``, counting each finished (and failed) one."""
    if spec is None:
        spec = _next_job(channel, parent)
    while spec is not None:
        try:
            ok = jobs._run_now(spec) != "inline-failed"
        except BaseException:  # noqa: BLE001 - a job never ends the loop
            log.exception("inline job %s stopped; the sweep will retry it", spec.job_id)
            ok = False
        with channel.failed.get_lock():
            channel.failed.value += not ok
        with channel.finished.get_lock():
            channel.finished.value += 1
        spec = _next_job(channel, parent)


def _prepare(prepare: Callable[[], object] | None) -> None:
    if prepare is not None:
        try:
            prepare()
        except Exception:  # noqa: BLE001 - the jobs report it again, one by one
            log.exception("preparing an inline job process failed")
    freeze_long_lived_objects()


_background: ContextVar[InlineRunner | None] = ContextVar("trustdesk_inline_runner",
                                                          default=None)


def background_runner() -> InlineRunner | None:
    """The runner that takes this context's inline jobs, if any (``jobs._run_inline``)."""
    return _background.get()


@contextmanager
def inline_in_background(depth: int = 2, prepare: Callable[[], object] | None = None
                         ) -> Iterator[InlineRunner | None]:
    """Within this block, jobs that would run inline after a commit (no ``REDIS_URL``) run in
    ``INLINE_JOB_PROCESSES`` child processes instead (``InlineRunner``), so the caller's next
    write and the jobs of its earlier ones run at the same time, on other cores. All of them
    have run when the block ends (``prepare``: what the processes do first, in their app
    context, e.g. load the models); failures are logged and counted (``runner.failed``), and
    the sweep retries them as it does any inline failure. A block left by an exception
    (Ctrl-C) stops the children at once, jobs in progress included: their rows are
    committed and unscored, for the sweep.

    With Redis, workers run the jobs; with ``INLINE_JOB_PROCESSES = 0``, an in-memory
    SQLite database or no ``fork`` (Windows), jobs stay in line: this yields None."""
    import multiprocessing

    from .db import shares_database

    processes = current_app.config.get("INLINE_JOB_PROCESSES", 0)
    if (jobs.redis_url() is not None or processes < 1 or not shares_database()
            or "fork" not in multiprocessing.get_all_start_methods()):  # (Windows)
        yield None
        return
    runner = InlineRunner(current_app._get_current_object(), depth, processes, prepare)
    token = _background.set(runner)
    finished = False
    try:
        yield runner
        finished = True
    finally:  # left by Ctrl-C or an error: stop the children now
        _background.reset(token)
        dropped = runner.close(run_waiting=finished)
        if not finished:
            log.warning("interrupted: %d scoring job(s) stopped or dropped; what was committed "
                        "but not yet scored is left for the sweep (`flask sweep --delay 0` "
                        "scores it now)", dropped)
