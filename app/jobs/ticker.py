"""The embedded tick's thread: in a served process without Redis, run
``services.tick.run_once`` every ``EMBEDDED_TICK_SECONDS`` (see that module).

It starts with the process's first request (a web process, not a ``flask`` command; in each
gunicorn worker after the fork), once per process, and runs as a daemon thread; the lease
in the database makes one process at a time run the sweep.
"""
from __future__ import annotations

import logging
import os
import socket
import threading

from flask import Flask

log = logging.getLogger(__name__)

EXTENSION = "trustdesk_ticker"


class Ticker(threading.Thread):
    def __init__(self, app: Flask, interval: int):
        super().__init__(name="trustdesk-tick", daemon=True)
        self.app = app
        self.interval = interval
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.stopped = threading.Event()
        self.runs = 0  # sweeps this process ran (the others found the lease taken)

    def run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.stopped.wait(self.interval)

    def tick(self) -> None:
        from ..db import session_scope
        from ..services import tick

        try:
            with self.app.app_context(), session_scope() as session:
                if tick.run_once(session, owner=self.owner, interval=self.interval) is not None:
                    self.runs += 1
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("embedded tick failed")

    def stop(self) -> None:
        self.stopped.set()


def init_app(app: Flask) -> None:
    """Start the tick with the first request, if jobs run inline and it is configured."""
    interval = int(app.config.get("EMBEDDED_TICK_SECONDS") or 0)
    if app.config.get("REDIS_URL") or interval <= 0:
        return
    guard = threading.Lock()

    @app.before_request
    def _start_ticker() -> None:
        current = app.extensions.get(EXTENSION)
        if current is not None and current.owner.endswith(f":{os.getpid()}"):
            return
        with guard:
            current = app.extensions.get(EXTENSION)
            if current is None or not current.owner.endswith(f":{os.getpid()}"):
                ticker = Ticker(app, interval)
                app.extensions[EXTENSION] = ticker
                ticker.start()
