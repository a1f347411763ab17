"""Import + score feedback on PostgreSQL: ``flask import feedback FILE`` without Redis
(the default: each chunk's scoring runs beside the import of the next), the clock from
the start of the command until every feedback and client is scored (the command waits for
its scoring before it returns).

Data: the demo marketplace generator (scripts/generate_demo_data.py, seed 11) with
``--clients`` clients (default 5,000: ~4-5 feedbacks each, a few consistently negative);
its clients are imported first (not timed). Prints rows/s for each of ``--repeat`` runs,
each into a fresh database, and the median.

    .venv/bin/python bench/import_feedback.py [--clients 5000] [--repeat 3]
        [--root /path/to/other/checkout]   # the same bench against another checkout's code
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

import harness
from harness import ROOT, Stack, migrate, postgres_database


def write_inputs(tmp: Path, clients: int) -> tuple[Path, Path, int]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from generate_demo_data import generate

    data = generate(seed=11, clients=clients, posts=200)
    paths = []
    for kind in ("clients", "feedback"):
        path = tmp / f"{kind}.jsonl"
        with path.open("w") as fh:
            fh.writelines(json.dumps(item) + "\n" for item in data[kind])
        paths.append(path)
    return paths[0], paths[1], len(data["feedback"])


def run_once(tmp: Path, clients_file: Path, feedback_file: Path) -> tuple[float, int, int]:
    with postgres_database() as url:
        migrate(url)
        stack = Stack(url, tmp)
        stack.env.pop("REDIS_URL", None)
        stack.flask("import", "clients", str(clients_file), "--no-progress")
        start = time.perf_counter()
        out = stack.flask("import", "feedback", str(feedback_file), "--no-progress")
        elapsed = time.perf_counter() - start
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            unscored = conn.execute(sa.text(
                "SELECT count(*) FROM feedback WHERE scored_at IS NULL")).scalar()
            clients = conn.execute(sa.text(
                "SELECT count(*) FROM client WHERE scored_at IS NOT NULL")).scalar()
        engine.dispose()
        print(f"  {out.strip().splitlines()[-1]}; unscored after: {unscored}; "
              f"clients scored: {clients}", flush=True)
        return elapsed, unscored, clients


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--root", type=Path, default=None,
                   help="run the flask commands of another checkout (e.g. before a change)")
    args = p.parse_args()
    if args.root:
        harness.ROOT = args.root.resolve()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clients_file, feedback_file, n = write_inputs(tmp, args.clients)
        print(f"{n:,} feedback rows of {args.clients:,} clients; code: {harness.ROOT}")
        rates = []
        for _ in range(args.repeat):
            elapsed, _unscored, _clients = run_once(tmp, clients_file, feedback_file)
            rates.append(n / elapsed)
            print(f"  {elapsed:.1f} s: {n / elapsed:,.0f} rows/s", flush=True)
        print(f"feedback import + score: min {min(rates):,.0f} median "
              f"{statistics.median(rates):,.0f} max {max(rates):,.0f} rows/s (n={len(rates)})")


if __name__ == "__main__":
    main()
