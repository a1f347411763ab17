"""A write that loses a race in the database (PostgreSQL's deadlock detector or a
serialization failure: the transaction is rolled back) is a 409 "changed by someone else,
nothing was done", never a 500: in a decision (StaleCase), elsewhere in the console, and in
the API. The errors are built as psycopg raises them (SQLite has neither)."""
from __future__ import annotations

import psycopg.errors
import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.services import moderation
from app.services.moderation import StaleCase
from app.services.transactions import lost_race
from models import AuditEvent, Decision, Flag
from tests.unit.console_fixtures import as_user, db, scam_case, staff  # noqa: F401
from tests.unit.console_fixtures import token as csrf
from tests.unit.test_api import api, dispatched, put_client, put_post, token  # noqa: F401

HX = {"HX-Request": "true", "HX-Target": "case"}


def _race_error(kind=psycopg.errors.DeadlockDetected) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE flag SET ...", {}, kind("deadlock detected"))


def _raise(exc):
    def fail(*_args, **_kwargs):
        raise exc
    return fail


@pytest.mark.parametrize("kind", [psycopg.errors.DeadlockDetected,
                                  psycopg.errors.SerializationFailure])
def test_lost_race_is_recognised_and_other_errors_are_not(kind):
    assert lost_race(_race_error(kind))
    assert not lost_race(sa.exc.OperationalError("x", {}, psycopg.errors.UndefinedTable("t")))
    assert not lost_race(ValueError("deadlock"))


def test_a_decision_that_loses_a_race_is_a_stale_case_and_writes_nothing(db, staff, monkeypatch):
    _c, post, flag = scam_case(db)
    db.commit()
    # the flag is already written when the audit event's insert is refused
    monkeypatch.setattr("app.services.moderation.post_actions.record", _raise(_race_error()))
    with pytest.raises(StaleCase, match="changed by someone else"):
        moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    db.expire_all()
    assert db.get(Flag, flag.id).status == "open" and db.get(Flag, flag.id).version == 1
    assert db.exec(select(Decision)).all() == [] and db.exec(select(AuditEvent)).all() == []


def test_the_case_page_answers_a_lost_race_with_409_and_the_fresh_case(client, db, staff,
                                                                          monkeypatch):
    _c, post, flag = scam_case(db)
    db.commit()
    monkeypatch.setattr("app.services.moderation.post_actions.record", _raise(_race_error()))
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/dismiss", headers=HX, data={
        "csrf_token": csrf(client), "flag_id": flag.id, "version": 1})
    assert r.status_code == 409
    assert "changed by someone else" in r.text and "Nothing was done" in r.text
    assert r.text.lstrip().startswith('<article id="case"')


def test_other_console_writes_answer_a_lost_race_with_409(client, db, staff, monkeypatch):
    _c, post, _flag = scam_case(db)
    db.commit()
    monkeypatch.setattr("app.services.moderation.claim", _raise(_race_error()))
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/claim", data={"csrf_token": csrf(client)})
    assert r.status_code == 409 and "Nothing was done" in r.text
    # over htmx: a notice put on top of the page, not a whole page swapped into a part
    r = client.post(f"/posts/{post.id}/claim", data={"csrf_token": csrf(client)},
                    headers={"HX-Request": "true", "HX-Target": "claim"})
    assert r.status_code == 409 and "Nothing was done" in r.text and 'role="alert"' in r.text
    assert r.headers["HX-Retarget"] == "#main" and r.headers["HX-Reswap"] == "afterbegin"
    assert not r.text.lstrip().lower().startswith("<!doctype")


def test_the_api_answers_a_lost_race_with_409_json(api, monkeypatch):
    assert put_client(api).status_code == 201
    monkeypatch.setattr("app.services.ingest._write_posts",
                        _raise(_race_error(psycopg.errors.SerializationFailure)))
    r = put_post(api)
    assert r.status_code == 409 and r.is_json
    assert "nothing was written" in r.get_json()["error"]
