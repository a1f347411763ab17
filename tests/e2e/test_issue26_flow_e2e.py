"""Issue 26's one flow, end to end and all real (gunicorn, PostgreSQL, Redis, a `flask worker`,
Chromium, a webhook receiver standing in for the marketplace): a scam post and the
freelancers who applied to it arrive through the API and the worker flags it; a moderator
removes it; once the undo window has passed the marketplace gets a signed `freelancer.notice`
per freelancer; the client appeals through `POST /api/v1/appeals` with the decision id the
`post.removed` event carried; a second moderator overturns the appeal in the console; the
post is live again and the marketplace got both events, `appeal.decided` and the reversal's
own `post.reinstated`."""
from __future__ import annotations

import pytest

from tests.e2e import flows
from tests.e2e.conftest import REDIS_URL, log_in, new_page, screenshot, start_server
from tests.e2e.test_ingest_e2e import SECRET, api
from tests.support.receiver import Receiver, receiver  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e
UNDO_SECONDS = 4


@pytest.fixture
def server(tmp_path, pg_url, redis_client, receiver):
    srv = start_server(tmp_path, {"DATABASE_URL": pg_url, "REDIS_URL": REDIS_URL,
                                  "MARKETPLACE_WEBHOOK_URL": receiver.url,
                                  "WEBHOOK_SECRET": SECRET, "UNDO_SECONDS": str(UNDO_SECONDS)})
    try:
        srv.start_worker()
        srv.create_user("moderator")
        srv.create_user("moderator", "moderator2")  # the second decider: not an admin
        yield srv
    finally:
        srv.stop()


def test_removed_scam_post_notified_appealed_overturned_and_live_again(page, browser, server,
                                                                       receiver):
    # 1-2. the marketplace sends the post and who applied to it, the worker flags it, and a
    # moderator removes it: three freelancers notified, held for the undo window
    token = flows.scam_post_removed_by_a_moderator(page, server)
    [removed] = flows.wait_for_event(receiver, SECRET, "post.removed")
    decision_id = removed["data"]["decision"]
    assert removed["data"]["post"] == flows.SCAM_POST and removed["data"]["reason"] == "scam"

    # 3. the window passes: the marketplace gets one notice per freelancer, and no evidence
    notices = flows.wait_for_event(receiver, SECRET, "freelancer.notice", count=3)
    assert sorted(n["data"]["freelancer"] for n in notices) == ["fl-ana", "fl-ben", "fl-cho"]
    assert {(n["data"]["post"], n["data"]["decision"]) for n in notices} == {
        (flows.SCAM_POST, decision_id)}
    assert all("hr_jobs_fast" not in str(n) and "moderator@" not in str(n) for n in notices)
    page.reload()
    assert "3 freelancers notified: 3 sent, 0 pending" in flows.notices_line(page)

    # 4. the client appeals; the marketplace forwards it with the decision id of the event
    appeal = flows.appeal(server, token, decision_id,
                          "We are a real agency; the starter kit is optional.")
    page.reload()  # the decision now links to its appeal instead of offering to record one
    appeal_link = page.get_by_role("link", name=f"Appealed: appeal #{appeal['id']}")
    assert appeal_link.count() >= 1
    assert page.get_by_role("link", name="Record an appeal").count() == 0
    screenshot(page, "issue26-case-appealed")

    # 5. the moderator who removed it may not decide the appeal; a second moderator does
    appeal_link.first.click()
    page.get_by_text("another moderator (or an admin) decides it").wait_for()
    context, second = new_page(browser, height=900)
    log_in(second, server, "moderator2")
    second.get_by_role("link", name="Appeals").click()
    assert second.locator("#appeals-pending").inner_text() == "1"
    flows.overturn(second, server, appeal["id"], "The kit is optional; the employer is verified.",
                   screenshot_as=lambda p: screenshot(p, "issue26-appeal-page"))
    screenshot(second, "issue26-appeal-overturned")

    # 6. the post is live again, and the marketplace got both events
    post = api(server, token, "GET", f"/api/v1/posts/{flows.SCAM_POST}")[1]
    assert post["status"] == "live"
    [decided] = flows.wait_for_event(receiver, SECRET, "appeal.decided")
    assert (decided["data"]["decision"], decided["data"]["outcome"]) == (decision_id, "overturned")
    assert decided["data"]["appeal"] == appeal["id"]
    [reinstated] = flows.wait_for_event(receiver, SECRET, "post.reinstated")
    assert reinstated["data"]["post"] == flows.SCAM_POST
    assert reinstated["data"]["reason"] == "appeal_overturned"
    assert reinstated["data"]["decision"] in decided["data"]["reversal"]

    # 7. the client's page (linked from the appeal): the strike is gone; each notice went once
    second.get_by_role("link", name="Quick Cash Ltd").first.click()
    second.locator("#strikes").wait_for()
    assert "Strikes: 0 active weight" in second.locator("#strikes").inner_text()
    screenshot(second, "issue26-client-page")
    assert len(flows.signed_events(receiver, SECRET, "freelancer.notice")) == 3
    assert page.console_errors == [] and second.console_errors == []
    context.close()
