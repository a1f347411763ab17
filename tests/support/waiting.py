"""Waiting for something another process does (a worker, a server, a browser)."""
from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from pathlib import Path


def wait_for(predicate: Callable[[], bool], timeout: float = 60, interval: float = 0.1,
             what: str = "condition", env: "object | None" = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if env is not None:  # e.g. a WorkerEnv: fail early if a worker died
            env.assert_workers_alive()
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class GatedJob:
    """A job function for ``execute.resolve`` that holds every call at a gate: ``started`` is
    set by the first call, ``open_soon()`` lets them all through, ``ran`` lists the arguments
    of the calls that finished. It works in the caller and in the child processes forked
    after it was made (``inline.InlineRunner``): the events are the processes' own,
    each finished call appends a line to a file, and each call appends its pid to
    ``<path>.pids`` when it starts."""

    def __init__(self, path: Path, hold: float = 5.0) -> None:
        ctx = multiprocessing.get_context("fork")
        self.hold = hold  # how long a call waits at a gate that is never opened
        self.started = ctx.Event()
        self.gate = ctx.Event()
        self.path = path
        path.write_text("")

    def __call__(self, n) -> None:  # noqa: ANN001
        import os

        with open(f"{self.path}.pids", "a") as fh:
            fh.write(f"{os.getpid()}\n")
        self.started.set()
        self.gate.wait(self.hold)
        with self.path.open("a") as fh:
            fh.write(f"{n}\n")

    @property
    def pids(self) -> set[int]:
        """The processes the calls started in."""
        path = Path(f"{self.path}.pids")
        return {int(line) for line in path.read_text().split()} if path.exists() else set()

    @property
    def ran(self) -> list[int]:
        return [int(line) for line in self.path.read_text().split()]

    def open_soon(self, delay: float = 0.2) -> None:
        """Open the gate from another thread after ``delay`` seconds."""
        threading.Timer(delay, self.gate.set).start()


def process_gone(pid: int) -> bool:
    """Ended: reaped, or a zombie waiting for its parent to reap it (Linux ``/proc``)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
