"""Engine per app, session per request (closed at teardown), session per job or command.

A request's session ends in one of two ways. If the request wrote nothing (every statement
its transaction ran was a SELECT and no ORM change is pending) and did not fail, the
transaction is *committed*, which for a read-only transaction changes nothing; otherwise it
is rolled back, as before. The difference matters on PostgreSQL: psycopg prepares a
statement once it has run 5 times on a connection and PostgreSQL then reuses its plan,
but psycopg forgets every prepared statement on ROLLBACK (and sends DEALLOCATE ALL). With
every read-only request ending in a rollback, nothing was ever prepared, and every query
of every page was parsed and planned afresh (the queue's list query: ~0.5 ms of planning
to ~0.3 ms of running)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .services.transactions import track_writes, wrote

_ENGINE_KEY = "trustdesk_engine"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine with the settings TrustDesk relies on, for either database."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.close()

    else:
        # sessions in UTC: reads that skip SQLAlchemy's types (services.reads) get
        # timestamptz values in the session's time zone, and pages print them as UTC
        engine = sa.create_engine(url, echo=echo, pool_size=10, max_overflow=10,
                                  pool_recycle=POOL_RECYCLE_SECONDS,
                                  connect_args={"options": "-c TimeZone=UTC"})
        _ping_after_idle(engine)
    track_writes(engine)
    return engine


#: a pooled connection is replaced after this long (a server or proxy that drops old
#: connections never meets one)
POOL_RECYCLE_SECONDS = 1800
#: a pooled connection that sat idle at least this long is pinged before it is handed out
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_after_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, but only where it can matter: a connection that sat
    in the pool for ``PING_AFTER_IDLE_SECONDS`` or more is pinged on checkout (a dead one is
    replaced: the pool's ``DisconnectionError`` retry), one in steady use is not. (The
    pool's own ``pool_pre_ping`` pinged every checkout: one more round trip on every
    request.) A connection that died within the last seconds fails on its first statement
    instead; the request's first statement, the user load, retries once on a new one
    (``services.users.load_for_session``)."""
    @sa.event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.extensions[_ENGINE_KEY] = make_engine(url, echo=app.config.get("SQL_ECHO", False))
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions[_ENGINE_KEY]


def shares_database() -> bool:
    """Whether another process can open this app's database (not an in-memory SQLite)."""
    url = get_engine().url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def get_session() -> Session:
    """The request's (or app context's) session, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    if exc is None and _read_only(session):
        session.commit()  # nothing to commit; keeps psycopg's prepared statements
    session.close()  # rolls back anything a failed request left uncommitted


def _read_only(session: Session) -> bool:
    """The session's transaction ran only SELECTs and has no ORM change pending."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    return not wrote(session.connection())


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session of its own (jobs, CLI commands); closed on exit, never committed here."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session
