"""Odd input that must get a clear 4xx, never a 500: run on SQLite (tests/unit) and on
PostgreSQL (tests/integration), where out-of-range integers and NUL bytes fail in the
database if nothing refuses them before."""
from __future__ import annotations

from flask import Flask
from sqlmodel import SQLModel

from app.db import get_engine, session_scope
from app.services import tokens, users
from app.services.audit import CLI
from tests.helpers import PASSWORD, csrf_token, login

HUGE = str(2**70)
#: console GETs (logged in as an admin) and the status each must answer
CONSOLE = [
    ("/audit/?date_to=9999-12-31", 400),
    ("/audit/?date_from=0001-01-01", 400),
    ("/audit/?date_to=31-12-2024", 400),
    (f"/audit/?before={HUGE}", 400),
    ("/audit/?before=-1", 400),
    ("/audit/?before=x", 400),
    ("/audit/?actor=a%00b", 400),
    ("/audit/?subject_id=a%00b", 400),
    ("/audit/export.csv?actor=a%00b", 400),
    ("/audit/export.csv?date_to=9999-12-31", 400),
    (f"/queue/?cursor=0.5_{HUGE}", 400),
    (f"/queue/?cursor={HUGE}", 400),
    ("/queue/?cursor=1e999_1", 400),
    ("/queue/?cursor=nan_1", 400),
    ("/queue/?q=a%00b", 400),
    ("/queue/?reason=%00", 400),
    (f"/posts/{HUGE}", 404),
    (f"/posts/{HUGE}/similar", 404),
    ("/posts/2147483648", 404),
    (f"/clients/{HUGE}", 404),
    ("/clients/2147483648", 404),
    (f"/posts/1?flag={HUGE}", 400),
    ("/posts/1?flag=%00", 400),
]
#: API GETs (with a token) and the status each must answer
API = [
    ("/api/v1/flags?cursor=2147483648", 422),
    (f"/api/v1/flags?cursor={HUGE}", 422),
    ("/api/v1/flags?subject=post:a%00b", 422),
    ("/api/v1/flags?status=%00", 422),
    ("/api/v1/posts/a%00b", 422),
    ("/api/v1/clients/a%00b", 422),
    (f"/api/v1/posts/{HUGE}", 404),
    ("/api/v1/clients/" + "x" * 65, 422),
]


def prepare(app: Flask) -> str:
    """Tables, an admin and an API token; returns the token."""
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
        with session_scope() as s:
            users.create_moderator(s, email="admin@example.com", password=PASSWORD,
                                   role="admin", actor=CLI)
            return tokens.create_token(s, name="odd", actor=CLI)[1]


def answers(app: Flask, token: str) -> dict[str, int]:
    """What each odd request got, for the cases whose answer is not the expected one."""
    console = app.test_client()
    assert login(console, "admin@example.com").status_code == 303
    wrong = {}
    for path, expected in CONSOLE:
        r = console.get(path)
        if r.status_code != expected:
            wrong[path] = r.status_code
        elif expected == 400:  # a page saying which parameter, not a bare error
            assert "is not" in r.get_data(as_text=True) or "must" in r.get_data(as_text=True)
    # a NUL byte in a submitted form field: the login form (before any login), and a note
    stranger = app.test_client()
    r = login(stranger, "a\x00b@example.com")
    if r.status_code != 400:
        wrong["POST /login with a NUL byte"] = r.status_code
    r = console.post("/clients/1/note", data={"csrf_token": csrf_token(console, "/queue/"), "text": "a\x00b"})
    if r.status_code != 400 or "NUL byte" not in r.get_data(as_text=True):
        wrong["POST a note with a NUL byte"] = r.status_code
    headers = {"Authorization": f"Bearer {token}"}
    for path, expected in API:
        r = app.test_client().get(path, headers=headers)
        if r.status_code != expected or not r.is_json:
            wrong[path] = r.status_code
    return wrong
