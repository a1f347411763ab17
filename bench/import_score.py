"""Import + score N posts (default 100,000), on SQLite and on PostgreSQL.

For each database, in one run:
- **bare insert** (the baseline): SQLAlchemy Core ``executemany`` of the same rows into
  ``job_post`` (chunks of 500, one commit each) - no validation, no upsert, no scoring;
- **import + score, inline** (the default, no Redis): ``flask import posts FILE`` in one
  process, each committed chunk scored right after its commit;
- **import only**: the same import with REDIS_URL and no worker (jobs queued, not run);
- **import + score, RQ** (PostgreSQL only): the same import with REDIS_URL, while one
  ``flask worker`` scores concurrently; the clock stops when every post is scored.

Prints posts/s end to end and the ratio to the bare insert measured in the same run. On
SQLite, where the database works inside the importing processes, it also prints their CPU
time and the best ratio that much CPU allows on this machine's cores (``report_cpu``).
Two post mixes (``--mix``):

- ``demo`` (the default): typical traffic. The demo marketplace generator
  (scripts/generate_demo_data.py, seed 11) writes 1,000 clients and the N posts, as
  ``make run`` loads them at 3,000: about 14% of the posts get flagged, and posts carry
  skills and budgets.
- ``seed``: a stress mix. The project's training seed corpus
  (data/seed/marketplace_posts.jsonl) cycled, with a unique reference appended to each
  text (so every content hash differs): about 60% scams, policy breaches or self-ads, so
  most posts get flags with evidence.

    .venv/bin/python bench/import_score.py [--posts 100000] [--only sqlite|postgresql]
        [--mix demo|seed] [--modes only,inline,rq1,rq2]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa

from harness import REDIS_URL, ROOT, Stack, migrate, postgres_database

from app.services.content import post_content_hash  # noqa: E402
from models import JobPost  # noqa: E402

SEED = ROOT / "data" / "seed" / "marketplace_posts.jsonl"
N_CLIENTS = 1000


def write_inputs(tmp: Path, n_posts: int, mix: str = "demo") -> tuple[Path, Path, list[dict]]:
    """The import files (clients, posts) and the post rows, for ``mix`` (module docstring)."""
    if mix == "demo":
        sys.path.insert(0, str(ROOT / "scripts"))
        from generate_demo_data import generate

        data = generate(seed=11, clients=N_CLIENTS, posts=n_posts)
        client_rows, rows = data["clients"], data["posts"]
    else:
        seeds = [json.loads(line) for line in SEED.read_text().splitlines() if line.strip()]
        posted = datetime(2026, 11, 1, tzinfo=timezone.utc).isoformat()
        client_rows = [{"external_id": f"bc-{i}", "name": f"Bench client {i}"}
                       for i in range(N_CLIENTS)]
        rows = []
        for i in range(n_posts):
            s = seeds[i % len(seeds)]
            rows.append({"external_id": f"bp-{i}", "client_id": f"bc-{i % N_CLIENTS}",
                         "title": s["title"], "description": f"{s['description']}\n\nRef {i}",
                         "category": s.get("category"), "posted_at": posted})
    clients, posts = tmp / f"clients-{mix}.jsonl", tmp / f"posts-{mix}.jsonl"
    for path, items in ((clients, client_rows), (posts, rows)):
        with path.open("w") as fh:
            fh.writelines(json.dumps(item) + "\n" for item in items)
    return clients, posts, rows


def bare_insert(db_url: str, clients_file: Path, rows: list[dict], stack: Stack) -> float:
    stack.flask("import", "clients", str(clients_file), "--no-progress")
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("SELECT external_id, id FROM client")).all())
    now = datetime.now(timezone.utc)
    prepared = [{"external_id": r["external_id"], "client_id": ids[r["client_id"]],
                 "title": r["title"], "description": r["description"],
                 "category": r["category"], "skills": r.get("skills") or [],
                 "budget": r.get("budget"),
                 "posted_at": datetime.fromisoformat(r["posted_at"].replace("Z", "+00:00")),
                 "status": "live",
                 "content_hash": post_content_hash(title=r["title"], description=r["description"],
                                                   category=r["category"],
                                                   skills=r.get("skills"), budget=r.get("budget")),
                 "created_at": now, "updated_at": now} for r in rows]
    # the columns typed as the model has them (skills: JSON), no other ORM machinery
    table = sa.table("job_post", *(sa.column(k, JobPost.__table__.c[k].type) for k in prepared[0]))
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


class Timed(NamedTuple):
    seconds: float  # wall clock
    cpu: float  # CPU (user + system) of the command's processes, its scoring children too


def _timed_import(stack: Stack, posts: Path) -> Timed:
    """``flask import posts`` timed: wall clock, and the CPU of its process tree (the
    processes it waited for, and theirs; on SQLite that is all the database work too, on
    PostgreSQL the server's backends are not in it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    stack.flask("import", "posts", str(posts), "--no-progress")
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(seconds, cpu)


def import_inline(db_url: str, tmp: Path, clients: Path, posts: Path) -> Timed:
    stack = Stack(db_url, tmp)
    stack.env.pop("REDIS_URL", None)
    stack.flask("import", "clients", str(clients), "--no-progress")
    return _timed_import(stack, posts)


def import_only(db_url: str, tmp: Path, clients: Path, posts: Path) -> Timed:
    """The import alone: scoring jobs are queued in Redis (and deleted), not run."""
    stack = Stack(db_url, tmp, REDIS_URL=REDIS_URL)
    try:
        stack.flask("import", "clients", str(clients), "--no-progress")
        return _timed_import(stack, posts)
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


def report(label: str, n: int, seconds: float, bare: float,
           flagged: float | None = None) -> None:
    rate, bare_rate = n / seconds, n / bare
    share = "" if flagged is None else f"  ({flagged:.0%} of posts flagged)"
    print(f"  {label:<28} {seconds:7.1f} s  {rate:8.0f} posts/s  ratio to bare insert "
          f"{rate / bare_rate:.3f}{share}")


def report_cpu(timed: Timed, bare: float) -> None:
    """SQLite: every process of the import is in ``timed.cpu``, the database's work included.
    Spread perfectly over the machine's cores it could not take less than cpu / cores: the
    best ratio this much work allows here, whatever the scheduling."""
    cores = os.cpu_count() or 1
    floor = timed.cpu / cores
    print(f"  {'':<28} CPU {timed.cpu:.1f} s in all: on {cores} cores at least {floor:.1f} s, "
          f"ratio at most {bare / floor:.3f}")


#: what can be measured beside the bare insert (which always runs: the ratios need it)
MODES = ("only", "inline", "rq1", "rq2")


def flagged_share(db_url: str) -> float:
    """The share of posts with an open flag (what the mix makes the workers write)."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        flagged, posts = conn.execute(sa.text(
            "SELECT (SELECT count(DISTINCT subject_id) FROM flag WHERE subject_type = 'post' "
            "AND status = 'open'), (SELECT count(*) FROM job_post)")).one()
    engine.dispose()
    return flagged / max(posts, 1)


def run_database(kind: str, new_url, tmp: Path, clients: Path, posts: Path, rows: list[dict],
                 n: int, modes: Sequence[str]) -> None:
    """Every mode asked for on one kind of database (``new_url()``: a fresh migrated one)."""
    print("SQLite:" if kind == "sqlite" else "PostgreSQL:")
    url = new_url()
    bare = bare_insert(url, clients, rows, Stack(url, tmp))
    print(f"  {'bare Core executemany':<28} {bare:7.1f} s  {n / bare:8.0f} posts/s")
    if "only" in modes:
        timed = import_only(new_url(), tmp, clients, posts)
        report("import only (jobs queued)", n, timed.seconds, bare)
        if kind == "sqlite":
            report_cpu(timed, bare)
    if "inline" in modes:
        url = new_url()
        timed = import_inline(url, tmp, clients, posts)
        assert scored(url) == n, "not every post was scored"
        report("import + score (inline)", n, timed.seconds, bare, flagged_share(url))
        if kind == "sqlite":
            report_cpu(timed, bare)
    for workers in (1, 2):
        if kind == "postgresql" and f"rq{workers}" in modes:
            url = new_url()
            seconds = import_with_worker(url, tmp, clients, posts, n, workers=workers)
            label = f"import + score ({workers} RQ worker{'s' if workers > 1 else ''})"
            report(label, n, seconds, bare, flagged_share(url))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    ap.add_argument("--mix", choices=["demo", "seed"], default="demo")
    ap.add_argument("--modes", default=",".join(MODES),
                    help=f"comma-separated, of {', '.join(MODES)} (the bare insert always runs)")
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        ap.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    n = args.posts
    os.environ.pop("REDIS_URL", None)
    with tempfile.TemporaryDirectory() as tmpdir, ExitStack() as databases:
        tmp = Path(tmpdir)
        clients, posts, rows = write_inputs(tmp, n, args.mix)
        print(f"import + score {n:,} posts ({N_CLIENTS} clients, {args.mix} mix), "
              f"{os.cpu_count()}-core machine")
        if args.only in (None, "sqlite"):
            counter = iter(range(1_000))
            run_database("sqlite", lambda: fresh_sqlite(tmp, f"db{next(counter)}.db"), tmp,
                         clients, posts, rows, n, modes)
        if args.only in (None, "postgresql"):
            def new_postgres() -> str:
                url = databases.enter_context(postgres_database())
                migrate(url)
                return url

            run_database("postgresql", new_postgres, tmp, clients, posts, rows, n, modes)


if __name__ == "__main__":
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))
    main()
