"""Notices to affected freelancers, all real: a scam post and the freelancers who applied to
it arrive through the API under gunicorn, a real `flask worker` (PostgreSQL + Redis) flags
it, a moderator removes it in Chromium, the case page says how many freelancers were
notified, and once the undo window has passed the marketplace's webhook receiver gets one
signed `freelancer.notice` per freelancer (and the one with an address an e-mail)."""
from __future__ import annotations

import json

import pytest

from tests.e2e import flows
from tests.e2e.conftest import REDIS_URL, screenshot, start_server
from tests.e2e.smtp_sink import SmtpSink
from tests.e2e.test_ingest_e2e import SECRET
from tests.support.receiver import Receiver, receiver  # noqa: F401  (fixture)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
UNDO_SECONDS = 4


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
    return flows.signed_events(receiver, SECRET, "freelancer.notice")


def test_scam_removed_then_freelancers_notified_then_the_marketplace_got_them(
        page, server, receiver, smtp):
    flows.scam_post_removed_by_a_moderator(page, server)
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
    assert len(flows.signed_events(receiver, SECRET)) == len(receiver.received)  # all signed
    for n in got:  # neither the evidence nor the moderator
        text = json.dumps(n)
        assert "hr_jobs_fast" not in text and "starter kit" not in text
        assert "moderator@e2e.example.com" not in text
    assert smtp.messages[0][1] == ["ana@example.org"]

    page.reload()
    assert "3 freelancers notified: 3 sent, 0 pending" in flows.notices_line(page)
    screenshot(page, "notices-case-sent")
    assert page.console_errors == [] and page.dialogs == []
