"""Subprocesses started by tests, each in its own process group, so that stopping one also
stops what it forked: `flask worker` forks RQ's scheduler, which outlives a worker killed with
SIGKILL (the crash tests do that) and would otherwise keep running after the test run."""
from __future__ import annotations

import os
import signal
import subprocess


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:  # noqa: ANN003
    return subprocess.Popen(argv, start_new_session=True, **kwargs)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group id is the leader's pid (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


def stop(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    """SIGTERM each live process, wait for it (SIGKILL after ``timeout``), then SIGKILL whatever
    is left in each group, including the children of processes that were already dead."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)


def group_alive(proc: subprocess.Popen) -> bool:
    """Whether any process of ``proc``'s group (``proc`` and what it forked) still runs."""
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True
