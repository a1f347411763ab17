"""Writes of many rows at once: on PostgreSQL one set-based statement, elsewhere an
executemany.

Why. An executemany on PostgreSQL runs the statement once per row: psycopg pipelines the
rows (one round trip), but the server still binds, starts and ends an executor per row,
and for an ``INSERT ... ON CONFLICT`` or an ``UPDATE`` guarded by a join that costs more
than the row's own work (measured on the scoring path: the flag upsert ~125-175 us a flag
as an executemany, ~95 as one statement; the score update of ``job_post`` ~200 against
~140 us a post). Here the rows travel as ONE JSON parameter, and PostgreSQL expands it
with ``json_to_recordset(...) AS v(column type, ...)``: one statement, one plan, one
executor for the whole set. (Arrays per column through ``unnest`` were slower: psycopg
escapes text arrays with a regular expression per element, and JSON values are full of
quotes.)

JSON carries what the rows hold here: text, numbers (Python's ``repr`` of a float
round-trips exactly through PostgreSQL's float8), booleans, NULL, nested JSON values, and
aware datetimes as ISO 8601 text, which PostgreSQL reads back to the microsecond. A None
in a JSON column arrives as SQL NULL (the ORM's executemany writes JSON ``null``): both read
back as None, and no query here tells them apart.

New rows go in the same way (``insert_returning``), and lookups by many keys take one array
parameter (``among``, ``among_ids``): the statement text stays the same whatever the number
of rows, so neither SQLAlchemy nor psycopg builds and parses a new one per chunk.

SQLite keeps the executemany: it has no per-statement executor to amortise, and its
driver's executemany is already a tight loop.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.util import identity_key
from sqlalchemy.orm.attributes import set_committed_value

ROWS = "bulk_rows"
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                            default=lambda value: _default(value))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in a bulk write: store aware (UTC) datetimes")
        return _isoformat(value, value.tzinfo)
    raise TypeError(f"cannot send {type(value).__name__} in a bulk write")


@functools.lru_cache(maxsize=1024)
def _isoformat(value: datetime, tzinfo: Any) -> str:
    """``value.isoformat()``, remembered: a chunk's rows share their timestamps (the
    ``now`` of the write), and an aware isoformat costs ~1-3 us. Keyed by the zone as well:
    equal instants in other zones compare (and hash) equal but print differently."""
    return value.isoformat()


def set_based(session: Any) -> bool:
    """Whether ``recordset`` statements run on this session's database (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


@functools.cache
def recordset(table: sa.Table, names: tuple[str, ...], alias: str = "v") -> sa.TableValuedAlias:
    """``json_to_recordset(CAST(:bulk_rows AS JSON)) AS v(name type, ...)``: the rows of the
    ``ROWS`` parameter (see ``payload``) as a FROM item whose columns have ``table``'s types."""
    fn = sa.func.json_to_recordset(sa.cast(sa.bindparam(ROWS, type_=sa.Text), sa.JSON))
    return fn.table_valued(*[sa.column(n, table.c[n].type) for n in names]).render_derived(
        name=alias, with_types=True)


def payload(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, str]:
    """The statement parameter carrying ``rows`` (only the ``names`` columns)."""
    return {ROWS: _ENCODER.encode([{n: row[n] for n in names} for row in rows])}


@functools.cache
def insert_returning(table: sa.Table, names: tuple[str, ...], returning: tuple[str, ...],
                     shared: tuple[str, ...] = (), nulls: tuple[str, ...] = ()) -> sa.Insert:
    """``INSERT INTO table (names, shared, nulls) SELECT ... FROM recordset(...) RETURNING
    returning``: the rows of one ``payload`` inserted by one statement (instead of an
    ``insertmanyvalues`` executemany, whose multi-row VALUES text psycopg re-parses for every
    chunk: 500 rows of 11 columns are 5,500 placeholders, ~85 us a row of the import's own
    CPU). Values every row shares are not repeated in the payload: each ``shared`` column
    takes the parameter of the same name (see ``split_shared``), each ``nulls`` column NULL."""
    rows = recordset(table, names)
    values = [*(rows.c[n] for n in names),
              *(sa.bindparam(_SHARED + n, type_=table.c[n].type) for n in shared),
              *(sa.null() for _ in nulls)]
    return table.insert().from_select([*names, *shared, *nulls], sa.select(*values)) \
        .returning(*[table.c[n] for n in returning])


_SHARED = "shared_"


def split_shared(shared: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...],
                                                      dict[str, Any]]:
    """``insert_returning``'s ``shared`` and ``nulls`` column names for these shared values,
    and the statement parameters that carry the non-None ones."""
    given = tuple(name for name, value in shared.items() if value is not None)
    nulls = tuple(name for name, value in shared.items() if value is None)
    return given, nulls, {_SHARED + name: shared[name] for name in given}


def update_rows(session: Any, model: type, rows: Sequence[Mapping[str, Any]],
                shared: Mapping[str, Any] | None = None) -> None:
    """``UPDATE <model's table> SET ... WHERE id = :id`` for each of ``rows`` (all with the
    same keys, ``id`` among them; the other keys are the columns set), plus the ``shared``
    columns every row takes the same value of: on PostgreSQL one statement over the rows'
    ``payload``, elsewhere an executemany. Core: no model objects loaded, built or flushed;
    an object of one of these rows that the session holds already is given the new values
    as its committed state (as if it had been read afresh)."""
    if not rows:
        return
    table = model.__table__
    names = tuple(rows[0])
    shared = dict(shared or {})
    stmt = _update_statement(table, names, tuple(shared), set_based(session))
    given = {_SHARED + n: v for n, v in shared.items()}
    if set_based(session):
        session.execute(stmt, {**payload(rows, names), **given})
    else:
        session.execute(stmt, [{**{_ROW + n: row[n] for n in names}, **given} for row in rows])
    loaded = session.identity_map
    for row in rows:
        obj = loaded.get(identity_key(model, row["id"]))
        if obj is not None:
            for name, value in (*((n, row[n]) for n in names if n != "id"), *shared.items()):
                set_committed_value(obj, name, value)


_ROW = "row_"


@functools.cache
def _update_statement(table: sa.Table, names: tuple[str, ...], shared: tuple[str, ...],
                      set_based: bool) -> sa.Update:
    values = {n: sa.bindparam(_SHARED + n, type_=table.c[n].type) for n in shared}
    if set_based:
        rows = recordset(table, names)
        return table.update().where(table.c.id == rows.c.id).values(
            **{n: rows.c[n] for n in names if n != "id"}, **values)
    return table.update().where(table.c.id == sa.bindparam(_ROW + "id")).values(
        **{n: sa.bindparam(_ROW + n, type_=table.c[n].type) for n in names if n != "id"},
        **values)


def _array(column: sa.ColumnElement, values: Sequence[Any]) -> sa.BindParameter:
    return sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))


def among(column: sa.ColumnElement, values: Sequence[Any],
          set_based: bool) -> sa.ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL (``set_based``) ``column IN (SELECT
    unnest(:array))``: one parameter and one statement text whatever the number of values
    (an expanding ``IN`` of 500 values is a new text of 500 placeholders that psycopg parses
    again on every call), and a set the planner joins against - a hash semi-join where it
    scans a small table, index lookups in a large one.

    Not ``column = ANY(:array)``: where PostgreSQL scans the table (a small one, such as the
    clients), that compares each row with every element in turn - measured: 500 client ids
    against 1,000 clients, 5.9 ms as ``= ANY``, 0.55 ms as the semi-join; an import looks up
    its posts' clients once per chunk."""
    if not set_based:
        return column.in_(values)
    return column.in_(sa.select(sa.func.unnest(_array(column, values))))


def among_ids(column: sa.ColumnElement, ids: Sequence[int],
              set_based: bool) -> sa.ColumnElement[bool]:
    """``column IN (ids)`` for integer ids that lie close together (a chunk of posts); on
    PostgreSQL ``column BETWEEN min AND max AND column = ANY(:array)``: the ids are index
    lookups inside the range. The range keeps an index scan narrow whatever the statistics
    say. Without it, while a bulk import grows a table faster than autovacuum analyses it,
    PostgreSQL may read the ``= ANY`` as a filter over every row of the index (every open
    post flag, for each chunk: ~5 ms a chunk at 13,000 open flags, growing with the table)
    instead of 500 index lookups."""
    if not set_based or not ids:
        return column.in_(ids)
    return sa.and_(column.between(min(ids), max(ids)), column == sa.any_(_array(column, ids)))


def last_per_key(rows: Sequence[Mapping[str, Any]], key: Sequence[str]) -> list[Mapping[str, Any]]:
    """The rows with one per ``key`` (the last, as an executemany would leave it): one
    ``INSERT ... ON CONFLICT DO UPDATE`` may not touch the same row twice."""
    out: dict[tuple, Mapping[str, Any]] = {}
    for row in rows:
        k = tuple(row[n] for n in key)
        out.pop(k, None)
        out[k] = row
    return list(out.values())


def ids_in(session: Any, column: sa.ColumnElement, ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """``among_ids`` on this session's database: the ``IN`` of a chunk of ids (a bulk
    action's 200 flags, posts, decisions) as one array parameter on PostgreSQL, whose
    statement text is the same whatever the ids (an expanding ``IN`` of 200 is a new text
    that SQLAlchemy expands and psycopg parses again on every call)."""
    return among_ids(column, sorted(ids), set_based(session))


def insert_ids(session: Any, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """``insert_rows`` returning the new ids in the order of ``rows`` (both engines number
    the rows of one insert in the payload's order). Core, not the ORM: no model objects
    built and validated (a bulk action's 200 decisions and audit events)."""
    return sorted(r[0] for r in insert_rows(session, table, [dict(r) for r in rows], returning=("id",)))


def insert_rows(session: Any, table: sa.Table, rows: list[dict[str, Any]], *,
                returning: tuple[str, ...] = ()) -> list[tuple]:
    """Insert ``rows`` (all with the same keys) with one statement: on PostgreSQL as one
    JSON parameter (``insert_returning``), elsewhere an executemany. Returns the
    ``returning`` columns of the new rows, in no particular order."""
    if not rows:
        return []
    names = tuple(rows[0])
    if set_based(session):
        result = session.execute(insert_returning(table, names, returning or ("id",)),
                                 payload(rows, names))
        return [tuple(row) for row in result] if returning else []
    if returning:
        return [tuple(row) for row in session.execute(
            table.insert().returning(*(table.c[n] for n in returning)), rows)]
    session.execute(table.insert(), rows)
    return []
