"""Fixtures for the real services: a fresh PostgreSQL database and a private Redis key prefix per run.

Each run creates its own database (dropped at the end) and namespaces its Redis keys
(deleted at the end); nothing else on the servers is touched. When ``CI=true`` an
unreachable service fails the run; elsewhere the tests that need it are skipped.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:10]


def unavailable(service: str, exc: Exception):
    message = f"{service} is not reachable ({exc.__class__.__name__}: {exc})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def _admin_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        unavailable("PostgreSQL", exc)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"trustdesk_test_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = pg_admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", exc)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client) -> Iterator[str]:
    """A key prefix private to one test; its keys are deleted afterwards."""
    prefix = f"trustdesk-test-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        redis_client.delete(*keys)


def delete_redis_namespace(url: str, prefix: str) -> None:
    """Delete every key containing ``prefix`` (queues, jobs, workers, limiter keys) and
    RQ's set members that name them; nothing else on the server is touched."""
    import redis

    try:
        conn = redis.Redis.from_url(url)
        keys = list(conn.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            conn.delete(*keys)
        for set_key in ("rq:queues", "rq:workers"):
            members = [m for m in conn.smembers(set_key) if prefix.encode() in m]
            if members:
                conn.srem(set_key, *members)
        conn.close()
    except redis.RedisError:
        pass


def migrate(url: str) -> None:
    """``alembic upgrade head`` on the database at ``url`` (a subprocess, as in production)."""
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"],
                            cwd=Path(__file__).resolve().parents[2],
                            env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def migrated_app(pg_url):
    """The app on a fresh PostgreSQL database migrated to head (its engine disposed after)."""
    from app.db import get_engine
    from tests.helpers import make_app

    migrate(pg_url)
    app = make_app(pg_url)
    yield app
    with app.app_context():
        get_engine().dispose()
