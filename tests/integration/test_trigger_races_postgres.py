"""The flag triggers against concurrent writers, on the real PostgreSQL (migration 0023,
docs/concurrency.md): a flag opened while another transaction retitles its post, renames its
client or recategorises the post ends with ``flag_search`` and ``flag.category`` equal to
the committed rows. Two transactions in two threads released together by a Barrier, each
holding its write open a moment before it commits (so that, without the locks, both write
before either commits), over several trials in both orders (one of them started a few
milliseconds first). Without 0023's locks every kind fails: the flag's trigger read the old
row, and the other's trigger did not see the uncommitted flag."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app.db import session_scope
from app.services import ingest, scoring
from app.services.audit import Actor
from tests.integration.test_concurrency_postgres import _FakeScorer, _race
from tests.unit.console_fixtures import make_client, make_post

pytestmark = pytest.mark.integration

TRIALS = 6
#: how long each transaction holds its write before it commits
HOLD = 0.15
#: the head start of the one that goes first
STAGGER = 0.03
US = "\x1f"

INSERT_FLAG = (
    "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score, status,"
    " priority, queue_key, version, created_at, updated_at, strike_boost, evidence,"
    " policy_types) VALUES ('post', :post, :client, :post, :reason, 0.9, 'open', 50, 50, 1,"
    " now(), now(), 0, '[]', '[]')")
#: the other writer, by kind: (statement, the value it writes)
CHANGES = {
    "retitle": "UPDATE job_post SET title = :value WHERE id = :post",
    "redescribe": "UPDATE job_post SET description = :value WHERE id = :post",
    "rename": "UPDATE client SET name = :value WHERE id = :client",
    "recategorise": "UPDATE job_post SET category = :value WHERE id = :post",
}


def _subject(app) -> tuple[int, int]:
    with app.app_context(), session_scope() as s:
        client = make_client(s)
        post = make_post(s, client, title="Need a logo", description="Simple logo",
                         category="design_creative")
        s.commit()
        return client.id, post.id


def _two_transactions(engine: sa.Engine, first: tuple[str, dict], second: tuple[str, dict],
                      *, second_first: bool) -> list[str]:
    """Run each statement in its own transaction and thread, released together (one of them
    ``STAGGER`` seconds ahead), each held ``HOLD`` seconds before its commit."""
    barrier = threading.Barrier(2)
    outcomes = ["", ""]

    def run(i: int, sql: str, params: dict, delay: float) -> None:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))  # connected before the barrier
                conn.commit()
                barrier.wait(timeout=30)
                time.sleep(delay)
                with conn.begin():
                    conn.execute(sa.text(sql), params)
                    time.sleep(HOLD)
            outcomes[i] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, then asserted on
            outcomes[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(0, *first, STAGGER if second_first else 0.0)),
               threading.Thread(target=run, args=(1, *second, 0.0 if second_first else STAGGER))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _committed(engine: sa.Engine, post_id: int) -> list[tuple]:
    """Each open flag of the post: (its flag_search text, the text its committed post and
    client give, its category, its post's category)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT fs.text, lower(p.title || chr(31) || p.description || chr(31) || c.name),"
            " f.category, p.category FROM flag f JOIN job_post p ON p.id = f.post_id"
            " JOIN client c ON c.id = f.client_id LEFT JOIN flag_search fs ON fs.flag_id = f.id"
            " WHERE f.post_id = :post AND f.status = 'open'"), {"post": post_id})]


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_a_flag_opened_during_a_change_of_its_post_or_client_keeps_the_committed_text(
        migrated_app, pg_url, kind):
    engine = sa.create_engine(pg_url)
    try:
        for trial in range(TRIALS):
            client_id, post_id = _subject(migrated_app)
            value = "legal" if kind == "recategorise" else f"Telegram {kind} {trial}"
            ids = {"post": post_id, "client": client_id}
            outcomes = _two_transactions(
                engine, (INSERT_FLAG, {**ids, "reason": "scam"}),
                (CHANGES[kind], {**ids, "value": value}), second_first=trial % 2 == 1)
            assert outcomes == ["ok", "ok"], outcomes
            [(search, truth, category, post_category)] = _committed(engine, post_id)
            assert (search, category) == (truth, post_category), \
                f"trial {trial} ({'change' if trial % 2 else 'flag'} first): {kind} lost"
    finally:
        engine.dispose()


def test_scoring_beside_an_import_that_renames_the_client_and_edits_its_post(
        migrated_app, pg_url, monkeypatch):
    """The services: a scoring chunk opening flags on a client's posts while an API batch
    renames the client and edits one of the posts (clients, then posts: the lock order).
    Neither deadlocks (scoring takes the clients' name locks before its posts' locks) and
    every open flag's search text is the committed one."""
    app = migrated_app
    fake = _FakeScorer()
    monkeypatch.setattr(scoring, "get_scorer", lambda: fake)
    actor = Actor("api:test")
    engine = sa.create_engine(pg_url)
    try:
        for trial in range(TRIALS):
            with app.app_context(), session_scope() as s:
                client = make_client(s, name=f"Acme {trial}")
                posts = [make_post(s, client, title=f"Logo {i}") for i in range(30)]
                ids = [p.id for p in posts]
                edited = {"external_id": posts[7].external_id, "client_id": client.external_id,
                          "title": f"Pay on telegram {trial}", "description": "Logo",
                          "category": "design_creative", "skills": [], "budget": None,
                          "posted_at": posts[7].posted_at}
                renamed = {"external_id": client.external_id, "name": f"Renamed {trial}",
                           "country": client.country, "joined_at": client.joined_at,
                           "payment_verified": client.payment_verified,
                           "phone_verified": client.phone_verified,
                           "identity_verified": client.identity_verified}
                s.commit()
            fake.version = f"m-{trial}"
            outcomes = _race(app, lambda s: scoring.score_posts(s, ids),
                             lambda s: ingest.ingest_batch(s, clients=[renamed], posts=[edited],
                                                           actor=actor))
            assert outcomes == ["ok", "ok"], outcomes
            rows = [r for post_id in ids for r in _committed(engine, post_id)]
            assert rows and all(search == truth for search, truth, _, _ in rows), trial
    finally:
        engine.dispose()
