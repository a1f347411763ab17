"""The request's session: a request that wrote nothing ends with a commit (which keeps
psycopg's prepared statements on PostgreSQL); one that wrote without committing, left
an ORM change pending, or failed is rolled back."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import get_engine, get_session, session_scope
from app.security import public
from models import Client

NAME = "Written but never committed"


def _new_client():
    return Client(external_id="c-uncommitted", name=NAME)


def _read():
    get_session().exec(select(Client.id)).all()
    return "ok"


def _flushed():
    session = get_session()
    session.add(_new_client())
    session.flush()
    return "ok"


def _text_write():
    session = get_session()
    session.exec(select(Client.id)).all()
    session.execute(sa.text("INSERT INTO client (external_id, name, joined_at, payment_verified,"
                            " phone_verified, identity_verified, status, created_at, updated_at)"
                            " VALUES ('c-uncommitted', :name, CURRENT_TIMESTAMP, 0, 0, 0,"
                            " 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"name": NAME})
    return "ok"


def _pending():
    session = get_session()
    session.exec(select(Client.id)).all()
    session.add(_new_client())  # not flushed: a commit would write it
    return "ok"


def _fails():
    get_session().exec(select(Client.id)).all()
    raise RuntimeError("boom")


VIEWS = {"read": _read, "flushed": _flushed, "text_write": _text_write, "pending": _pending,
         "fails": _fails}


@pytest.fixture
def probe(app):
    """Routes that use the request's session in one way each, and the transaction ends
    (commit / rollback) seen on the app's engine."""
    for name, view in VIEWS.items():
        app.add_url_rule(f"/_probe/{name}", f"probe_{name}", public(view))
    ends: list[str] = []
    with app.app_context():
        engine = get_engine()
    sa.event.listen(engine, "commit", lambda _conn: ends.append("commit"))
    sa.event.listen(engine, "rollback", lambda _conn: ends.append("rollback"))
    return ends


def _stored(app) -> list[str]:
    with app.app_context(), session_scope() as session:
        return list(session.exec(select(Client.name)).all())


def test_a_request_that_only_read_ends_with_a_commit(app, client, probe):
    assert client.get("/_probe/read").status_code == 200
    assert probe == ["commit"]


@pytest.mark.parametrize("name", ["flushed", "text_write", "pending"])
def test_a_request_that_wrote_without_committing_is_rolled_back(app, client, probe, name):
    assert client.get(f"/_probe/{name}").status_code == 200
    assert "commit" not in probe and NAME not in _stored(app)


def test_a_failed_request_is_rolled_back(app, client, probe):
    with pytest.raises(RuntimeError):
        client.get("/_probe/fails")
    assert probe == ["rollback"]
