"""Logging in and out, wrong passwords, deactivated accounts, throttling."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import users
from app.services.audit import CLI
from models import AuditEvent, Moderator
from tests.helpers import PASSWORD, csrf_token, login


def test_login_page_has_labelled_fields_and_a_csrf_token(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="email">E-mail</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'name="csrf_token"' in html


def test_login_then_queue_then_logout(client, make_user, app):
    make_user("moderator", "mod@example.com")
    response = login(client, "MOD@example.com ")  # e-mail is case/space-insensitive
    assert response.status_code == 303
    assert response.headers["Location"] == "/queue/"
    page = client.get("/queue/")
    assert page.status_code == 200 and "Review queue" in page.get_data(as_text=True)
    assert "mod@example.com" in page.get_data(as_text=True)

    with app.app_context(), session_scope() as s:
        mod = s.exec(select(Moderator)).one()
        assert mod.last_login_at is not None
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "auth.login")).one()

    token = csrf_token(client, "/queue/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/queue/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, make_user):
    make_user("moderator", "mod@example.com")
    for email, password in [("mod@example.com", "wrong password!!"), ("nobody@example.com", PASSWORD)]:
        response = login(client, email, password)
        assert response.status_code == 401
        assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/queue/").status_code == 302


def test_empty_form_is_a_400_with_field_errors(client):
    response = client.post("/login", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in_and_loses_open_sessions(client, make_user, app):
    make_user("moderator", "mod@example.com")
    assert login(client, "mod@example.com").status_code == 303
    with app.app_context(), session_scope() as s:
        users.deactivate(s, email="mod@example.com", actor=CLI)
    assert client.get("/queue/").status_code == 302  # the open session ended
    assert login(client, "mod@example.com").status_code == 401


def test_a_copied_session_cookie_stops_working_at_logout(client, make_user, app):
    """Logout ends the session server-side (the session version is bumped), so a copy of
    the cookie - taken before the logout - is refused for GET and POST afterwards."""
    make_user("moderator", "mod@example.com")
    assert login(client, "mod@example.com").status_code == 303
    token = csrf_token(client, "/queue/")
    copy = app.test_client()
    copy.set_cookie("trustdesk_session", client.get_cookie("trustdesk_session").value)
    bulk = {"csrf_token": token, "action": "nothing"}
    assert copy.get("/queue/").status_code == 200  # the copy works while the session lives
    assert copy.post("/queue/bulk", data=bulk).status_code == 422

    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    r = copy.get("/queue/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    r = copy.post("/queue/bulk", data=bulk)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    with app.app_context(), session_scope() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "auth.logout")).one()
    # logging in again starts a fresh, working session
    assert login(client, "mod@example.com").status_code == 303
    assert client.get("/queue/").status_code == 200


def test_next_parameter_is_followed_only_for_local_paths(client, make_user):
    make_user("moderator", "mod@example.com")
    token = csrf_token(client)
    data = {"email": "mod@example.com", "password": PASSWORD, "csrf_token": token}
    r = client.post("/login?next=//evil.example/x", data=data)
    assert r.headers["Location"] == "/queue/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/queue/")})
    token = csrf_token(client)
    r = client.post("/login?next=/queue/?reason=scam", data={**data, "csrf_token": token})
    assert r.headers["Location"] == "/queue/?reason=scam"


def test_unauthenticated_htmx_request_gets_hx_redirect(client):
    r = client.get("/queue/", headers={"HX-Request": "true"})
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/login?next=")


class TestThrottling:
    def test_repeated_failures_from_one_address_are_throttled(self, client, make_user):
        make_user("moderator", "mod@example.com")
        for _ in range(5):
            assert login(client, "mod@example.com", "wrong password!!").status_code == 401
        # even the right password is refused while throttled
        r = login(client, "mod@example.com")
        assert r.status_code == 429
        assert "Too many attempts" in r.get_data(as_text=True)

    def test_successful_logins_do_not_count(self, client, make_user):
        make_user("moderator", "mod@example.com")
        for _ in range(7):
            assert login(client, "mod@example.com").status_code == 303
            client.post("/logout", data={"csrf_token": csrf_token(client, "/queue/")})

    def test_an_attacker_cannot_lock_the_owner_out_from_another_address(self, app, make_user):
        """The per-account limit counts per (account, address) pair: five wrong guesses
        from the attacker's address throttle that pair only."""
        make_user("moderator", "mod@example.com")
        make_user("analyst", "ana@example.com")
        attacker, owner = _from(app, "10.0.0.66"), _from(app, "10.0.0.7")
        for _ in range(5):
            assert login(attacker, "mod@example.com", "wrong password!!").status_code == 401
        assert login(attacker, "mod@example.com").status_code == 429
        assert login(owner, "mod@example.com").status_code == 303
        # another account from the attacker's address is not throttled by that pair
        assert login(_from(app, "10.0.0.66"), "ana@example.com").status_code == 303

    def test_failures_over_many_accounts_from_one_address_are_throttled(self, app, make_user):
        """The per-address limit (LOGIN_ADDRESS_FAILURE_LIMIT, higher than the per-pair
        one) stops one address trying a few passwords on every account."""
        app.config["LOGIN_ADDRESS_FAILURE_LIMIT"] = "8 per 5 minutes"
        make_user("moderator", "mod@example.com")
        sprayer = _from(app, "10.0.0.66")
        for i in range(8):
            r = login(sprayer, f"user{i}@example.com", "wrong password!!")
            assert r.status_code == 401
        r = login(sprayer, "mod@example.com")
        assert r.status_code == 429 and "Too many attempts" in r.get_data(as_text=True)
        assert login(_from(app, "10.0.0.7"), "mod@example.com").status_code == 303


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.mark.parametrize("role, links", [("admin", ["Queue", "Audit log", "QA", "Appeals", "Metrics",
                                                    "Models", "System"]),
                                         ("analyst", ["Queue", "Audit log", "Appeals", "Metrics", "Models"]),
                                         ("moderator", ["Queue", "QA", "Appeals"])])
def test_top_bar_per_role_and_section(app, make_user, role, links):
    """The top bar (templates/_chrome.html, kept per user and section): each role's links,
    the current section marked, the user's own e-mail, and a logout form whose CSRF token
    (outside the kept HTML) belongs to it."""
    import re

    make_user(role, f"{role}@example.com")
    client = app.test_client()
    assert login(client, f"{role}@example.com").status_code == 303
    for path, current in (("/queue/", "Queue"), ("/audit/", "Audit log"), ("/qa/", "QA"),
                          ("/metrics/", "Metrics"), ("/system/", "System"),
                          ("/appeals/", "Appeals"), ("/models/", "Models")):
        response = client.get(path)
        if current not in links:
            assert response.status_code == 403
            continue
        html = response.get_data(as_text=True)
        nav = re.search(r"<nav>.*?</nav>", html, re.S).group(0)
        assert re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', nav) == links
        assert re.findall(r'aria-current="page">([^<]+)<', nav) == [current]
        assert f'{role}@example.com <small class="role role-{role}">{role}</small>' in nav
        assert '<form id="logout-form" method="post" action="/logout"' in nav
        token = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)" '
                          r'form="logout-form">', html).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/queue/").status_code == 302


def test_flash_messages_show_on_the_next_page(app, make_user):
    """base.html shows (and escapes) the flashed messages once."""
    from app.web.ui import notify

    @app.get("/_flash_probe")
    def _flash_probe():
        notify("Released <b>now</b>.", "info")
        return "", 204
    make_user("moderator", "mod@example.com")
    client = app.test_client()
    login(client, "mod@example.com")
    client.get("/_flash_probe")
    html = client.get("/queue/").get_data(as_text=True)
    assert '<p class="flash flash-info">Released &lt;b&gt;now&lt;/b&gt;.</p>' in html
    assert "flash-info" not in client.get("/queue/").get_data(as_text=True)


def test_home_keeps_the_filters_of_the_link_that_reached_it(client, make_user):
    make_user("moderator", "mod@example.com")
    login(client, "mod@example.com")
    response = client.get("/?category=writing&reason=scam")
    assert response.status_code == 302
    assert response.headers["Location"] == "/queue/?category=writing&reason=scam"
    assert client.get("/").headers["Location"] == "/queue/"
    # odd input is still only a query string for the queue (which says what it left out)
    odd = client.get("/?category=%3Cscript%3E&next=//evil.example")
    assert odd.headers["Location"].startswith("/queue/?")
    assert "<script>" not in odd.headers["Location"]
