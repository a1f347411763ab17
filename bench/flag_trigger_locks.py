"""What migration 0023's locks cost a flag write on PostgreSQL: the flag triggers reading the
post ``FOR SHARE`` and taking the shared advisory lock on the client's name, against 0022's
triggers (plain reads), on the same database.

A throwaway database migrated to head, ``--clients`` clients with ``--posts`` posts between
them per round; each round opens one flag on each of its own posts, 500 posts a transaction
as a scoring chunk
(``INSERT INTO flag ... SELECT`` from job_post: the triggers run per row, as the scoring
upsert's do), once with 0023's trigger functions and once with 0022's (swapped with ``CREATE OR REPLACE``,
the migration's own texts), alternating, ``--repeat`` rounds. Prints min/median/max of the
insert's time per kind and the ratio of the medians.

    .venv/bin/python bench/flag_trigger_locks.py [--posts 20000] [--clients 2000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import time

import sqlalchemy as sa

import harness
from harness import ROOT, migrate, postgres_database

MIGRATION = ROOT / "migrations" / "versions" / "0023_drop_flagged_and_lock_trigger_reads.py"
OPEN_FLAGS = (
    "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score, status,"
    " priority, queue_key, version, created_at, updated_at, strike_boost, evidence,"
    " policy_types) SELECT 'post', id, client_id, id, 'scam', 0.9, 'open', 50, 50, 1, now(),"
    " now(), 0, '[]', '[]' FROM job_post WHERE id > :after ORDER BY id LIMIT :chunk")
#: flags per transaction (services.scoring.CHUNK posts a scoring transaction)
CHUNK = 500


def _migration():
    spec = importlib.util.spec_from_file_location("m0023", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(conn, clients: int, posts: int) -> None:
    conn.execute(sa.text(
        "INSERT INTO client (external_id, name, payment_verified, phone_verified,"
        " identity_verified, status, created_at, updated_at) SELECT 'c' || i, 'Client ' || i,"
        " false, false, false, 'active', now(), now() FROM generate_series(1, :n) i"),
        {"n": clients})
    conn.execute(sa.text(
        "INSERT INTO job_post (external_id, client_id, title, description, status, category,"
        " content_hash, posted_at, created_at, updated_at) SELECT 'p' || i,"
        " (SELECT min(id) FROM client) + i % :clients, 'Need a logo ' || i,"
        " 'Simple logo for my bakery, number ' || i, 'live', 'design_creative', 'h', now(),"
        " now(), now() FROM generate_series(1, :n) i"), {"n": posts, "clients": clients})
    conn.execute(sa.text("ANALYZE"))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--posts", type=int, default=20000)
    p.add_argument("--clients", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    m = _migration()
    kinds = {"0023 (locked reads)": m.LOCKED_FUNCTIONS, "0022 (plain reads)": m.UNLOCKED_FUNCTIONS}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    with postgres_database() as url:
        migrate(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            fill(conn, args.clients, args.posts * 2 * args.repeat)
            first = conn.execute(sa.text("SELECT min(id) - 1 FROM job_post")).scalar()
        for _ in range(args.repeat):
            for kind, functions in kinds.items():
                with engine.begin() as conn:
                    for ddl in functions:
                        conn.execute(sa.text(ddl))
                start = time.perf_counter()
                for after in range(0, args.posts, CHUNK):
                    with engine.begin() as conn:
                        conn.execute(sa.text(OPEN_FLAGS), {"after": first + after, "chunk": CHUNK})
                times[kind].append(time.perf_counter() - start)
                print(f"  {kind}: {times[kind][-1] * 1000:,.0f} ms", flush=True)
                first += args.posts  # the next round's posts: no flag on them yet
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM flag_search")).scalar() == \
                args.posts * 2 * args.repeat
        with engine.begin() as conn:  # as the migration left them
            for ddl in m.LOCKED_FUNCTIONS:
                conn.execute(sa.text(ddl))
        engine.dispose()
    print(f"{args.posts:,} flags opened, {CHUNK} a transaction, {args.clients:,} clients; "
          f"code: {harness.ROOT}")
    medians = {}
    for kind, values in times.items():
        medians[kind] = statistics.median(values)
        print(f"  {kind}: min {min(values) * 1000:,.0f} median {medians[kind] * 1000:,.0f} "
              f"max {max(values) * 1000:,.0f} ms (n={len(values)}); "
              f"{medians[kind] / args.posts * 1e6:.1f} us a flag")
    locked, plain = medians.values()
    print(f"locked / plain (medians): {locked / plain:.2f}")


if __name__ == "__main__":
    main()
