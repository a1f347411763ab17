"""Helpers for tests at every level."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from app import create_app

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "moderator", "analyst")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def make_app(db_url: str, **overrides) -> Flask:
    settings = {
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    settings.update(overrides)
    return create_app(settings)




def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, email: str, password: str = PASSWORD, **kwargs):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, **kwargs)
