"""The queue's search and policy filter in PostgreSQL's own figures: EXPLAIN (ANALYZE,
BUFFERS) of each statement a page runs, as the app binds it (custom plans, as the search
runs them), ``--rounds`` times each: for every search term its statements (since migration
0022: the head walk, the matches path and the capped counts; since the search reads its
page's ids first: the two id statements and the rows of the ids; before 0022: the list and the
counts), and for every policy type the list and the capped counts per reason. Prints the
median and the fastest time, the buffers (shared hit + read) and the rows. Read-only;
asserts nothing.

    .venv/bin/python bench/search_plans.py URL [--terms telegram,logo,banner,zqxjvkw]
        [--rounds 3] [--root /path/to/other/checkout] [--no-policy]

``URL``: a database (e.g. a clone of a ``tdbench_tpl_*`` template). ``--root``: import the
app from another checkout (a ``git archive`` of an older commit) against the same database.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import sys
from pathlib import Path


def explain(session, stmt, params: dict, rounds: int) -> tuple[list[float], list[float], int, str]:  # noqa: ANN001, E501
    """Execution and planning times (ms), buffers and rows of ``stmt``, planned each time
    for the values bound (as the app runs the search's statements)."""
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    times, planning, plan = [], [], []
    for _ in range(rounds):
        plan = [line for (line,) in session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.construct_params(params))]
        times.append(float(re.search(r"Execution Time: ([\d.]+)", "\n".join(plan)).group(1)))
        planning.append(float(re.search(r"Planning Time: ([\d.]+)", "\n".join(plan)).group(1)))
    found = re.search(r"shared hit=(\d+)(?: read=(\d+))?", "\n".join(plan))
    buffers = int(found.group(1)) + int(found.group(2) or 0) if found else 0
    return times, planning, buffers, re.search(r"rows=(\d+) loops", plan[0]).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--terms", default="telegram,logo,banner,zqxjvkw")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--no-policy", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    import sqlalchemy as sa

    from app.db import session_scope
    from app.services import queue
    from models import PolicyType
    from models.base import utcnow
    from tests.helpers import make_app

    def show(label: str, stmt, params: dict) -> None:  # noqa: ANN001
        times, planning, buffers, rows = explain(session, stmt, params, args.rounds)
        print(f"{label:34} {statistics.median(times):9.2f} ms (min {min(times):8.2f}) "
              f"{buffers:8,} buffers {rows:>5} rows; planning {statistics.median(planning):6.2f}"
              " ms", flush=True)

    with make_app(args.url).app_context(), session_scope() as session:
        for term in [t for t in args.terms.split(",") if t]:
            filters = queue.Filters(q=term)
            shape = queue._Shape.of(filters, None)
            params = queue._params(filters, moderator_id=None, now=utcnow(), after=None)
            if hasattr(queue, "_ids_statement"):  # the page's ids, then their rows
                head = dataclasses.replace(shape, walk=queue.SEARCH_WALK)
                show(f"q={term} head walk (ids)", queue._ids_statement(head, 51), params)
                show(f"q={term} matches (ids)", queue._ids_statement(shape, 51), params)
                ids = [i for (i,) in session.execute(queue._ids_statement(shape, 51), params)]
                show(f"q={term} rows of the ids", queue._by_ids(),
                     {"ids": ids, "queue_now": params["queue_now"]})
            elif hasattr(queue, "SEARCH_WALK"):  # migration 0022 on
                head = dataclasses.replace(shape, walk=queue.SEARCH_WALK)
                show(f"q={term} head walk", queue._statement(head, 51), params)
                show(f"q={term} matches", queue._statement(shape, 51), params)
            else:
                show(f"q={term} list", queue._statement(shape, 51), params)
            show(f"q={term} counts", queue._search_sample(shape), params)
        if not args.no_policy:
            for policy in PolicyType:
                filters = queue.Filters(policy=policy.value)
                shape = queue._Shape.of(filters, None)
                params = queue._params(filters, moderator_id=None, now=utcnow(), after=None)
                show(f"policy={policy.value} list", queue._statement(shape, 51), params)
                show(f"policy={policy.value} counts", queue._filtered_sample(shape), params)


if __name__ == "__main__":
    main()
