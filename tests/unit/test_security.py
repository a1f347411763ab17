"""CSRF, Content-Security-Policy, cookie flags and other response headers."""
from __future__ import annotations

import pytest

from config import Config
from tests.helpers import PASSWORD, csrf_token, login, make_app


def test_login_without_csrf_token_is_rejected(client, make_user):
    make_user("moderator", "mod@example.com")
    r = client.post("/login", data={"email": "mod@example.com", "password": PASSWORD})
    assert r.status_code == 400
    assert "Reload the page" in r.get_data(as_text=True)
    assert client.get("/queue/").status_code == 302  # not logged in


def test_state_change_without_csrf_token_is_rejected(logged_in):
    c = logged_in("moderator")
    assert c.post("/logout").status_code == 400
    assert c.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert c.get("/queue/").status_code == 200  # still logged in


def test_csrf_token_in_htmx_header_is_accepted(logged_in):
    c = logged_in("moderator")
    token = csrf_token(c, "/queue/")
    assert c.post("/logout", headers={"X-CSRFToken": token}).status_code == 303


def test_body_carries_csrf_token_for_htmx(logged_in):
    html = logged_in("moderator").get("/queue/").get_data(as_text=True)
    assert "hx-headers='{\"X-CSRFToken\": \"" in html


def test_content_security_policy_forbids_inline_scripts(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_other_security_headers(client):
    h = client.get("/login").headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cache-Control"] == "no-store"


def _session_cookie(response):
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("trustdesk_session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    make_user("moderator", "mod@example.com")
    cookie = _session_cookie(login(client, "mod@example.com"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development


def test_session_cookie_is_secure_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    app = make_app(f"sqlite:///{tmp_path / 'p.db'}", TRUSTDESK_ENV="production",
                   **{k: v for k, v in Config().as_flask_config().items()
                      if k.endswith("COOKIE_SECURE")})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    r = app.test_client().get("/login")
    assert "Secure" in _session_cookie(r)
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("path", ["/login", "/queue/"])
def test_pages_load_only_vendored_assets(logged_in, path):
    html = logged_in("admin").get(path, follow_redirects=True).get_data(as_text=True)
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html and " on" + "click=" not in html


def test_template_csrf_token_is_flask_wtfs_token_for_the_request(app, logged_in, monkeypatch):
    """Templates call ``security.csrf_token`` (asked once per request) in place of Flask-WTF's
    ``generate_csrf``: the same token, every form of a page carries it, and it is accepted."""
    import re

    from flask_wtf.csrf import generate_csrf

    from app.security import csrf_token as template_token

    assert app.jinja_env.globals["csrf_token"] is template_token
    with app.test_request_context("/"):
        first = template_token()
        assert first == template_token() == generate_csrf()
    c = logged_in("admin")
    # pages render with it, not with Flask-WTF's own (its context processor is overridden)
    import flask_wtf.csrf

    def refuse():
        raise AssertionError("a template called Flask-WTF's generate_csrf")
    monkeypatch.setattr(flask_wtf.csrf, "generate_csrf", refuse)
    html = c.get("/queue/").get_data(as_text=True)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    tokens |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', html))
    assert len(tokens) == 1
    assert c.post("/logout", data={"csrf_token": tokens.pop()}).status_code == 303
