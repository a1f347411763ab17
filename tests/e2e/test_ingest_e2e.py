"""From the marketplace to a moderator's decision and back, all real: posts PUT to the
API under gunicorn, scored by a real `flask worker` (PostgreSQL + Redis), flagged into
the queue, removed by a moderator in Chromium, and the removal delivered to the
marketplace as a signed webhook."""
from __future__ import annotations

import json
import urllib.request

import pytest

from app.services.webhooks import verify
from tests.e2e.conftest import REDIS_URL, log_in, screenshot, start_server
from tests.support.waiting import wait_for
from tests.support.receiver import Receiver, receiver  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e
SECRET = "whsec-e2e-0123456789abcdef"
POSTS = {
    "p-scam": ("Data entry from home - $500/day",
               "No experience needed. Contact our hiring manager on Telegram @hr_jobs_fast to "
               "start today. You must buy the $99 starter kit first.", "admin_support"),
    "p-selfad": ("Experienced graphic designer available",
                 "I am a professional graphic designer with 8 years of experience. Hire me for "
                 "logos, flyers and branding. Check my portfolio and send me an offer.",
                 "design_creative"),
    "p-short": ("Need a logo for my bakery", "Budget $50.", "design_creative"),
}


@pytest.fixture
def server(tmp_path, pg_url, redis_client, receiver):
    srv = start_server(tmp_path, {"DATABASE_URL": pg_url, "REDIS_URL": REDIS_URL,
                                  "MARKETPLACE_WEBHOOK_URL": receiver.url,
                                  "WEBHOOK_SECRET": SECRET})
    try:
        srv.start_worker()
        srv.create_user("moderator")
        yield srv
    finally:
        srv.stop()


def api(server, token, method, path, body=None):
    request = urllib.request.Request(server.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_api_to_worker_to_queue_to_decision_to_webhook(page, server, receiver):
    token = server.flask("tokens", "create", "marketplace").strip().splitlines()[-1]
    assert api(server, token, "PUT", "/api/v1/clients/c-1",
               {"name": "Quick Cash Ltd", "joined_at": "2026-11-20T00:00:00Z"})[0] == 201
    for ext, (title, text, category) in POSTS.items():
        status, _ = api(server, token, "PUT", f"/api/v1/posts/{ext}", {
            "client_id": "c-1", "title": title, "description": text, "category": category,
            "posted_at": "2026-11-25T09:00:00Z"})
        assert status == 201

    def scored() -> bool:
        return all(api(server, token, "GET", f"/api/v1/posts/{ext}")[1]["scored_at"]
                   for ext in POSTS)

    wait_for(scored, timeout=90, what="the worker to score the three posts")
    flags = {ext: {f["reason"] for f in api(server, token, "GET", f"/api/v1/posts/{ext}")[1]
                   ["open_flags"]} for ext in POSTS}
    assert "scam" in flags["p-scam"]
    assert "miscategorised" in flags["p-selfad"]
    assert flags["p-short"] == set()  # a short honest post is never flagged

    log_in(page, server, "moderator")
    rows = page.locator("tr[data-row]")
    assert "Data entry from home" in rows.first.inner_text()  # scam first
    assert page.get_by_text("Need a logo for my bakery").count() == 0
    screenshot(page, "ingest-queue")
    rows.first.get_by_role("link").click()
    page.get_by_text("Claimed by you").wait_for()
    assert page.locator("mark.ev").count() >= 1  # the evidence is highlighted
    page.get_by_role("button", name="Remove post").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Confirm").click()
    page.get_by_text("Post removed; the client will be told.").wait_for()
    screenshot(page, "ingest-case-removed")
    assert api(server, token, "GET", "/api/v1/posts/p-scam")[1]["status"] == "removed"

    wait_for(lambda: receiver.received, timeout=90, what="the post.removed webhook")
    [delivery] = receiver.received
    assert verify(delivery["body"], delivery["headers"]["X-TrustDesk-Signature"], SECRET)
    event = json.loads(delivery["body"])
    assert event["type"] == "post.removed"
    assert page.console_errors == [] and page.dialogs == []
