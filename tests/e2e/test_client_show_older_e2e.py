"""The client page's "show older" panels in Chromium (issue 27): the first screen lists the
newest feedbacks and posts; each click on "Show older ..." swaps the next rows in under the
list (table rows for the posts), until the control is gone, with every row shown once."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.services import client_file
from tests.e2e.conftest import log_in, screenshot
from tests.unit.console_fixtures import make_client, make_feedback, make_post

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(live_server):
    live_server.create_user("moderator")
    return live_server


def test_show_older_feedback_and_posts(page, server, db):
    client = make_client(db, name="Busy <b>Ltd</b>")
    for i in range(70):
        make_feedback(db, client, rating=1 + i % 5, negative=0.2, days_ago=1 + i,
                      comment=f"feedback number {i:03d}")
    for i in range(15):
        make_post(db, client, title=f"Post number {i:03d}")
    db.commit()
    first = client_file.FIRST_ROWS

    log_in(page, server, "moderator")
    page.goto(f"{server.url}/clients/{client.id}")
    feedback = page.locator("ul.feedback-list > li:not(.more) .feedback-text")
    posts = page.locator("#posts-h ~ table tbody tr:not(.more)")
    assert feedback.count() == first and posts.count() == first
    page.get_by_role("link", name="Show older feedback").click()
    expect(page.locator("ul.feedback-list > li:not(.more)")).to_have_count(first + 50)
    page.get_by_role("link", name="Show older feedback").click()
    expect(page.locator("ul.feedback-list > li:not(.more)")).to_have_count(70)
    assert page.locator("#feedback-more").count() == 0
    assert feedback.all_inner_texts() == [f"feedback number {i:03d}" for i in range(70)]
    page.get_by_role("link", name="Show older posts").click()
    expect(page.locator("#posts-more")).to_have_count(0)
    titles = [t.split("\t")[0] for t in posts.all_inner_texts()]
    assert titles == [f"Post number {i:03d}" for i in reversed(range(15))]
    assert page.locator("h1").inner_text() == "Busy <b>Ltd</b>"  # escaped, shown as text
    screenshot(page, "issue27-client-show-older")
