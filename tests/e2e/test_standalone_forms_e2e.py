"""The suspend and contact pages opened on their own (a new tab, a bookmark) in Chromium
against gunicorn and PostgreSQL, without a mail server: the form submits, the client page
shows what happened, and a reload does not do it again (issue 21, items 14-16)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from tests.e2e.conftest import log_in, screenshot, start_server

pytestmark = pytest.mark.e2e

FIELDS = {"What freelancers reported": "payments arrive weeks late",
          "Examples": "approved work went unpaid for two weeks",
          "What we expect from now on": "pay approved work within 5 days"}


@pytest.fixture
def server(tmp_path, pg_url):
    srv = start_server(tmp_path, {"DATABASE_URL": pg_url})  # no SMTP_HOST, no Redis
    try:
        srv.create_user("moderator")
        yield srv
    finally:
        srv.stop()


def _negative_client(db, name: str):
    from tests.unit.console_fixtures import make_client, make_feedback, make_flag, make_post

    client = make_client(db, name=name)
    for i in range(5):
        make_feedback(db, client, rating=1, negative=0.9, days_ago=50 - i * 10)
    make_post(db, client, title=f"Live post of {name}")
    make_flag(db, client=client, reason="negative_client", score=0.85)
    db.commit()
    return client


def _count(db, model, **where):
    db.expire_all()
    stmt = select(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return len(db.exec(stmt).all())


def test_standalone_suspend_page_suspends_shows_the_notice_and_a_reload_does_nothing(
        page, server, db):
    from app.services.audit import Actor
    from models import Client, Decision, Moderator
    from tests.unit.console_fixtures import not_improved_after_contact

    client = _negative_client(db, "Grumpy Holdings")
    moderator = db.exec(select(Moderator)).one()
    not_improved_after_contact(db, client, Actor.of(moderator))  # suspendable by policy
    log_in(page, server, "moderator")
    page.goto(server.url + f"/clients/{client.id}/suspend")  # as a page of its own
    page.get_by_text("takes down 1 open post").wait_for()
    page.get_by_label("Reason").fill("No improvement after the warning")
    screenshot(page, "standalone-suspend")
    page.get_by_role("button", name="Suspend and take down 1 post").click()
    page.wait_for_url(f"**/clients/{client.id}")
    notice = page.get_by_text("Client suspended; their open posts were taken down.")
    notice.wait_for()
    assert page.locator(".badge.status-suspended").first.is_visible()
    screenshot(page, "standalone-suspend-done")
    page.reload()
    page.get_by_role("heading", name="Grumpy Holdings").wait_for()
    assert _count(db, Decision, client_id=client.id, action="suspend") == 1
    assert db.get(Client, client.id).status == "suspended"
    assert page.console_errors == [] and page.dialogs == []


def test_standalone_contact_page_previews_by_post_sends_once_and_says_it_was_queued(
        page, server, db):
    from models import Outreach

    client = _negative_client(db, "Curt Company")
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    log_in(page, server, "moderator")
    page.goto(server.url + f"/clients/{client.id}/contact")  # as a page of its own
    for label, value in FIELDS.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Preview message").click()
    page.get_by_text("Hello Curt Company").wait_for()
    previews = [(m, u) for m, u in requests if "/contact/preview" in u]
    assert previews and all(m == "POST" for m, _ in previews)
    assert not [u for _, u in requests if "csrf_token" in u]
    screenshot(page, "standalone-contact-preview")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url(f"**/clients/{client.id}")
    page.get_by_text("Message queued: no mail server configured.").wait_for()
    assert page.get_by_text("Message sent").count() == 0
    assert page.locator(".badge.status-contacted").first.is_visible()
    screenshot(page, "standalone-contact-sent")
    page.reload()
    page.get_by_role("heading", name="Curt Company").wait_for()
    assert _count(db, Outreach, client_id=client.id) == 1
    assert page.console_errors == [] and page.dialogs == []
