"""Waiting for something another process does (a worker, a server, a browser)."""
from __future__ import annotations

import time
from collections.abc import Callable


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
