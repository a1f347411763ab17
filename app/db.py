"""Engine per app, session per request (closed at teardown), session per job or command."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlmodel import Session

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

        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.extensions[_ENGINE_KEY] = make_engine(url, echo=app.config.get("SQL_ECHO", False))
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions[_ENGINE_KEY]


def get_session() -> Session:
    """The request's (or app context's) session, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything a failed request left uncommitted


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session of its own (jobs, CLI commands); closed on exit, never committed here."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session
