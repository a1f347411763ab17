"""The client page at size (issue 27): a few Core reads, bounded lists with pages of the
feedback and the posts (newest first), the chart over all recent feedback; bad page
numbers are a 400."""
from __future__ import annotations

import json
import re

import sqlalchemy as sa

from app.db import get_engine
from app.services import client_file
from tests.unit.console_fixtures import (as_user, db, make_client, make_feedback,  # noqa: F401
                                         make_flag, make_post, staff)


def _big_client(db, posts: int = 60, feedbacks: int = 120):
    c = make_client(db, name="Busy Ltd")
    made = [make_post(db, c, title=f"Post number {i:03d}") for i in range(posts)]
    for i in range(feedbacks):
        make_feedback(db, c, rating=1 + i % 5, negative=0.1, days_ago=1 + i,
                      comment=f"feedback number {i:03d}")
    make_flag(db, made[0])
    db.commit()
    return c


def test_feedback_and_posts_are_shown_by_pages_newest_first(client, db, staff):
    c = _big_client(db)
    as_user(client, "moderator@example.com")
    html = client.get(f"/clients/{c.id}").text
    shown = re.findall(r"feedback number (\d{3})", html)
    assert shown == [f"{i:03d}" for i in range(client_file.PAGE_SIZE)]  # newest first
    assert f"1–{client_file.PAGE_SIZE} of 120, newest first" in html
    assert f"feedback_page=1" in html and "feedback_page=0" not in html
    assert len(re.findall(r"Post number \d{3}", html)) == client_file.PAGE_SIZE
    assert "posts_page=1" in html
    chart = json.loads(re.search(r"data-chart='([^']*)'", html).group(1))
    assert len(chart["ratings"]) == 120  # the chart: every recent feedback, not a page
    last = client.get(f"/clients/{c.id}?feedback_page=2").text
    assert re.findall(r"feedback number (\d{3})", last) == [f"{i:03d}" for i in range(100, 120)]
    assert "101–120 of 120" in last and "feedback_page=1" in last and "feedback_page=3" not in last


def test_a_bad_page_number_is_a_400_never_a_500(client, db, staff):
    c = _big_client(db, posts=2, feedbacks=2)
    as_user(client, "moderator@example.com")
    for bad in ("-1", "x", "1.5", str(2**40)):
        r = client.get(f"/clients/{c.id}?feedback_page={bad}")
        assert r.status_code == 400, (bad, r.status_code)
        assert client.get(f"/clients/{c.id}?posts_page={bad}").status_code == 400
    assert client.get(f"/clients/{c.id}?posts_page=99").status_code == 200


def test_the_page_reads_do_not_grow_with_the_client(client, db, staff):
    """The same statements for a client with 2 posts and 2 feedbacks as with 60 and 120."""
    small, big = _big_client(db, posts=2, feedbacks=2), _big_client(db)
    as_user(client, "moderator@example.com")

    def statements(client_id: int) -> int:
        seen = []
        listener = lambda *a: seen.append(1)  # noqa: E731
        sa.event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            assert client.get(f"/clients/{client_id}").status_code == 200
        finally:
            sa.event.remove(get_engine(), "before_cursor_execute", listener)
        return len(seen)

    statements(small.id)  # warm: the session and user loading
    assert statements(small.id) == statements(big.id) <= 14
