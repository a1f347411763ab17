"""Import + score N posts (default 100,000), on SQLite and on PostgreSQL.

For each database, in one run:
- **bare insert** (the baseline): SQLAlchemy Core ``executemany`` of the same rows into
  ``job_post`` (chunks of 500, one commit each) - no validation, no upsert, no scoring;
- **import + score, inline** (the default, no Redis): ``flask import posts FILE`` in one
  process, each committed chunk scored right after its commit;
- **import only**: the same import with REDIS_URL and no worker (jobs queued, not run);
- **import + score, RQ** (PostgreSQL only): the same import with REDIS_URL, while one
  ``flask worker`` scores concurrently; the clock stops when every post is scored.

Prints posts/s end to end and the ratio to the bare insert measured in the same run.
Posts are cycled from the project's seed corpus (data/seed/marketplace_posts.jsonl) with
a unique reference appended, so texts are realistic and every content hash differs.

    .venv/bin/python bench/import_score.py [--posts 100000] [--only sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from harness import REDIS_URL, ROOT, Stack, migrate, postgres_database

from app.services.content import post_content_hash  # noqa: E402

SEED = ROOT / "data" / "seed" / "marketplace_posts.jsonl"
N_CLIENTS = 1000


def write_inputs(tmp: Path, n_posts: int) -> tuple[Path, Path, list[dict]]:
    seeds = [json.loads(line) for line in SEED.read_text().splitlines() if line.strip()]
    posted = datetime(2026, 11, 1, tzinfo=timezone.utc).isoformat()
    clients = tmp / "clients.jsonl"
    with clients.open("w") as fh:
        for i in range(N_CLIENTS):
            fh.write(json.dumps({"external_id": f"bc-{i}", "name": f"Bench client {i}"}) + "\n")
    posts = tmp / "posts.jsonl"
    rows = []
    with posts.open("w") as fh:
        for i in range(n_posts):
            s = seeds[i % len(seeds)]
            row = {"external_id": f"bp-{i}", "client_id": f"bc-{i % N_CLIENTS}",
                   "title": s["title"], "description": f"{s['description']}\n\nRef {i}",
                   "category": s.get("category"), "posted_at": posted}
            fh.write(json.dumps(row) + "\n")
            rows.append(row)
    return clients, posts, rows


def bare_insert(db_url: str, clients_file: Path, rows: list[dict], stack: Stack) -> float:
    stack.flask("import", "clients", str(clients_file), "--no-progress")
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT external_id, id FROM client")).all())
    now = datetime.now(timezone.utc)
    prepared = [{"external_id": r["external_id"], "client_id": ids[r["client_id"]],
                 "title": r["title"], "description": r["description"],
                 "category": r["category"], "posted_at": now, "status": "live",
                 "content_hash": post_content_hash(title=r["title"], description=r["description"],
                                                   category=r["category"], skills=None,
                                                   budget=None),
                 "created_at": now, "updated_at": now} for r in rows]
    table = sa.table("job_post", *(sa.column(k) for k in prepared[0]))
    start = time.perf_counter()
    with engine.connect() as conn:
        for i in range(0, len(prepared), 500):
            conn.execute(table.insert(), prepared[i:i + 500])
            conn.commit()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def scored(db_url: str) -> int:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM job_post WHERE scored_at IS NOT NULL")).scalar()
    engine.dispose()
    return n


def import_inline(db_url: str, tmp: Path, clients: Path, posts: Path) -> float:
    stack = Stack(db_url, tmp)
    stack.env.pop("REDIS_URL", None)
    stack.flask("import", "clients", str(clients), "--no-progress")
    start = time.perf_counter()
    stack.flask("import", "posts", str(posts), "--no-progress")
    return time.perf_counter() - start


def import_only(db_url: str, tmp: Path, clients: Path, posts: Path) -> float:
    """The import alone: scoring jobs are queued in Redis (and deleted), not run."""
    stack = Stack(db_url, tmp, REDIS_URL=REDIS_URL)
    try:
        stack.flask("import", "clients", str(clients), "--no-progress")
        start = time.perf_counter()
        stack.flask("import", "posts", str(posts), "--no-progress")
        return time.perf_counter() - start
    finally:
        stack.stop()


def wait_for_scoring_jobs(stack: Stack) -> None:
    """Until the workers have no scoring job waiting or running. Asks Redis, not the database:
    counting scored posts scans ``job_post`` (no index on ``scored_at``), which polled every
    few ms would take CPU from the workers it is timing."""
    import redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    queue = Queue(f"{stack.prefix}-scoring", connection=redis.Redis.from_url(REDIS_URL))
    started = StartedJobRegistry(queue=queue)
    while queue.count or started.count:
        time.sleep(0.02)


def import_with_worker(db_url: str, tmp: Path, clients: Path, posts: Path, n: int,
                       workers: int = 1) -> float:
    stack = Stack(db_url, tmp, REDIS_URL=REDIS_URL)
    try:
        stack.flask("import", "clients", str(clients), "--no-progress")
        for i in range(workers):
            stack.worker(f"w{i}")
        stack.wait_for_workers(workers)
        start = time.perf_counter()
        stack.flask("import", "posts", str(posts), "--no-progress")
        wait_for_scoring_jobs(stack)
        while scored(db_url) < n:  # a job that failed and retries (none expected)
            time.sleep(0.25)
        return time.perf_counter() - start
    finally:
        stack.stop()


def fresh_sqlite(tmp: Path, name: str) -> str:
    url = f"sqlite:///{tmp / name}"
    migrate(url)
    return url


def report(label: str, n: int, seconds: float, bare: float) -> None:
    rate, bare_rate = n / seconds, n / bare
    print(f"  {label:<28} {seconds:7.1f} s  {rate:8.0f} posts/s  ratio to bare insert "
          f"{rate / bare_rate:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    n = args.posts
    os.environ.pop("REDIS_URL", None)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        clients, posts, rows = write_inputs(tmp, n)
        print(f"import + score {n:,} posts ({N_CLIENTS} clients), 2-core machine")
        if args.only in (None, "sqlite"):
            bare = bare_insert(fresh_sqlite(tmp, "bare.db"), clients, rows,
                               Stack(f"sqlite:///{tmp / 'bare.db'}", tmp))
            print("SQLite:")
            print(f"  {'bare Core executemany':<28} {bare:7.1f} s  {n / bare:8.0f} posts/s")
            seconds = import_only(fresh_sqlite(tmp, "only.db"), tmp, clients, posts)
            report("import only (jobs queued)", n, seconds, bare)
            url = fresh_sqlite(tmp, "inline.db")
            seconds = import_inline(url, tmp, clients, posts)
            assert scored(url) == n, "not every post was scored"
            report("import + score (inline)", n, seconds, bare)
        if args.only in (None, "postgresql"):
            with postgres_database() as bare_url, postgres_database() as inline_url, \
                    postgres_database() as rq_url, postgres_database() as only_url, \
                    postgres_database() as rq2_url:
                for url in (bare_url, inline_url, rq_url, only_url, rq2_url):
                    migrate(url)
                bare = bare_insert(bare_url, clients, rows, Stack(bare_url, tmp))
                print("PostgreSQL:")
                print(f"  {'bare Core executemany':<28} {bare:7.1f} s  {n / bare:8.0f} posts/s")
                seconds = import_only(only_url, tmp, clients, posts)
                report("import only (jobs queued)", n, seconds, bare)
                seconds = import_inline(inline_url, tmp, clients, posts)
                assert scored(inline_url) == n, "not every post was scored"
                report("import + score (inline)", n, seconds, bare)
                seconds = import_with_worker(rq_url, tmp, clients, posts, n)
                report("import + score (1 RQ worker)", n, seconds, bare)
                seconds = import_with_worker(rq2_url, tmp, clients, posts, n, workers=2)
                report("import + score (2 RQ workers)", n, seconds, bare)


if __name__ == "__main__":
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))
    main()
