"""The console in a real browser: login, the queue, logout, under the real CSP."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import PASSWORD, log_in, screenshot

pytestmark = pytest.mark.e2e


def test_admin_logs_in_sees_the_queue_and_logs_out(page, live_server):
    live_server.create_user("admin")
    page.goto(live_server.url + "/")
    assert "/login?next=" in page.url  # redirected to log in first
    screenshot(page, "login")

    log_in(page, live_server, "admin")
    assert page.get_by_role("heading", name="Review queue").is_visible()
    assert page.get_by_text("The queue is empty").is_visible()
    # vendored htmx loaded and runs under the CSP; nothing was blocked
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert page.evaluate("() => window.htmx.version").startswith("2.0.")
    screenshot(page, "queue-empty")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert page.get_by_text("You have been logged out.").is_visible()
    assert page.console_errors == [] and page.dialogs == []


def test_wrong_password_shows_an_error_and_stays_logged_out(page, live_server):
    live_server.create_user("moderator")
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail").fill(live_server.users["moderator"])
    page.get_by_label("Password").fill(PASSWORD + "x")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Wrong e-mail or password").is_visible()
    screenshot(page, "login-error")
    page.goto(live_server.url + "/queue/")
    assert "/login" in page.url


def test_analyst_sees_its_role(page, live_server):
    live_server.create_user("analyst")
    log_in(page, live_server, "analyst")
    assert page.locator(".role-analyst").inner_text() == "analyst"
