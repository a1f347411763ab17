"""An appeal end to end, all real: a scam post removed by one moderator in Chromium, the
client's appeal forwarded by the marketplace through the API with the decision id its
webhook carried, a second moderator overturning it in Chromium, the post live again and the
marketplace sent both events (``post.reinstated`` and ``appeal.decided``), signed."""
from __future__ import annotations

import pytest

from tests.e2e import flows
from tests.e2e.conftest import log_in, screenshot, start_server
from tests.e2e.test_ingest_e2e import api
from tests.support.receiver import Receiver, receiver  # noqa: F401  (fixture)
from tests.support.waiting import wait_for
from tests.unit.console_fixtures import scam_case

pytestmark = pytest.mark.e2e
SECRET = "whsec-e2e-appeals-0123456789"


@pytest.fixture
def server(tmp_path, receiver):
    srv = start_server(tmp_path, {"MARKETPLACE_WEBHOOK_URL": receiver.url,
                                  "WEBHOOK_SECRET": SECRET})
    try:
        srv.create_user("moderator")
        srv.create_user("admin")  # the second decider: someone other than the moderator
        yield srv
    finally:
        srv.stop()


def _events(receiver) -> list[dict]:
    return flows.signed_events(receiver, SECRET)


def test_removed_scam_post_appealed_through_the_api_and_overturned(page, browser, server,
                                                                     receiver, db):
    client, post, _flag = scam_case(db, title="Data entry from home - $500/day")
    db.commit()
    token = server.flask("tokens", "create", "marketplace").strip().splitlines()[-1]

    # 1. the first moderator removes the scam post
    log_in(page, server, "moderator")
    page.goto(f"{server.url}/posts/{post.id}")
    flows.remove_post(page)
    [removed] = flows.wait_for_event(receiver, SECRET, "post.removed", timeout=60)
    decision_id = removed["data"]["decision"]

    # 2. the client appeals; the marketplace forwards it with the decision id from the event
    body = flows.appeal(server, token, decision_id,
                        "This is a real job at our office; we never ask for fees.",
                        appellant=client.external_id)

    # 3. the original decider may not decide it
    page.goto(f"{server.url}/appeals/")
    page.get_by_role("link", name=f"#{body['id']}").click()
    page.get_by_text("another moderator (or an admin) decides it").wait_for()

    # 4. a second moderator (an admin) overturns it
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    second = context.new_page()
    second.console_errors = []
    second.on("pageerror", lambda e: second.console_errors.append(str(e)))
    log_in(second, server, "admin")
    second.get_by_role("link", name="Appeals").click()
    assert second.locator("#appeals-pending").inner_text() == "1"
    second.get_by_role("link", name=f"#{body['id']}").click()
    assert "we never ask for fees" in second.locator(".appeal-text").inner_text()
    assert second.get_by_text("registration fee").count() >= 1  # the judged snapshot
    screenshot(second, "appeal-page")
    second.get_by_label("Overturn", exact=False).check()
    second.get_by_label("Reason (required").fill("Verified employer; the fee text was a quote.")
    second.get_by_role("button", name="Decide the appeal").click()
    second.get_by_text("Appeal overturned: the decision was reversed.").wait_for()
    screenshot(second, "appeal-overturned")

    # 5. the post is live again, and the marketplace got both events
    assert api(server, token, "GET", f"/api/v1/posts/{post.external_id}")[1]["status"] == "live"
    wait_for(lambda: {"post.reinstated", "appeal.decided"} <= {e["type"] for e in _events(receiver)},
             timeout=60, what="the post.reinstated and appeal.decided webhooks")
    decided = next(e for e in _events(receiver) if e["type"] == "appeal.decided")
    assert decided["data"]["decision"] == decision_id
    assert decided["data"]["outcome"] == "overturned"
    reinstated = next(e for e in _events(receiver) if e["type"] == "post.reinstated")
    assert reinstated["data"]["post"] == post.external_id
    assert page.console_errors == [] and second.console_errors == []
    context.close()
