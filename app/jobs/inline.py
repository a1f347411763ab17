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
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flask import current_app

from . import enqueue, execute
from .execute import background, freeze_long_lived_objects
from .spec import JobSpec

log = logging.getLogger(__name__)

#: forked children may be tied to their parent's life (Linux only): see the module docstring
FORK_FROM_LEADER = sys.platform.startswith("linux")


class InlineRunner:
    """``processes`` child processes that run inline jobs beside the caller (see the module
    docstring for how they start). Each runs in an app context of its own with its own
    database connections. Processes, not threads: scoring is CPU-bound Python, and a thread
    would share the interpreter with the caller's import.

    Each child has a pipe of its own for its jobs and one back for what became of them (a
    job started, finished, failed). The caller hands each job to the child with the fewest
    jobs in hand; ``submit`` blocks while every child holds its share of ``depth`` waiting
    jobs, so the caller never gets more than that far ahead, and memory stays constant. No
    lock is shared between the children (a process killed while it held one - waiting for
    the next job on a shared queue, say - would leave the others waiting for ever).

    Jobs may run at the same time in different children, as they do on several RQ workers:
    each is idempotent and guarded (see services.scoring). A child that dies (killed, out of
    memory) loses at most its job in progress - committed rows left for the sweep; the jobs
    it had not started go to the other children. If the leader dies, the children it forked
    die with it, and the jobs after it run in the caller, in line."""

    def __init__(self, app, depth: int, processes: int,
                 prepare: Callable[[], object] | None = None):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")  # the child inherits the app: no re-import
        pairs = [(ctx.Pipe(duplex=False), ctx.Pipe(duplex=False)) for _ in range(processes)]
        self._slots = [_Slot(_Pipes(jobs=jobs_out, reports=reports_in))
                       for (_, jobs_out), (reports_in, _) in pairs]
        ends = [_Pipes(jobs=jobs_in, reports=reports_out)
                for (jobs_in, _), (_, reports_out) in pairs]
        self._per_child = -(-depth // processes) + 1  # its share of the waiting, + its job
        self._backlog: deque[JobSpec] = deque()  # to hand out (again: from a child that died)
        self.submitted = self._finished = self._failed = 0
        self._lost = 0  # jobs in progress in a child that died
        self._interrupted = False
        if FORK_FROM_LEADER:  # one child, which forks the others once prepared
            plan = [(0, list(range(1, processes)))]
        else:
            plan = [(n, []) for n in range(processes)]
        self._children = [ctx.Process(target=_child_runs_jobs, name=f"inline-jobs-{n}",
                                      args=(app, self._slots, ends, n, followers, prepare),
                                      daemon=True)
                          for n, followers in plan]
        for child in self._children:
            child.start()
        for end in ends:  # the children's ends are theirs: a child's death closes its pipes
            end.close()

    @property
    def failed(self) -> int:
        """Jobs that failed (logged; the sweep retries them)."""
        return self._failed

    @property
    def unfinished(self) -> int:
        """Jobs that did not run to the end: lost with a process that died, or stopped and
        dropped by an interrupt (what ``close`` returns; the sweep scores their rows)."""
        return self.submitted - self._finished

    def submit(self, spec: JobSpec) -> None:
        self._backlog.append(spec)
        self.submitted += 1
        self._hand_out()

    def _hand_out(self) -> None:
        """Hand the backlog to the children, waiting while each holds its share; with no
        child left, run it here, in line."""
        while self._backlog:
            self._read_reports(timeout=0)
            alive = [slot for slot in self._slots if slot.alive]
            if not alive:
                spec = self._backlog.popleft()
                log.error("the scoring processes have stopped; running %s in line", spec.job_id)
                self._failed += execute.run_now(spec) == "inline-failed"
                self._finished += 1
                continue
            slot = min(alive, key=_Slot.load)
            if slot.load() >= self._per_child:
                self._read_reports(timeout=0.5)  # until a job ends (or a child does)
                continue
            try:
                slot.pipes.jobs.send(self._backlog[0])
            except OSError:  # its process has ended (the pipe has no reader left)
                self._ended(slot)
                continue
            slot.waiting.append(self._backlog.popleft())

    def _read_reports(self, timeout: float) -> None:
        """Take in what the children reported (up to ``timeout`` seconds for the first)."""
        from multiprocessing.connection import wait

        alive = {slot.pipes.reports: slot for slot in self._slots if slot.alive}
        for reports in wait(list(alive), timeout) if alive else ():
            slot = alive[reports]
            try:
                while reports.poll():
                    report = reports.recv_bytes()
                    if report == _STARTED:
                        slot.running = slot.waiting.popleft()
                    else:
                        slot.running = None
                        self._finished += 1
                        self._failed += report == _FAILED
            except (EOFError, OSError):  # every copy of its end closed: the child has ended
                self._ended(slot)

    def _ended(self, slot: "_Slot") -> None:
        """A child has ended: its job in progress is lost (the sweep scores what it would
        have), the jobs it had not started go back to the backlog, for the others."""
        slot.alive = False
        slot.pipes.close()
        if slot.running is not None:
            self._lost += 1
            if not self._interrupted:
                log.error("inline job %s lost with a scoring process that died; what it would "
                          "have scored is left for the sweep (flask sweep)", slot.running.job_id)
        slot.running = None
        self._backlog.extendleft(reversed(slot.waiting))
        slot.waiting.clear()

    def wait(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Until every job submitted so far has ended (run, failed, or lost with a child that
        died), calling ``progress(ended, submitted)`` as jobs end. The children stay."""
        while (ended := self._finished + self._lost) < self.submitted:
            if progress is not None:
                progress(ended, self.submitted)
            self._hand_out()
            self._read_reports(timeout=0.5)
        if progress is not None:
            progress(self.submitted, self.submitted)

    def close(self, *, run_waiting: bool = True) -> int:
        """Stop the children once they have run what was submitted (``run_waiting``), or at
        once: an interrupted caller stops the jobs in progress (their transactions roll
        back) and drops the ones waiting; their rows are committed and unscored, and the
        sweep scores them. (Not waiting for the jobs in progress: an interrupt can leave the
        caller's own write transaction open until its traceback is gone - a SQLite
        statement cut short keeps its lock - and a job waiting for that lock would hold the
        caller for the database's whole busy timeout.) Returns the number of jobs that did
        not run to the end (stopped, dropped, or lost with a child that died)."""
        if run_waiting:
            # every job ended first: until then, a child that dies hands the jobs it had not
            # started to the others; then the sentinel to each, and until each has ended
            self.wait()
            for slot in self._slots:
                if slot.alive:
                    try:
                        slot.pipes.jobs.send(None)
                    except OSError:
                        self._ended(slot)
            while any(slot.alive for slot in self._slots):
                self._read_reports(timeout=0.5)
        else:
            self._interrupted = True
            for child in self._children:  # a leader's children die with it
                child.terminate()
        for child in self._children:
            child.join()
        self._read_reports(timeout=0)
        for slot in self._slots:
            slot.pipes.close()
        return self.unfinished


_STARTED, _DONE, _FAILED = b"s", b"d", b"f"


class _Pipes(NamedTuple):
    """One end of a child's two pipes: the caller's (it sends jobs, receives reports) or the
    child's (it receives jobs, sends reports)."""

    jobs: Any
    reports: Any

    def close(self) -> None:
        self.jobs.close()
        self.reports.close()


@dataclass(eq=False)
class _Slot:
    """The caller's side of one child: its pipes, and the jobs in its hands (sent and not
    started; started and not finished)."""

    pipes: _Pipes
    waiting: deque = field(default_factory=deque)
    running: JobSpec | None = None
    alive: bool = True

    def load(self) -> int:
        return len(self.waiting) + (self.running is not None)


def _child_runs_jobs(app, slots: list[_Slot], ends: list[_Pipes], index: int,  # noqa: ANN001
                     followers: list[int], prepare: Callable[[], object] | None) -> None:
    """The body of a child forked from the caller: the jobs of its pipe until the sentinel or
    the end of the caller; before the first, ``prepare()`` (e.g. load the models), then
    ``freeze_long_lived_objects``, then fork the ``followers`` (their pipes' indexes), which
    run the jobs of their own pipes as this one does and die with it. (An interrupted caller
    terminates it.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the caller says when to stop
    background.set(None)  # this process runs its jobs itself
    for slot in slots:  # the caller's ends: the caller's alone
        slot.pipes.close()
    for n, end in enumerate(ends):  # other children's ends (but those of its followers-to-be)
        if n != index and n not in followers:
            end.close()
    mine = ends[index]
    with app.app_context():
        from ..db import get_engine

        get_engine().dispose(close=False)  # the caller's pooled connections stay its own
        first = _next_job(mine)
        if first is None:  # no job (an import that changes nothing loads nothing)
            return
        _prepare(prepare)
        forked: list[int] = []
        for n in followers:
            try:
                forked.append(_fork_follower(ends, n))
            except OSError:  # (no memory, process limit): fewer processes, same jobs
                log.exception("could not start another inline job process")
            ends[n].close()  # the follower's now (or no one's: the caller hands its jobs on)
        try:
            _run_jobs(mine, first)
        finally:  # the sentinel: the followers end on theirs (or with this process)
            for pid in forked:
                os.waitpid(pid, 0)


def _fork_follower(ends: list[_Pipes], index: int) -> int:
    """A child of this (prepared) process that runs the jobs of pipe ``index``, killed by
    the kernel the moment this process ends, however it ends (``PR_SET_PDEATHSIG``)."""
    leader = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _die_with_parent(leader)
        for n, end in enumerate(ends):
            if n != index:
                end.close()
        from ..db import get_engine

        get_engine().dispose(close=False)  # the leader's pooled connections stay its own
        _run_jobs(ends[index], None)
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


def _next_job(ends: _Pipes) -> JobSpec | None:
    """The next job, or None for the sentinel or once the caller is gone."""
    try:
        return ends.jobs.recv()
    except (EOFError, OSError):
        return None


def _run_jobs(ends: _Pipes, spec: JobSpec | None) -> None:
    """Run ``spec`` (if any), then the jobs of this pipe until the sentinel or the end of the
    caller, reporting each as started, then as finished or failed."""
    if spec is None:
        spec = _next_job(ends)
    while spec is not None:
        try:
            ends.reports.send_bytes(_STARTED)
        except OSError:  # the caller is gone
            return
        try:
            ok = execute.run_now(spec) != "inline-failed"
        except BaseException:  # noqa: BLE001 - a job never ends the loop
            log.exception("inline job %s stopped; the sweep will retry it", spec.job_id)
            ok = False
        try:
            ends.reports.send_bytes(_DONE if ok else _FAILED)
        except OSError:
            return
        spec = _next_job(ends)


def _prepare(prepare: Callable[[], object] | None) -> None:
    if prepare is not None:
        try:
            prepare()
        except Exception:  # noqa: BLE001 - the jobs report it again, one by one
            log.exception("preparing an inline job process failed")
    freeze_long_lived_objects()


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

    from ..db import shares_database

    processes = current_app.config.get("INLINE_JOB_PROCESSES", 0)
    if (enqueue.redis_url() is not None or processes < 1 or not shares_database()
            or "fork" not in multiprocessing.get_all_start_methods()):  # (Windows)
        yield None
        return
    runner = InlineRunner(current_app._get_current_object(), depth, processes, prepare)
    token = background.set(runner)
    finished = False
    try:
        yield runner
        finished = True
    finally:  # left by Ctrl-C or an error: stop the children now
        background.reset(token)
        dropped = runner.close(run_waiting=finished)
        if not finished:
            log.warning("interrupted: %d scoring job(s) stopped or dropped; what was committed "
                        "but not yet scored is left for the sweep (`flask sweep --delay 0` "
                        "scores it now)", dropped)
