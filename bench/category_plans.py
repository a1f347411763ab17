"""The queue under a category filter, in PostgreSQL's own figures: EXPLAIN (ANALYZE,
BUFFERS) of the list query (first page, 50 rows + 1) and of the capped per-reason counts
(``services.queue._filtered_sample``) for the rarest, a middle and the commonest category
among open flags, each run ``--rounds`` times (the median and the spread printed), with the
plan's top node and the buffers it touched. Read-only; asserts nothing.

    DATABASE_URL=postgresql+psycopg://.../db .venv/bin/python bench/category_plans.py \
        [--rounds 5] [--root /path/to/other/checkout] [--plans]

``--root``: import the app from another checkout (e.g. ``git archive`` of an older commit)
to measure its queries against the same database.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path


def measure(conn, stmt, params: dict, rounds: int) -> tuple[list[float], dict]:  # noqa: ANN001
    compiled = stmt.compile(dialect=conn.dialect)
    sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled)
    values = compiled.construct_params(params)
    times, plan = [], {}
    for _ in range(rounds):
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(sql, values)
        raw = cursor.fetchone()[0]
        plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
        times.append(plan["Execution Time"])
    return times, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--plans", action="store_true", help="print each plan (text)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    import sqlalchemy as sa

    from app.services import queue as q
    from models import utcnow

    engine = sa.create_engine(os.environ["DATABASE_URL"])
    with engine.connect() as conn:
        ranked = conn.execute(sa.text(
            "SELECT p.category, count(*) FROM flag f JOIN job_post p ON p.id = f.post_id "
            "WHERE f.status = 'open' AND p.category IS NOT NULL GROUP BY 1 ORDER BY 2")).all()
        total = conn.execute(sa.text("SELECT count(*) FROM flag WHERE status = 'open'")).scalar()
        print(f"open flags: {total}; checkout: {args.root}")
        picks = [ranked[0], ranked[len(ranked) // 2], ranked[-1]]
        now = utcnow()
        for category, n in picks:
            filters = q.Filters(category=category)
            params = q._params(filters, moderator_id=None, now=now, after=None)
            shape = q._Shape.of(filters, None)
            for name, stmt in (("list", q._statement(shape, 51)),
                               ("counts", q._filtered_sample(shape))):
                times, plan = measure(conn, stmt, params, args.rounds)
                top = plan["Plan"]
                print(f"{category:<26} {n:>6} open ({n / total:.4f})  {name:<6} "
                      f"median {statistics.median(times):8.2f} ms "
                      f"(min {min(times):.2f}, max {max(times):.2f})  "
                      f"buffers hit {top.get('Shared Hit Blocks', 0)} "
                      f"read {top.get('Shared Read Blocks', 0)}")
                if args.plans:
                    text = conn.connection.dbapi_connection.cursor()
                    compiled = stmt.compile(dialect=conn.dialect)
                    text.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled),
                                 compiled.construct_params(params))
                    print("\n".join(r[0] for r in text.fetchall()))
    engine.dispose()


if __name__ == "__main__":
    main()
