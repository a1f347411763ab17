"""The app against the real PostgreSQL and Redis."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from app.db import get_engine, make_engine
from app.extensions import get_limiter
from models import Client, Flag
from tests.helpers import PASSWORD, login, make_app

pytestmark = pytest.mark.integration


def test_login_and_queue_on_postgresql(pg_url):
    app = make_app(pg_url)
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
        get_limiter().reset()
    runner = app.test_cli_runner()
    r = runner.invoke(args=["users", "create", "mod@example.com", "--password-stdin"],
                      input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    client = app.test_client()
    assert login(client, "mod@example.com").status_code == 303
    assert client.get("/queue/").status_code == 200
    with app.app_context():
        get_engine().dispose()


def test_failed_login_throttle_is_shared_through_redis(tmp_path, redis_prefix, redis_client):
    """Two app instances (two gunicorn workers, say) share one throttle in Redis."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    settings = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
                "RATELIMIT_KEY_PREFIX": redis_prefix}
    first, second = make_app(db, **settings), make_app(db, **settings)
    with first.app_context():
        SQLModel.metadata.create_all(get_engine())
    first.test_cli_runner().invoke(args=["users", "create", "mod@example.com", "--password-stdin"],
                                   input=PASSWORD + "\n")
    for i in range(5):
        app = first if i % 2 else second
        assert login(app.test_client(), "mod@example.com", "wrong password!!").status_code == 401
    assert login(second.test_client(), "mod@example.com").status_code == 429
    assert list(redis_client.scan_iter(match=f"*{redis_prefix}*")), "no keys under our prefix"


def test_concurrent_inserts_of_the_same_open_flag_leave_exactly_one(pg_url):
    engine = make_engine(pg_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        client = Client(external_id="c1", name="Acme")
        s.add(client)
        s.commit()
        client_id = client.id

    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def insert():
        with Session(engine) as s:
            s.add(Flag(subject_type="client", subject_id=client_id, client_id=client_id,
                       reason="negative_client", score=0.8))
            barrier.wait()
            try:
                s.commit()
                outcomes.append("inserted")
            except sa.exc.IntegrityError:
                outcomes.append("rejected")

    threads = [threading.Thread(target=insert) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["inserted", "rejected", "rejected", "rejected"]
    with Session(engine) as s:
        assert len(s.exec(select(Flag)).all()) == 1
    engine.dispose()
