"""Shared plumbing for the benchmarks: a throwaway PostgreSQL database, the app's
processes (gunicorn, `flask worker`), and figures (median, percentiles).

Benchmarks talk only to loopback and stop by themselves; every database and Redis key
they create is dropped at the end.
"""
from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (f"n={len(ms)} p50={percentile(ms, .5):.1f} ms p95={percentile(ms, .95):.1f} ms "
            f"max={max(ms):.1f} ms mean={statistics.fmean(ms):.1f} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_database() -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"trustdesk_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str) -> None:
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, "DATABASE_URL": url})


class Stack:
    """The console's processes for one benchmark, sharing one environment."""

    def __init__(self, db_url: str, tmp: Path, **settings: str):
        self.prefix = f"tdbench-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp
        self.env = {**os.environ, "FLASK_APP": "app", "TRUSTDESK_ENV": "development",
                    "TRUSTDESK_INSTANCE_DIR": str(tmp / "instance"), "DATABASE_URL": db_url,
                    "SECRET_KEY": "bench-secret-0123456789-0123456789-0123",
                    "RQ_QUEUE_PREFIX": self.prefix, **settings}
        self.procs: list[subprocess.Popen] = []

    def flask(self, *args: str, input: str | None = None) -> str:
        r = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=self.env,
                           input=input, capture_output=True, text=True, timeout=600)
        if r.returncode:
            raise RuntimeError(r.stdout + r.stderr)
        return r.stdout

    def spawn(self, name: str, *argv: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("w")
        proc = subprocess.Popen(list(argv), cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def gunicorn(self, workers: int = 2, threads: int = 4) -> str:
        port = free_port()
        self.spawn("gunicorn", sys.executable, "-m", "gunicorn", "--workers", str(workers),
                   "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
                   "app:create_app()")
        wait_port(port)
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str = "w0") -> subprocess.Popen:
        return self.spawn(name, sys.executable, "-m", "flask", "worker", "--name",
                          f"{self.prefix}-{name}")

    def wait_for_workers(self, n: int = 1, timeout: float = 120) -> None:
        """Until n workers have registered (AppWorker loads the models before that)."""
        import redis

        conn = redis.Redis.from_url(self.env["REDIS_URL"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(self.prefix.encode() in m for m in conn.smembers("rq:workers")) >= n:
                return
            time.sleep(0.1)
        raise RuntimeError("workers did not start")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.env.get("REDIS_URL"):
            from tests.support.services import delete_redis_namespace

            delete_redis_namespace(self.env["REDIS_URL"], self.prefix)


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listening on {port}")
