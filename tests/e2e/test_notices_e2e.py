"""Notices to affected freelancers, all real: a scam post and the freelancers who applied to
it arrive through the API under gunicorn, a real `flask worker` (PostgreSQL + Redis) flags
it, a moderator removes it in Chromium, the case page says how many freelancers were
notified, and once the undo window has passed the marketplace's webhook receiver gets one
signed `freelancer.notice` per freelancer (and the one with an address an e-mail)."""
from __future__ import annotations

import json

import pytest

from app.services.webhooks import verify
from tests.e2e.conftest import REDIS_URL, log_in, screenshot, start_server
from tests.e2e.smtp_sink import SmtpSink
from tests.e2e.test_ingest_e2e import POSTS, SECRET, api
from tests.support.receiver import Receiver, receiver  # noqa: F401  (fixture)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
UNDO_SECONDS = 4
CONTACTS = [{"freelancer_id": "fl-ana", "kind": "applicant", "email": "ana@example.org"},
            {"freelancer_id": "fl-ben", "kind": "applicant"},
            {"freelancer_id": "fl-cho", "kind": "messaged"}]


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def server(tmp_path, pg_url, redis_client, receiver, smtp):
    srv = start_server(tmp_path, {"DATABASE_URL": pg_url, "REDIS_URL": REDIS_URL,
                                  "MARKETPLACE_WEBHOOK_URL": receiver.url,
                                  "WEBHOOK_SECRET": SECRET, "UNDO_SECONDS": str(UNDO_SECONDS),
                                  "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)})
    try:
        srv.start_worker()
        srv.create_user("moderator")
        yield srv
    finally:
        srv.stop()


def notices(receiver) -> list[dict]:
    return [b for b in (json.loads(r["body"]) for r in receiver.received)
            if b["type"] == "freelancer.notice"]


def test_scam_removed_then_freelancers_notified_then_the_marketplace_got_them(
        page, server, receiver, smtp):
    token = server.flask("tokens", "create", "marketplace").strip().splitlines()[-1]
    assert api(server, token, "PUT", "/api/v1/clients/c-1",
               {"name": "Quick Cash Ltd", "joined_at": "2026-11-20T00:00:00Z"})[0] == 201
    title, text, category = POSTS["p-scam"]
    assert api(server, token, "PUT", "/api/v1/posts/p-scam", {
        "client_id": "c-1", "title": title, "description": text, "category": category,
        "posted_at": "2026-11-25T09:00:00Z", "contacts": CONTACTS[:1]})[0] == 201
    status, body = api(server, token, "PUT", "/api/v1/posts/p-scam/contacts",
                       {"contacts": CONTACTS})
    assert status == 200 and body == {"post_id": "p-scam", "contacts": 3, "result": "updated"}
    assert api(server, token, "PUT", "/api/v1/posts/p-scam/contacts",
               {"contacts": CONTACTS})[1]["result"] == "unchanged"

    def flagged() -> bool:
        post = api(server, token, "GET", "/api/v1/posts/p-scam")[1]
        return bool(post["scored_at"]) and "scam" in {f["reason"] for f in post["open_flags"]}

    wait_for(flagged, timeout=90, what="the worker to flag the scam post")

    log_in(page, server, "moderator")
    page.locator("tr[data-row]").first.get_by_role("link").click()
    page.get_by_text("Claimed by you").wait_for()
    page.get_by_role("button", name="Remove post").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Confirm").click()
    page.get_by_text("Post removed; the client will be told.").wait_for()
    section = page.locator("#freelancer-notices")
    assert "3 freelancers notified" in section.inner_text()
    assert "3 pending" in section.inner_text()
    screenshot(page, "notices-case-pending")
    # held for the undo window: only the post.removed event went out so far
    assert notices(receiver) == []

    wait_for(lambda: len(notices(receiver)) == 3, timeout=90,
             what="three freelancer.notice webhooks")
    wait_for(lambda: len(smtp.messages) == 1, timeout=60, what="the notice e-mail")
    got = notices(receiver)
    assert sorted(n["data"]["freelancer"] for n in got) == ["fl-ana", "fl-ben", "fl-cho"]
    assert {n["data"]["post"] for n in got} == {"p-scam"}
    assert {n["data"]["reason"] for n in got} == {"scam"}
    for delivery in receiver.received:
        assert verify(delivery["body"], delivery["headers"]["X-TrustDesk-Signature"], SECRET)
    for n in got:  # neither the evidence nor the moderator
        text = json.dumps(n)
        assert "hr_jobs_fast" not in text and "starter kit" not in text
        assert "moderator@e2e.example.com" not in text
    assert smtp.messages[0][1] == ["ana@example.org"]

    page.reload()
    section = page.locator("#freelancer-notices")
    section.wait_for()
    assert "3 freelancers notified: 3 sent, 0 pending" in " ".join(section.inner_text().split())
    screenshot(page, "notices-case-sent")
    assert page.console_errors == [] and page.dialogs == []
