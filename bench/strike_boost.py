"""What the strikes cost the scoring path: the flag upsert of one scoring chunk (500 posts)
with the strike boost (``strikes.priority_boost``: one grouped read of the chunk's clients'
standing decisions) and without it, and the boost's read alone, on a database holding
``--clients`` clients, 4 posts each, and ``--removals`` removal decisions spread over half
of the clients. Then what a strike costs a decision: ``flags.rerank`` of one client whose
open flags all move (1, 50 and 500 of them; the client's standing read, then one UPDATE),
as a removal, a suspension, an undo or an overturn runs it in its transaction. Prints
medians and the ratio; asserts nothing.

    .venv/bin/python bench/strike_boost.py [--postgres] [--clients 20000] [--removals 40000]
        [--repeat 15]

``--postgres`` uses a fresh database on TEST_POSTGRES_URL's server (dropped at the end);
otherwise a temporary SQLite file.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

CHUNK = 500


def _database(postgres: bool) -> tuple[str, callable]:
    if not postgres:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", lambda: None
    admin_url = os.environ.get("TEST_POSTGRES_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"trustdesk_bench_strikes_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return admin.url.set(database=name).render_as_string(hide_password=False), drop


def _fill(engine: sa.Engine, clients: int, removals: int) -> None:
    from models import Client, Decision, JobPost, utcnow

    now = utcnow()
    rng = random.Random(7)
    with engine.begin() as conn:
        conn.execute(sa.insert(Client.__table__), [
            {"id": i, "external_id": f"c{i}", "name": f"Client {i}", "status": "active",
             "payment_verified": False, "phone_verified": False, "identity_verified": False,
             "created_at": now, "updated_at": now} for i in range(1, clients + 1)])
        conn.execute(sa.insert(JobPost.__table__), [
            {"id": i, "external_id": f"p{i}", "client_id": (i - 1) // 4 + 1, "title": "t",
             "description": "d", "status": "live", "content_hash": f"h{i}",
             "posted_at": now, "created_at": now, "updated_at": now}
            for i in range(1, clients * 4 + 1)])
        details = json.dumps({"reason_code": "scam", "label": "violation",
                              "judged": {"title": "t", "description": "d" * 400}})
        rows = []
        for i in range(removals):
            client = rng.randint(1, clients // 2)
            post = (client - 1) * 4 + 1 + rng.randint(0, 3)
            rows.append({"subject_type": "post", "subject_id": post, "client_id": client,
                         "post_id": post, "action": rng.choice(["remove", "dismiss", "note"]),
                         "reason": "", "details": json.loads(details),
                         "created_at": now - timedelta(days=rng.randint(0, 300))})
        conn.execute(sa.insert(Decision.__table__), rows)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()


def _rerank_times(engine: sa.Engine, clients: int, repeat: int) -> dict[int, float]:
    """Median ms of ``flags.rerank`` for a client (one with strikes) whose N open flags all
    move; each trial rolled back, so each moves them all."""
    from app.db import session_scope
    from app.services import flags
    from models import Flag, JobPost, utcnow
    from models.moderation import queue_key

    now = utcnow()
    out = {}
    for i, n in enumerate((1, 50, 500)):
        client = 1 + i  # the first half of the clients carry the removals
        first = clients * 4 + 1 + i * 1000
        with engine.begin() as conn:
            conn.execute(sa.insert(JobPost.__table__), [
                {"id": first + k, "external_id": f"rr{first + k}", "client_id": client,
                 "title": "t", "description": "d", "status": "live", "content_hash": f"rr{k}",
                 "posted_at": now, "created_at": now, "updated_at": now} for k in range(n)])
            conn.execute(sa.insert(Flag.__table__), [
                {"subject_type": "post", "subject_id": first + k, "client_id": client,
                 "post_id": first + k, "reason": "scam", "score": 0.9, "status": "open",
                 "priority": 50.0, "queue_key": queue_key(50.0, now), "version": 1,
                 "strike_boost": -1.0, "evidence": [], "policy_types": [], "created_at": now,
                 "updated_at": now}
                for k in range(n)])
        times = []
        for _ in range(repeat):
            with session_scope() as session:
                start = time.perf_counter()
                moved = flags.rerank(session, [client])
                times.append(time.perf_counter() - start)
                assert moved == n, (moved, n)
                session.rollback()
        out[n] = statistics.median(times) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--removals", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    url, drop = _database(args.postgres)
    try:
        from sqlmodel import SQLModel

        from app.db import get_engine, session_scope
        from app.services import flags, strikes
        from tests.helpers import make_app

        app = make_app(url)
        with app.app_context():
            SQLModel.metadata.create_all(get_engine())
            _fill(get_engine(), args.clients, args.removals)
            rng = random.Random(11)
            detection = flags.Detection(reason="scam", score=0.9, model_version="m",
                                        priority=50.0)
            times = {"with boost": [], "without boost": [], "boost read alone": []}
            real = strikes.priority_boost
            for trial in range(args.repeat):
                posts = rng.sample(range(1, args.clients * 4 + 1), CHUNK)
                chunk = [({"subject_type": "post", "subject_id": p, "client_id": (p - 1) // 4 + 1,
                           "post_id": p}, detection) for p in posts]
                order = ["with boost", "without boost"] if trial % 2 else \
                    ["without boost", "with boost"]
                for name in order:
                    strikes.priority_boost = real if name == "with boost" else \
                        (lambda *a, **k: {})
                    flags.strikes.priority_boost = strikes.priority_boost
                    with session_scope() as session:
                        start = time.perf_counter()
                        flags.upsert_open_flags(session, chunk)
                        session.flush()
                        times[name].append(time.perf_counter() - start)
                        session.rollback()
                strikes.priority_boost = flags.strikes.priority_boost = real
                with session_scope() as session:
                    start = time.perf_counter()
                    boosted = real(session, {c["client_id"] for c, _ in chunk})
                    times["boost read alone"].append(time.perf_counter() - start)
            rerank = _rerank_times(get_engine(), args.clients, args.repeat)
            get_engine().dispose()
        medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.clients} clients, "
              f"{args.clients * 4} posts, {args.removals} decisions (a third removals); "
              f"chunk of {CHUNK} flags; {args.repeat} trials; last chunk: {len(boosted)} "
              "clients boosted")
        for name, ms in medians.items():
            print(f"  {name:18s} median {ms:8.2f} ms")
        print(f"  ratio with/without boost: {medians['with boost'] / medians['without boost']:.2f}")
        print("re-rank of one client's open flags (flags.rerank: the standing read + one UPDATE):")
        for n, ms in rerank.items():
            print(f"  {n:4d} open flags       median {ms:8.2f} ms")
    finally:
        drop()


if __name__ == "__main__":
    main()
