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
    """Two app instances (two gunicorn workers, say) share one throttle in Redis; it
    throttles the attacking address, not the account's owner elsewhere."""
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
    owner = first.test_client()  # the throttle is per (account, address): not the owner's
    owner.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert login(owner, "mod@example.com").status_code == 303
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


def test_similar_posts_index_on_postgresql(pg_url):
    """index_posts writes its rows with one binary COPY on PostgreSQL: they must be exactly the
    keys of each post, rewritten (not duplicated) when a post is indexed again, and the index
    must find a near duplicate from another account outside the recent-posts window."""
    from app.services import similar
    from tests.support import factories

    engine = make_engine(pg_url)
    SQLModel.metadata.create_all(engine)
    text = ("We are hiring remote data entry clerks, no experience needed, weekly pay, training "
            "provided, start today, flexible hours. Message me on telegram @ringleader_hr")
    with Session(engine) as s:
        a, b = factories.client(s, "c-a"), factories.client(s, "c-b")
        first = factories.post(s, a, "p1", "Data entry", text)
        dup = factories.post(s, b, "p2", "Data entry job", text.replace("start today", "start now"))
        others = [factories.post(s, b, f"o{i}", f"Logo {i}", f"A logo for shop number {i}, budget ${i}0.")
                  for i in range(5)]
        handle_only = factories.post(s, b, "h1", "Hi", "@ringleader_hr")  # one shingle + handle
        empty = factories.post(s, b, "e1", "", "!!!")  # no words, no handle: no key
        posts = [first, dup, *others, handle_only, empty]
        rows = [(p.id, p.title, p.description) for p in posts]
        assert similar.index_posts(s, rows) == sum(len(k) for k in similar.keys_of(
            [similar.compute_signature(p.title, p.description) for p in posts]))
        s.commit()
        similar.index_posts(s, rows[:2])  # again: rewritten, not duplicated
        s.commit()
        stored = s.execute(sa.text("SELECT post_id, key FROM post_similarity_key")).all()
        expected = {(p.id, k) for p in posts
                    for k in similar.index_keys(similar.compute_signature(p.title, p.description))}
        assert len(stored) == len(expected) and set(stored) == expected
        assert {post_id for post_id, _ in stored} == {p.id for p in posts} - {empty.id}
        cluster = similar.find_similar(s, first, window=0)  # index only, no recent-posts window
        # the near duplicate, then the post that shares only the handle
        assert [m.post.id for m in cluster.matches] == [dup.id, handle_only.id]
    engine.dispose()
