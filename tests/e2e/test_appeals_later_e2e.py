"""A client suspended for fraud, reinstated, and suspended again, seen in Chromium: the client
page and the client panel of its cases say how many freelancers the suspension notified; the
appeal against the first suspension warns that a later one stands, and its overturn corrects
the record only (the client stays suspended)."""
from __future__ import annotations

import pytest

from app.services import appeals, moderation
from models import Client, FreelancerContact, utcnow
from tests.e2e.conftest import log_in, screenshot, start_server
from tests.unit.console_fixtures import make_client, make_flag, make_post

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path):
    srv = start_server(tmp_path)
    try:
        srv.create_user("admin")
        srv.create_user("moderator")
        yield srv
    finally:
        srv.stop()


def _actor(db, email):
    from app.services.audit import Actor
    from models import Moderator
    from sqlmodel import select

    return Actor.of(db.exec(select(Moderator).where(Moderator.email == email)).one())


def _suspend(db, client_id, actor, **kw):
    client = db.get(Client, client_id)
    return moderation.suspend(db, client_id=client.id,
                              client_version=moderation.client_token(client), reason="fraud",
                              actor=actor, **kw)


def test_suspension_notices_and_an_appeal_overturned_on_the_record(page, server, db):
    admin = _actor(db, server.users["admin"])
    client = make_client(db, name="Ring Holdings")
    post = make_post(db, client, title="Crypto data entry, pay the kit first")
    scam = make_flag(db, post)
    for ref in ("fl-1", "fl-2"):
        db.add(FreelancerContact(post_id=post.id, freelancer_ref=ref, kind="applicant",
                                 created_at=utcnow(), updated_at=utcnow()))
    db.commit()
    first = _suspend(db, client.id, admin, flag_id=scam.id, flag_version=scam.version)
    c = db.get(Client, client.id)
    moderation.reinstate(db, client_id=c.id, client_version=moderation.client_token(c),
                         reason="identity checked", actor=admin)
    second_post = make_post(db, client, title="Typing job, no skills needed")
    db.commit()
    later = _suspend(db, client.id, admin)
    appeal = appeals.file(db, decision_id=first.id, text="We were hacked that week.",
                          actor=admin)

    log_in(page, server, "moderator")
    page.goto(f"{server.url}/clients/{client.id}")
    section = page.locator("#suspension-notices")
    text = " ".join(section.inner_text().split())
    # the suspension the client is under now (the later one) notified nobody: not for fraud
    assert f"decision #{later.id}" in text and "0 freelancers notified" in text
    assert page.get_by_role("link", name=f"Appealed: appeal #{appeal.id}").count() == 1
    screenshot(page, "issue26-suspended-client-page")
    page.goto(f"{server.url}/posts/{second_post.id}")
    assert f"Suspension (decision #{later.id})" in page.locator(".client-panel").inner_text()
    page.goto(f"{server.url}/posts/{post.id}")
    assert "2 freelancers notified" in page.locator("#freelancer-notices").inner_text()
    screenshot(page, "issue26-suspended-post-case")

    page.goto(f"{server.url}/appeals/{appeal.id}")
    warning = page.locator("#later-decision")
    assert f"#{later.id} (suspend" in warning.inner_text()
    assert "1 feedbacks" not in page.content()
    screenshot(page, "issue26-appeal-later-decision")
    page.get_by_label("Overturn", exact=False).check()
    page.get_by_label("Reason (required").fill("The account was taken over that week.")
    page.get_by_role("button", name="Decide the appeal").click()
    page.get_by_text(f"a later decision, #{later.id}, stands and was not reversed").wait_for()
    screenshot(page, "issue26-appeal-record-only")
    db.expire_all()
    assert db.get(Client, client.id).status == "suspended"
    assert page.console_errors == [] and page.dialogs == []
