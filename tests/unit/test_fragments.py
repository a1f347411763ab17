"""Pure macros rendered once per distinct input (app/fragments.py), and the queue's rows
and filter form built on them: a kept fragment must never show anyone something stale,
someone else's view, or unescaped text."""
from __future__ import annotations

from datetime import timedelta

from app.web.fragments import _render, pure_macro
from app.services.queue import RowDisplay
from models import utcnow
from tests.unit.console_fixtures import as_user, db, scam_case, staff  # noqa: F401 (fixtures)


def _view(**changes) -> RowDisplay:
    base = dict(item="2:1", flag_id=2, bulk_ok=True,
                reason="scam", policy_text="", subject_text="A title",
                suspend_recommended=False, escalated=False, post_badge="", client_name="Acme",
                client_badge="", category_text="Writing", score_text="0.91",
                priority_text="80", waiting_text="5 min", overdue_text="",
                claimed_by_email=None, other_reasons=())
    return RowDisplay(**{**base, **changes})


def _row(view: RowDisplay, case_url: str = "/posts/1?flag=2", can_act: bool = True):
    return pure_macro("queue/_row.html", "queue_row", view, case_url, can_act)


def test_a_pure_macro_is_rendered_once_per_distinct_arguments(app):
    with app.test_request_context("/"):
        _render.cache_clear()
        first = _row(_view())
        again = _row(_view())
        assert again is first and _render.cache_info().hits == 1
        moved_on = _row(_view(waiting_text="6 min"))
        assert moved_on is not first and "6 min" in moved_on and "5 min" not in moved_on
        read_only = _row(_view(), can_act=False)
        assert 'name="item"' in first and 'name="item"' not in read_only


def test_every_value_of_a_row_is_escaped(app):
    hostile = "<img src=x onerror=alert(1)>"
    with app.test_request_context("/"):
        html = str(_row(_view(subject_text=hostile, client_name=hostile, policy_text=hostile,
                              claimed_by_email=hostile),
                        case_url='javascript:alert(1)" onclick="x'))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'onclick="x"' not in html and "&#34; onclick=&#34;x" in html


def test_a_kept_row_does_not_carry_one_users_view_to_another(client, db, staff):
    """The same flag, seen by a moderator (checkboxes), then an analyst (read-only), then a
    moderator again after someone claimed it: each sees their own, current row."""
    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    assert f'value="{flag.id}:1"' in client.get("/queue/").text
    analyst = as_user(client.application.test_client(), "analyst@example.com")
    html = analyst.get("/queue/").text
    assert f"/posts/{post.id}?flag={flag.id}" in html and 'name="item"' not in html
    flag.claimed_by = staff["moderator2"].moderator_id
    flag.claimed_until = utcnow() + timedelta(minutes=5)
    db.commit()
    html = client.get("/queue/").text
    assert '<span class="claimed">moderator2@example.com</span>' in html


def test_a_title_edit_shows_at_once(client, db, staff):
    _c, post, _flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    assert post.title in client.get("/queue/").text
    post.title = "An edited title <b>bold</b>"
    db.commit()
    html = client.get("/queue/").text
    assert "An edited title &lt;b&gt;bold&lt;/b&gt;" in html


def test_the_filter_form_shows_the_filters_in_force(client, db, staff):
    as_user(client, "moderator@example.com")
    plain = client.get("/queue/").text
    assert '<option value="writing" selected>' not in plain
    html = client.get("/queue/?category=writing&q=%3Cscript%3E").text
    assert '<option value="writing" selected>' in html
    assert 'value="&lt;script&gt;"' in html and "<script>" not in html.split("</head>")[1]
    assert '<option value="writing" selected>' not in client.get("/queue/").text
