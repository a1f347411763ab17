"""Planner statistics after a bulk write.

Both databases plan each query from statistics about the tables' rows (how many, how the
values spread). A bulk import writes its rows faster than those statistics follow:

- PostgreSQL gathers them in the background (autovacuum's ``ANALYZE``), but only about a
  minute later; until then it plans from an empty table.
- SQLite never gathers them by itself: an application must run ``ANALYZE``.

Measured after a fresh import of 30,000 stress-mix posts (docs/benchmarks.md, twelfth
session): on PostgreSQL the queue's search for "telegram" took 69-105 ms until autovacuum
came, 9-10 ms after this refresh; the refresh took 0.5-0.7 s (~0.8 s after 100,000 posts).
On SQLite the queue pages did not change measurably at that size; the refresh costs under
0.05 s there, and keeps the plans informed as the tables grow. An import that wrote many
rows (``AFTER_ROWS``) refreshes the statistics of its tables at its end (``refresh``). On
SQLite, ``PRAGMA analysis_limit`` bounds the work: ``ANALYZE`` reads at most that many
entries of each index (approximate statistics in a bounded time, as SQLite advises).
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session

#: an import that wrote at least this many rows refreshes its tables' statistics (fewer
#: change no plan; PostgreSQL's autovacuum catches up with them anyway)
AFTER_ROWS = 1000
#: SQLite: entries of each index ``ANALYZE`` reads at most
SQLITE_ANALYSIS_LIMIT = 1000


def refresh(session: Session, tables: Sequence[sa.Table]) -> None:
    """``ANALYZE`` these tables, then commit. (Other databases: nothing.)"""
    bind = session.get_bind()
    names = [bind.dialect.identifier_preparer.format_table(table) for table in tables]
    if bind.dialect.name == "postgresql":
        session.execute(sa.text(f"ANALYZE {', '.join(names)}"))
    elif bind.dialect.name == "sqlite":
        session.execute(sa.text(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
        try:
            for name in names:
                session.execute(sa.text(f"ANALYZE {name}"))
        finally:
            session.execute(sa.text("PRAGMA analysis_limit = 0"))  # the default: no limit
    session.commit()


#: a count over a table with fewer rows than this (by the planner's statistics) is exact;
#: over a larger one on PostgreSQL it is the planner's estimate ("about"), not a scan
EXACT_COUNT_BELOW = 50_000


#: a PostgreSQL table never analysed (``reltuples`` -1) smaller than this is counted
EXACT_COUNT_BELOW_BYTES = 8 * 1024 * 1024


def table_sizes(session: Session, tables: Sequence[sa.Table]) -> dict[str, tuple[float, int]]:
    """PostgreSQL: each table's rows by its statistics (``reltuples``: -1 if never
    analysed) and its size in bytes now, in one statement."""
    rows = session.execute(sa.text(
        "SELECT relname, reltuples, pg_relation_size(oid) FROM pg_class "
        "WHERE oid = ANY(CAST(:names AS regclass[]))"), {"names": [t.name for t in tables]})
    return {name: (float(rows_), int(size)) for name, rows_, size in rows}


def count_or_estimate(session: Session, table: sa.Table, rows: sa.Select,
                      sizes: dict[str, tuple[float, int]] | None = None) -> tuple[int, bool]:
    """How many rows ``rows`` (a SELECT of the matching rows of ``table``) finds, and whether
    that is exact. SQLite, and a small PostgreSQL table (fewer than ``EXACT_COUNT_BELOW``
    rows by its statistics; if never analysed, under ``EXACT_COUNT_BELOW_BYTES``):
    ``count(*)``, exact. A larger PostgreSQL table: the planner's estimate of the rows
    ``rows`` returns (``EXPLAIN``, from the statistics of the last ``ANALYZE``; at least 1:
    the planner never estimates 0), without reading the table: a count over a million posts
    is a full scan (~150-500 ms), the estimate about a millisecond. ``sizes``: the
    ``table_sizes`` of the caller, if it has them."""
    if session.get_bind().dialect.name == "postgresql":
        sizes = sizes or table_sizes(session, [table])
        reltuples, size = sizes.get(table.name, (-1.0, 0))
        small = (reltuples < EXACT_COUNT_BELOW if reltuples >= 0
                 else size < EXACT_COUNT_BELOW_BYTES)
        if not small:
            return _planned_rows(session, rows), False
    return int(session.execute(sa.select(sa.func.count()).select_from(rows.subquery()))
               .scalar_one()), True


def set_based(session: Session) -> bool:
    """Whether this session's database keeps planner statistics to estimate from."""
    return session.get_bind().dialect.name == "postgresql"


def _planned_rows(session: Session, rows: sa.Select) -> int:
    compiled = rows.compile(dialect=session.get_bind().dialect)
    plan = session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}",
                                                compiled.params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
