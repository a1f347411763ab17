"""Real worker processes for integration tests: an isolated app environment (its own
PostgreSQL database, RQ queue prefix and Redis keys), `flask worker` subprocesses, and a
private redis-server for outage tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support import processes
from tests.support.services import delete_redis_namespace
from tests.support.waiting import wait_for  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkerEnv:
    """Settings shared by the test's app and its worker subprocesses."""

    def __init__(self, db_url: str, redis_url: str, tmp_path: Path, **extra: str):
        self.prefix = f"tdtest-{uuid.uuid4().hex[:8]}"
        self.redis_url = redis_url
        self.tmp_path = tmp_path
        self.settings = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "RQ_QUEUE_PREFIX": self.prefix,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SECRET_KEY": "worker-test-secret-0123456789-0123456789",
            "JOB_RETRY_INTERVALS": "1,1,2",
            "SWEEP_DELAY_SECONDS": "0",
            "SWEEP_INTERVAL_SECONDS": "3600",
            **extra,
        }
        self.workers: list[subprocess.Popen] = []

    def env(self) -> dict[str, str]:
        return {**os.environ, "TRUSTDESK_ENV": "development", "FLASK_APP": "app",
                "TRUSTDESK_INSTANCE_DIR": str(self.tmp_path / "instance"), **self.settings}

    def app_overrides(self) -> dict:
        out = dict(self.settings)
        out["JOB_RETRY_INTERVALS"] = tuple(int(x) for x in out["JOB_RETRY_INTERVALS"].split(","))
        out["SWEEP_DELAY_SECONDS"] = int(out["SWEEP_DELAY_SECONDS"])
        out["SWEEP_INTERVAL_SECONDS"] = int(out["SWEEP_INTERVAL_SECONDS"])
        return out

    def flask(self, *args: str, input: str | None = None, check: bool = True):
        result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=self.env(),
                                input=input, capture_output=True, text=True, timeout=300)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def start_worker(self, name: str | None = None) -> subprocess.Popen:
        name = name or f"{self.prefix}-w{len(self.workers)}"
        log = (self.tmp_path / f"{name}.log").open("w")
        proc = processes.spawn([sys.executable, "-m", "flask", "worker", "--name", name],
                               cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def assert_workers_alive(self) -> None:
        for i, proc in enumerate(self.workers):
            if proc.poll() is not None and proc.returncode != -9:
                raise AssertionError(f"worker {i} died ({proc.returncode}): "
                                     f"{self.worker_log(i)[-3000:]}")

    def worker_log(self, index: int = 0) -> str:
        return (self.tmp_path / f"{self.prefix}-w{index}.log").read_text()

    def stop_workers(self) -> None:
        processes.stop(self.workers)
        self.workers.clear()

    def cleanup_redis(self) -> None:
        delete_redis_namespace(self.redis_url, self.prefix)


class PrivateRedis:
    """A redis-server of our own on another port (the machine's is never stopped)."""

    def __init__(self, tmp_path: Path):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._pings, 10, what="private redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def _pings(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False


@contextmanager
def app_context(app):
    with app.app_context():
        yield
