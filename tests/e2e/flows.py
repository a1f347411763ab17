"""Steps the end-to-end flows of issue 26 share (removal, notices, appeal, overturn), so each
test says what it checks, not how to click: the marketplace's side through the API and the
webhook receiver, the moderators' side in Chromium."""
from __future__ import annotations

import json

from app.services.webhooks import verify
from tests.e2e.test_ingest_e2e import POSTS, api
from tests.support.waiting import wait_for

CLIENT = "c-1"
SCAM_POST = "p-scam"
CONTACTS = [{"freelancer_id": "fl-ana", "kind": "applicant", "email": "ana@example.org"},
            {"freelancer_id": "fl-ben", "kind": "applicant"},
            {"freelancer_id": "fl-cho", "kind": "messaged"}]


def signed_events(receiver, secret: str, *types: str) -> list[dict]:
    """What the marketplace's receiver got, each signature checked, oldest first (only
    ``types`` if given)."""
    out = []
    for delivery in receiver.received:
        assert verify(delivery["body"], delivery["headers"]["X-TrustDesk-Signature"], secret)
        event = json.loads(delivery["body"])
        if not types or event["type"] in types:
            out.append(event)
    return out


def wait_for_event(receiver, secret: str, event_type: str, *, count: int = 1,
                   timeout: float = 90) -> list[dict]:
    wait_for(lambda: len(signed_events(receiver, secret, event_type)) >= count,
             timeout=timeout, what=f"{count} {event_type} webhook(s)")
    return signed_events(receiver, secret, event_type)


def scam_post_with_contacts(server, token: str, contacts=CONTACTS) -> None:
    """The marketplace sends a client, the scam post (with its first contact in the post's
    payload) and then the whole list of contacts; the worker flags the post."""
    assert api(server, token, "PUT", f"/api/v1/clients/{CLIENT}",
               {"name": "Quick Cash Ltd", "joined_at": "2026-11-20T00:00:00Z"})[0] == 201
    title, text, category = POSTS[SCAM_POST]
    assert api(server, token, "PUT", f"/api/v1/posts/{SCAM_POST}", {
        "client_id": CLIENT, "title": title, "description": text, "category": category,
        "posted_at": "2026-11-25T09:00:00Z", "contacts": contacts[:1]})[0] == 201
    status, body = api(server, token, "PUT", f"/api/v1/posts/{SCAM_POST}/contacts",
                       {"contacts": contacts})
    assert status == 200 and body == {"post_id": SCAM_POST, "contacts": len(contacts),
                                      "result": "updated"}
    assert api(server, token, "PUT", f"/api/v1/posts/{SCAM_POST}/contacts",
               {"contacts": contacts})[1]["result"] == "unchanged"

    def flagged() -> bool:
        post = api(server, token, "GET", f"/api/v1/posts/{SCAM_POST}")[1]
        return bool(post["scored_at"]) and "scam" in {f["reason"] for f in post["open_flags"]}

    wait_for(flagged, timeout=90, what="the worker to flag the scam post")


def scam_post_removed_by_a_moderator(page, server) -> str:
    """The marketplace's token; the scam post and its contacts ingested and flagged
    (``scam_post_with_contacts``); a moderator opens it from the queue and removes it: the
    case page says its three freelancers are notified, pending until the undo window ends."""
    from tests.e2e.conftest import log_in

    token = server.flask("tokens", "create", "marketplace").strip().splitlines()[-1]
    scam_post_with_contacts(server, token)
    log_in(page, server, "moderator")
    page.locator("tr[data-row]").first.get_by_role("link").click()
    remove_post(page)
    assert "3 freelancers notified: 0 sent, 3 pending" in notices_line(page)
    return token


def remove_post(page) -> None:
    """On an open post case (claimed on opening): Remove post, confirmed."""
    page.get_by_text("Claimed by you").wait_for()
    page.get_by_role("button", name="Remove post").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Confirm").click()
    page.get_by_text("Post removed; the client will be told.").wait_for()


def notices_line(page) -> str:
    """The case page's "N freelancers notified: ..." line, whitespace folded."""
    section = page.locator("#freelancer-notices")
    section.wait_for()
    return " ".join(section.inner_text().split())


def appeal(server, token: str, decision_id: int, text: str,
           appellant: str = CLIENT) -> dict:
    """The client's appeal, forwarded by the marketplace with the decision id its webhook
    event carried."""
    status, body = api(server, token, "POST", "/api/v1/appeals",
                       {"decision": decision_id, "appellant": appellant, "text": text})
    assert status == 201 and body["status"] == "pending", body
    return body


def overturn(page, server, appeal_id: int, reason: str, screenshot_as=None) -> None:
    """A moderator who did not take the decision opens the appeal from the queue and
    overturns it."""
    page.goto(f"{server.url}/appeals/")
    page.get_by_role("link", name=f"#{appeal_id}").click()
    if screenshot_as:
        screenshot_as(page)
    page.get_by_label("Overturn", exact=False).check()
    page.get_by_label("Reason (required").fill(reason)
    page.get_by_role("button", name="Decide the appeal").click()
    page.get_by_text("Appeal overturned: the decision was reversed.").wait_for()
