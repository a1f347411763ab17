"""The automation tiers page in Chromium against gunicorn on PostgreSQL: measured
precision per reason, an admin raises a cap and the tier unlocks at once, no console
errors."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, new_page, screenshot, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path, pg_url):
    srv = start_server(tmp_path, {"DATABASE_URL": pg_url})
    try:
        for role in ("admin", "moderator"):
            srv.create_user(role)
        yield srv
    finally:
        srv.stop()


def seed(url: str, upheld: int, dismissed: int) -> None:
    """Scam flags decided by a moderator: ``upheld`` removed, ``dismissed`` dismissed."""
    from sqlmodel import Session, select

    from app.db import make_engine
    from models import Client, Decision, Flag, JobPost, Moderator, utcnow

    engine = make_engine(url)
    when = utcnow() - timedelta(days=1)
    with Session(engine) as s:
        mod = s.exec(select(Moderator).where(Moderator.role == "moderator")).one()
        client = Client(external_id="c1", name="Acme")
        s.add(client)
        s.flush()
        for i in range(upheld + dismissed):
            keep = i < upheld
            post = JobPost(external_id=f"p{i}", client_id=client.id, title=f"Post {i}",
                           description="d", content_hash=f"h{i}",
                           status="removed" if keep else "live")
            s.add(post)
            s.flush()
            flag = Flag(subject_type="post", subject_id=post.id, client_id=client.id,
                        post_id=post.id, reason="scam", score=0.9, created_at=when,
                        status="resolved" if keep else "dismissed")
            s.add(flag)
            s.flush()
            s.add(Decision(flag_id=flag.id, subject_type="post", subject_id=post.id,
                           client_id=client.id, post_id=post.id, moderator_id=mod.id,
                           action="remove" if keep else "dismiss", created_at=when,
                           details={"reason_code": "scam"} if keep else {}))
        s.commit()
    engine.dispose()


def test_an_admin_unlocks_hold_for_a_reason_measured_precise_enough(browser, server):
    seed(server.env["DATABASE_URL"], upheld=300, dismissed=0)
    context, page = new_page(browser)
    log_in(page, server, "admin")
    page.goto(server.url + "/models/tiers")
    row = page.locator("#tier-scam")
    expect(row.locator("td").nth(0)).to_have_text("300")
    expect(row.locator(".tier-review")).to_have_count(1)
    screenshot(page, "automation-tiers")
    row.get_by_label("Highest tier for scam").select_option("hold")
    row.get_by_role("button", name="Set").click()
    page.wait_for_url("**/models/tiers")
    expect(page.locator("#tier-scam .tier-hold")).to_have_count(1)
    expect(page.get_by_text("highest tier hold; in force: hold")).to_be_visible()
    # a reason without decisions stays in review under the same cap
    off = page.locator("#tier-policy-off_platform")
    off.get_by_label("Highest tier for policy: off platform").select_option("hold")
    off.get_by_role("button", name="Set").click()
    page.wait_for_url("**/models/tiers")
    expect(page.locator("#tier-policy-off_platform .tier-review")).to_have_count(1)
    assert page.console_errors == []
    context.close()
