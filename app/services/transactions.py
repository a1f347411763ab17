"""Which transactions wrote, and which lost a race (``lost_race``). ``track_writes(engine)`` notes on each connection whether its
current transaction ran any statement other than a SELECT; ``wrote(conn)`` reads the note.

Conservative: anything but a SELECT, a ``SET LOCAL`` (a setting that ends with the
transaction, committed or not: the queue's search sets its plan mode so) or a ``SHOW``
counts as a write (INSERT, UPDATE, DELETE, WITH, SET, DDL, ...).

Two users: the request teardown (app.db) commits a transaction that wrote nothing instead of
rolling it back (psycopg forgets its prepared statements on ROLLBACK), and the queue's counts
cache (services.queue) is dropped by a commit that wrote, not by those."""
from __future__ import annotations

import sqlalchemy as sa

#: ``Connection.info`` key (the info dict lives as long as the DBAPI connection)
_WROTE = "trustdesk_wrote"
_READ_ONLY = ("SELECT", "SET LOCAL", "SHOW")


def track_writes(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.info[_WROTE] = False

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _execute(conn, _cursor, statement: str, _params, _context, _many) -> None:  # noqa: ANN001
        if not statement.lstrip()[:9].upper().startswith(_READ_ONLY):
            conn.info[_WROTE] = True


def wrote(conn: sa.Connection) -> bool:
    """Whether ``conn``'s current (or just committed) transaction may have written."""
    return conn.info.get(_WROTE, True)


RACE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def lost_race(exc: BaseException) -> bool:
    """Whether the database refused ``exc``'s statement because another transaction wrote
    the same rows at the same moment (a deadlock or a serialization failure): nothing of the
    transaction was written, and the answer is a 409, not a 500 (docs/concurrency.md)."""
    return isinstance(exc, sa.exc.DBAPIError) and \
        getattr(exc.orig, "sqlstate", None) in RACE_SQLSTATES


def owns_transaction(fn):  # noqa: ANN001, ANN201
    """A use case owns its transaction, refusals included: whatever it raises (a
    ``ServiceError`` the caller turns into a 4xx, a ``CandidateError``, a database error),
    its transaction is rolled back first - the locks it took released, nothing it added
    left on the session - so a view or job only answers, and never rolls back itself."""
    import functools

    @functools.wraps(fn)
    def wrapper(session, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        try:
            return fn(session, *args, **kwargs)
        except Exception:
            session.rollback()
            raise
    return wrapper
