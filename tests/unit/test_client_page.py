"""The client page at size (issue 27): a few Core reads, the newest feedbacks and posts
first and older ones by "show older" panels (keyset pages, htmx or plain pages), the chart
over all recent feedback; a bad position is a 400 or a 404."""
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


HX = {"HX-Request": "true"}


def _more_link(html: str, kind: str) -> str | None:
    """The URL of the "show older" control of ``kind`` in ``html`` (htmx and plain href
    agree), or None."""
    found = re.search(rf'<(?:li|tr) id="{kind}-more"[^>]*>.*?<a href="([^"]+)" '
                      rf'hx-get="([^"]+)" hx-target="#{kind}-more"', html, re.S)
    if not found:
        return None
    assert found.group(1) == found.group(2)
    return found.group(1).replace("&amp;", "&")


def _walk(client, first_html: str, kind: str, pattern: str, *, htmx: bool) -> list[list[str]]:
    """The rows of ``kind`` on the first screen, then on each panel the "show older"
    control fetches (through htmx, or as a plain page), until none follows."""
    pages = [re.findall(pattern, first_html)]
    url = _more_link(first_html, kind)
    while url:
        r = client.get(url, headers={**HX, "HX-Target": f"{kind}-more"} if htmx else {})
        assert r.status_code == 200, r.text[:300]
        is_page = r.text.lstrip().lower().startswith("<!doctype")
        assert is_page is not htmx  # a fragment for htmx, a whole page otherwise
        pages.append(re.findall(pattern, r.text))
        url = _more_link(r.text, kind)
        assert len(pages) < 10
    return pages


def test_the_first_screen_shows_the_newest_rows_and_older_ones_follow_on_request(client, db,
                                                                                 staff):
    c = _big_client(db)
    as_user(client, "moderator@example.com")
    html = client.get(f"/clients/{c.id}").text
    first = client_file.FIRST_ROWS
    shown = re.findall(r"feedback number (\d{3})", html)
    assert shown == [f"{i:03d}" for i in range(first)]  # newest first
    assert "Feedback from freelancers (120)" in html and "Posts (60)" in html  # the totals
    assert len(re.findall(r"Post number \d{3}", html)) == first
    chart = json.loads(re.search(r"data-chart='([^']*)'", html).group(1))
    assert len(chart["ratings"]) == 120  # the chart: every recent feedback, not a page
    for htmx in (True, False):
        pages = _walk(client, html, "feedback", r"feedback number (\d{3})", htmx=htmx)
        assert [len(p) for p in pages] == [first, 50, 50, 120 - first - 100]
        assert sum(pages, []) == [f"{i:03d}" for i in range(120)]  # each once, in order
        posts = _walk(client, html, "posts", r"Post number (\d{3})", htmx=htmx)
        assert [len(p) for p in posts] == [first, 50]
        assert sum(posts, []) == [f"{i:03d}" for i in reversed(range(60))]


def test_a_small_client_has_no_show_older_control(client, db, staff):
    c = _big_client(db, posts=client_file.FIRST_ROWS, feedbacks=client_file.FIRST_ROWS)
    as_user(client, "moderator@example.com")
    html = client.get(f"/clients/{c.id}").text
    assert len(re.findall(r"feedback number \d{3}", html)) == client_file.FIRST_ROWS
    assert _more_link(html, "feedback") is None and _more_link(html, "posts") is None
    assert "feedback-more" not in html and "posts-more" not in html


def test_rows_with_the_same_time_are_each_shown_once(client, db, staff):
    """The keyset is (time, id): rows sharing a timestamp across a page boundary are
    neither skipped nor repeated."""
    c = _big_client(db, posts=2, feedbacks=70)
    db.execute(sa.text("UPDATE feedback SET created_at = (SELECT max(created_at) FROM feedback "
                       "WHERE client_id = :c) WHERE client_id = :c"), {"c": c.id})
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get(f"/clients/{c.id}").text
    pages = _walk(client, html, "feedback", r"feedback number (\d{3})", htmx=True)
    assert [len(p) for p in pages] == [client_file.FIRST_ROWS, 50, 70 - 50 - client_file.FIRST_ROWS]
    # one timestamp: newest first is the id order, descending (made in the order 000..069)
    assert sum(pages, []) == [f"{i:03d}" for i in reversed(range(70))]


def test_bad_show_older_positions_are_4xx_never_a_500(client, db, staff):
    c = _big_client(db, posts=2, feedbacks=2)
    other = _big_client(db, posts=2, feedbacks=2)
    as_user(client, "moderator@example.com")
    for kind in ("feedback", "posts"):
        for bad in ("-1", "x", "1.5", str(2**40), "1e3"):
            r = client.get(f"/clients/{c.id}/{kind}?after={bad}")
            assert r.status_code == 400, (kind, bad, r.status_code)
            assert "after" in r.text
        assert client.get(f"/clients/999999/{kind}").status_code == 404
        # a row of another client, or none at all, is no position in this client's list
        theirs = db.execute(sa.text(f"SELECT max(id) FROM {'feedback' if kind == 'feedback' else 'job_post'} "
                                    "WHERE client_id = :c"), {"c": other.id}).scalar()
        assert client.get(f"/clients/{c.id}/{kind}?after={theirs}").status_code == 404
        assert client.get(f"/clients/{c.id}/{kind}?after=999999").status_code == 404
        assert client.get(f"/clients/{c.id}/{kind}").status_code == 200  # from the newest


def test_hostile_text_is_escaped_in_the_panels_and_their_pages(client, db, staff):
    c = make_client(db, name="<script>alert('n')</script> Ltd")
    for i in range(client_file.FIRST_ROWS + 2):
        make_post(db, c, title=f"<img src=x onerror=alert({i})> post")
        make_feedback(db, c, rating=1, negative=0.9, days_ago=1 + i,
                      comment=f"<script>alert({i})</script> & </li></ul><b id=pwn>")
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get(f"/clients/{c.id}").text
    for kind in ("feedback", "posts"):
        url = _more_link(html, kind)
        for headers in ({**HX, "HX-Target": f"{kind}-more"}, {}):
            text = client.get(url, headers=headers).text
            assert "<script>alert(" not in text and "<img src=x" not in text
            assert "<b id=pwn>" not in text
        page = client.get(url).text
        assert "&lt;script&gt;alert(&#39;n&#39;)&lt;/script&gt; Ltd" in page
    assert "&lt;script&gt;alert(11)&lt;/script&gt; &amp; &lt;/li&gt;&lt;/ul&gt;&lt;b id=pwn&gt;" in client.get(
        _more_link(html, "feedback"), headers=HX).text


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
