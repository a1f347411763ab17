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
    app = create_app(settings)
    app.after_request(_no_whole_page_into_a_fragment)
    return app


#: the answers htmx swaps in (console.js swaps 409 and 422 too)
_SWAPPED = {200, 409, 422}


def _no_whole_page_into_a_fragment(response):
    """Every test's app checks this: the answer to an htmx action (a POST from a form
    with an HX-Target) or an answer the server retargets (HX-Retarget) is swapped into a
    part of the page, so it is never a whole document - that would nest a second page, top
    bar and all, inside the first (the console uses no hx-select). A GET for a target the
    page does not know gets the whole page, by design (a boosted link)."""
    from flask import request

    if (request.headers.get("HX-Request") and request.headers.get("HX-Target")
            and (request.method != "GET" or "HX-Retarget" in response.headers)
            and response.status_code in _SWAPPED and response.mimetype == "text/html"
            and not response.direct_passthrough):
        head = response.get_data(as_text=True).lstrip()[:15].lower()
        assert not head.startswith("<!doctype"), (
            f"{request.method} {request.path} answered HX-Target "
            f"{request.headers['HX-Target']!r} with a whole page")
    return response



def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, email: str, password: str = PASSWORD, **kwargs):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, **kwargs)
