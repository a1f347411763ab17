"""Hot read paths that skip the ORM: statements run on the session's connection (its
transaction) and come back as plain tuples, or as read-only records of a table's columns.

Why. For the console's busiest pages SQLAlchemy's per-statement work (the ORM's result
handling, an entity and its instance state per row, the cache key, a ``Row`` and a type
processor per value) cost more than PostgreSQL took to run the statements. On PostgreSQL
the statements, compiled once, run on psycopg's own cursor; several statements go out in
one pipeline (one round trip). psycopg already returns what the pages need: aware
datetimes (in UTC: ``app.db`` sets the connection's time zone), floats, booleans, text,
parsed JSON. Elsewhere (SQLite stores datetimes as text) SQLAlchemy Core runs them, so its
types do the conversions; both paths give the same values.

Only for reads: these statements bypass SQLAlchemy's events, so ``transactions``'s
write-tracking (which decides commit or rollback at the end of a request) never sees them.
A statement that writes must not go through here.
"""
from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

Query = tuple[sa.Select, dict[str, Any]]


def fetch(session: Session, stmt: sa.Select, params: dict[str, Any], *,
          prepare: bool | None = None) -> list[tuple]:
    """The rows of ``stmt`` as tuples, in its column order."""
    return fetch_each(session, [(stmt, params)], prepare=prepare)[0]


def fetch_each(session: Session, queries: Sequence[Query], *,
               prepare: bool | None = None) -> list[list[tuple]]:
    """The rows of each statement, in order; on PostgreSQL in one round trip. ``prepare``
    (PostgreSQL): psycopg's own choice (None: a statement run 5 times is prepared, and
    PostgreSQL may then run it on a generic plan), or False: never prepared, so planned
    for the values bound each time."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return [[tuple(r) for r in conn.execute(stmt, params)] for stmt, params in queries]
    driver = conn.connection.driver_connection
    prepared = [(compiled(stmt, conn.dialect), params) for stmt, params in queries]
    if len(prepared) == 1 or not _pipelines():
        out = []
        for (sql, c), params in prepared:
            with driver.cursor() as cursor:
                cursor.execute(sql, c.construct_params(params), prepare=prepare)
                out.append(cursor.fetchall())
        return out
    cursors = []
    try:
        with driver.pipeline():
            for (sql, c), params in prepared:
                cursor = driver.cursor()
                cursors.append(cursor)
                cursor.execute(sql, c.construct_params(params), prepare=prepare)
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


@functools.cache
def _pipelines() -> bool:
    """psycopg's pipeline mode is there (libpq 14 or newer: psycopg[binary] bundles one;
    a pure-Python psycopg on an older system libpq runs the statements one by one)."""
    import psycopg

    return psycopg.Pipeline.is_supported()


@functools.lru_cache(maxsize=256)
def compiled(stmt: sa.Select, dialect: sa.engine.Dialect) -> tuple[str, sa.sql.compiler.Compiled]:
    """``stmt`` compiled for ``dialect``, and its SQL. For statements built once (module
    level or cached builders), so this runs once per statement."""
    c = stmt.compile(dialect=dialect)
    return c.string, c


@functools.cache
def record(table: sa.Table) -> type:
    """A read-only record of ``table``'s columns (a named tuple, fields named as the
    model's attributes, in the table's column order): what ``columns(table)`` selects."""
    return namedtuple(f"{table.name.title().replace('_', '')}Record",
                      [c.key for c in table.c])


def columns(table: sa.Table) -> list[sa.Column]:
    """The columns a ``record(table)`` is made of, in its order (to select)."""
    return list(table.c)


def take(row: tuple, start: int, table: sa.Table) -> tuple[Any, int]:
    """The ``record(table)`` at ``row[start:]``, and where the next one starts; None when
    its first column (the primary key, from an outer join) is NULL."""
    kind = record(table)
    end = start + len(kind._fields)
    return (kind._make(row[start:end]) if row[start] is not None else None), end
