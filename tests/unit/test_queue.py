"""The queue: ordering, filters, search, keyset pages, counts, ageing, fragments, bulk."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.services import queue as q
from models import Flag, utcnow
from tests.unit.console_fixtures import (as_user, db, make_client, make_flag,  # noqa: F401
                                         make_post, scam_case, staff, token)


def page(db, limit=50, **filters):
    return q.page(db, filters=q.Filters(**filters), moderator_id=None, limit=limit)


def test_priority_and_age_combine(db):
    c = make_client(db)
    now = utcnow()
    fresh_high = make_flag(db, make_post(db, c), priority=60, created_at=now)
    old_low = make_flag(db, make_post(db, c), priority=40, created_at=now - timedelta(hours=50))
    fresh_low = make_flag(db, make_post(db, c), priority=40, created_at=now)
    top = make_flag(db, client=c, reason="negative_client", priority=1000,
                    system_note="suspend recommended")
    db.commit()
    ids = [r.flag.id for r in page(db).rows]
    # 40 + 0.5/h * 50 h = 65 > 60: waiting items rise; "suspend recommended" stays first
    assert ids == [top.id, old_low.id, fresh_high.id, fresh_low.id]


def test_keyset_pagination_visits_every_item_once(db):
    c = make_client(db)
    now = utcnow()
    made = {make_flag(db, make_post(db, c), priority=float(i % 7),
                      created_at=now - timedelta(minutes=i)).id for i in range(23)}
    db.commit()
    seen, cursor = [], None
    while True:
        p = q.page(db, filters=q.Filters(), moderator_id=None, limit=5, cursor=cursor)
        seen += [r.flag.id for r in p.rows]
        cursor = p.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 23 and set(seen) == made


def test_filters(db, staff):
    c = make_client(db, name="Acme Widgets")
    scam = make_flag(db, make_post(db, c, title="Crypto job", category="writing"), score=0.95)
    policy = make_flag(db, make_post(db, make_client(db), description="pay via paypal friends"),
                       reason="policy", policy_types=["off_platform"], score=0.6)
    mis = make_flag(db, make_post(db, make_client(db), category="legal"),
                    reason="miscategorised", score=0.4)
    closed = make_flag(db, make_post(db, c), status="dismissed")
    mine = make_flag(db, make_post(db, make_client(db)), claimed_by=staff["moderator"].moderator_id,
                     claimed_until=utcnow() + timedelta(minutes=5))
    expired = make_flag(db, make_post(db, make_client(db)),
                        claimed_by=staff["moderator2"].moderator_id,
                        claimed_until=utcnow() - timedelta(minutes=1))
    db.commit()

    def ids(**f):
        return {r.flag.id for r in q.page(db, filters=q.Filters(**f),
                                          moderator_id=staff["moderator"].moderator_id,
                                          limit=50).rows}
    assert closed.id not in ids()
    assert ids(reason="policy") == {policy.id}
    assert ids(policy="off_platform") == {policy.id}
    assert ids(category="legal") == {mis.id}
    assert ids(min_score=0.5, max_score=0.7) == {policy.id}
    assert ids(claim="mine") == {mine.id}
    assert ids(claim="claimed") == {mine.id}
    assert expired.id in ids(claim="unclaimed") and mine.id not in ids(claim="unclaimed")
    assert ids(q="acme") == {scam.id}          # client name
    assert ids(q="CRYPTO") == {scam.id}        # title, case-insensitive
    assert ids(q="paypal friends") == {policy.id}  # description
    assert ids(q="100%") == set()              # LIKE wildcards are literal


def test_filters_from_args_ignore_junk_and_say_so():
    f = q.Filters.from_args({"reason": "evil", "min_score": "x", "max_score": "7", "claim": "all",
                             "category": "writing", "q": " hi "})
    assert f == q.Filters(category="writing", max_score=1.0, q="hi")
    assert f.notes == ("Reason \u201cevil\u201d is not one of the choices: left out.",
                       "Score from \u201cx\u201d is not a number: left out.",
                       "Score to 7 is outside 0-1: read as 1.",
                       "Claimed \u201call\u201d is not one of the choices: left out.")
    assert q.Filters.from_args({"reason": "scam", "min_score": "0.5"}).notes == ()


def test_a_score_that_is_not_a_finite_number_is_left_out():
    """NaN compares false with everything: as a filter it would have emptied the queue."""
    for raw in ("nan", "NaN", "-nan"):
        f = q.Filters.from_args({"min_score": raw, "max_score": raw})
        assert f.min_score is None and f.max_score is None and len(f.notes) == 2
    f = q.Filters.from_args({"min_score": "-inf", "max_score": "inf"})
    assert (f.min_score, f.max_score) == (0.0, 1.0) and len(f.notes) == 2
    crossed = q.Filters.from_args({"min_score": "0.9", "max_score": "0.2"})
    assert crossed.notes == ("Score from 0.9 is above score to 0.2: nothing can match.",)
    long = q.Filters.from_args({"q": "x" * 150})
    assert long.q == "x" * q.SEARCH_MAX and long.notes


def test_the_queue_names_what_it_left_out_escaped(client, db, staff):
    scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get("/queue/?reason=<script>alert(1)</script>&min_score=nan").text
    assert 'id="filter-notes"' in html and "<script>alert(1)" not in html
    assert "Reason \u201c&lt;script&gt;alert(1)&lt;/script&gt;\u201d is not one of the choices" in html
    assert "Score from \u201cnan\u201d is not a number: left out." in html
    assert 'class="queue-table' in html  # the other filters still apply: here, none
    assert 'id="filter-notes"' not in client.get("/queue/?reason=scam").text


def test_counts_and_overdue(db):
    c = make_client(db)
    make_flag(db, make_post(db, c), created_at=utcnow() - timedelta(hours=5))
    make_flag(db, make_post(db, c), reason="policy")
    db.commit()
    p = page(db)
    assert p.counts == {"scam": 1, "miscategorised": 0, "policy": 1, "negative_client": 0}
    overdue = {r.flag.reason: r.overdue for r in p.rows}
    assert overdue["scam"] is not None and overdue["policy"] is None  # scam target: 4 h


def test_full_page_and_fragments(client, db, staff):
    scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    full = client.get("/queue/")
    assert full.status_code == 200 and "<html" in full.text and 'id="queue-results"' in full.text
    assert "HX-Request, HX-Target" in full.headers["Vary"]
    frag = client.get("/queue/?reason=scam", headers={"HX-Request": "true",
                                                      "HX-Target": "queue-results"})
    assert frag.status_code == 200 and "<html" not in frag.text
    assert frag.text.lstrip().startswith('<div id="queue-results">')
    # an htmx request for another target (e.g. a boosted link) gets the full page
    other = client.get("/queue/", headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<html" in other.text


def test_infinite_scroll_fragment_is_rows_only(client, app, db, staff):
    app.config["QUEUE_PAGE_SIZE"] = 2
    c = make_client(db)
    for _ in range(5):
        make_flag(db, make_post(db, c))
    db.commit()
    as_user(client, "moderator@example.com")
    first = client.get("/queue/")
    assert first.text.count("data-row") == 2 and 'id="queue-more"' in first.text
    cursor = q.page(db, filters=q.Filters(), moderator_id=None, limit=2).next_cursor
    more = client.get(f"/queue/?cursor={cursor}", headers={"HX-Request": "true",
                                                           "HX-Target": "queue-more"})
    assert more.text.lstrip().startswith("<tr") and more.text.count("data-row") == 2
    assert "<table" not in more.text


def test_queue_escapes_marketplace_text(client, db, staff):
    from tests.unit.console_fixtures import HOSTILE_TITLE
    c = make_client(db, name='<img src=x onerror=alert("n")>')
    make_flag(db, make_post(db, c, title=HOSTILE_TITLE))
    db.commit()
    as_user(client, "analyst@example.com")
    html = client.get("/queue/").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(" in html


def test_bulk_asks_for_confirmation_then_acts(client, db, staff):
    flags = [scam_case(db)[2] for _ in range(3)]
    db.commit()
    as_user(client, "moderator@example.com")
    csrf = token(client)
    items = [f"{f.id}:1" for f in flags[:2]]
    htmx = {"HX-Request": "true", "HX-Target": "bulk-panel"}
    ask = client.post("/queue/bulk", data={"csrf_token": csrf, "action": "dismiss",
                                           "item": items}, headers=htmx)
    assert ask.status_code == 200 and "Dismiss 2 items?" in ask.text
    assert db.get(Flag, flags[0].id).status == "open"
    done = client.post("/queue/bulk", data={"csrf_token": csrf, "action": "dismiss",
                                            "item": items, "confirm": "1"}, headers=htmx)
    assert done.status_code == 200 and "Dismissed 2 items." in done.text
    assert done.headers["HX-Retarget"] == "#queue-main"
    db.expire_all()
    assert db.get(Flag, flags[0].id).status == "dismissed"
    # the same (now stale) selection again: conflict, nothing done
    again = client.post("/queue/bulk", data={"csrf_token": csrf, "action": "dismiss",
                                             "item": items + [f"{flags[2].id}:1"],
                                             "confirm": "1"}, headers=htmx)
    assert again.status_code == 409
    db.expire_all()
    assert db.get(Flag, flags[2].id).status == "open"


def test_bulk_remove_needs_a_reason(client, db, staff):
    flag = scam_case(db)[2]
    db.commit()
    as_user(client, "moderator@example.com")
    r = client.post("/queue/bulk", data={"csrf_token": token(client), "action": "remove",
                                         "item": [f"{flag.id}:1"], "reason": "scam"},
                    headers={"HX-Request": "true", "HX-Target": "bulk-panel"})
    assert r.status_code == 422 and "Choose a reason" in r.text


def test_analyst_sees_no_bulk_controls_and_cannot_post(client, db, staff):
    flag = scam_case(db)[2]
    db.commit()
    as_user(client, "analyst@example.com")
    html = client.get("/queue/").text
    assert "Dismiss selected" not in html and 'name="item"' not in html
    r = client.post("/queue/bulk", data={"csrf_token": token(client), "action": "dismiss",
                                         "item": [f"{flag.id}:1"], "confirm": "1"})
    assert r.status_code == 403


def test_queue_rows_link_to_their_case(client, db, staff):
    _c, post, flag = scam_case(db)
    negative = make_flag(db, client=make_client(db), reason="negative_client")
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get("/queue/").text
    assert f'data-case-url="/posts/{post.id}?flag={flag.id}"' in html
    assert f'href="/clients/{negative.client_id}?flag={negative.id}"' in html


def _counts_on_page(html: str) -> dict[str, int]:
    import re
    return {reason: int(n) for reason, n in re.findall(
        r'class="badge reason-(\w+)">[^<]*</span> <span class="count">(\d+)</span>', html)}


def test_counts_on_the_page_are_right_after_a_decision(client, db, staff):
    flags = [scam_case(db)[2] for _ in range(3)]
    make_flag(db, make_post(db, make_client(db)), reason="policy")
    db.commit()
    as_user(client, "moderator@example.com")
    assert _counts_on_page(client.get("/queue/").text) == {
        "scam": 3, "miscategorised": 0, "policy": 1, "negative_client": 0}
    # a dismissal through the console, then the queue again at once (counts may be reused
    # for QUEUE_COUNTS_MAX_AGE seconds, but a commit in this process drops them)
    r = client.post(f"/posts/{flags[0].post_id}/dismiss",
                    data={"csrf_token": token(client), "flag_id": flags[0].id, "version": 1})
    assert r.status_code == 303
    html = client.get("/queue/").text
    assert _counts_on_page(html)["scam"] == 2 and "<strong>3</strong> open cases" in html
    done = client.post("/queue/bulk", data={"csrf_token": token(client), "action": "dismiss",
                                            "item": [f"{f.id}:1" for f in flags[1:]],
                                            "confirm": "1"})
    assert done.status_code == 303
    assert _counts_on_page(client.get("/queue/").text)["scam"] == 0


def test_counts_cache_is_bounded_by_its_max_age(app, db, monkeypatch):
    """A commit from elsewhere (another worker process; here: another engine) shows once
    the cached counts are older than the max age; a commit that wrote on the same engine
    at once (a read-only one, as every read-only request now ends, keeps them)."""
    import time as time_module

    from app.db import get_engine, session_scope
    make_flag(db, make_post(db, make_client(db)))
    db.commit()
    clock = [1000.0]
    monkeypatch.setattr(time_module, "monotonic", lambda: clock[0])
    with app.app_context(), session_scope() as web:
        assert q.counts_cache.get(web, 2).per_reason["scam"] == 1
        make_flag(db, make_post(db, make_client(db)))
        db.commit()  # the db fixture's engine is not the web app's
        assert q.counts_cache.get(web, 2).per_reason["scam"] == 1     # reused...
        assert q.counts_cache.get(web, 0).per_reason["scam"] == 2     # (max age 0: always counted)
        clock[0] += 2.5
        assert q.counts_cache.get(web, 2).per_reason["scam"] == 2     # ...for at most max_age
        make_flag(db, make_post(db, make_client(db)))
        db.commit()
        with get_engine().begin() as conn:  # a read-only commit (every read-only request)
            conn.exec_driver_sql("SELECT 1")
        assert q.counts_cache.get(web, 2).per_reason["scam"] == 2
        with get_engine().begin() as conn:  # any commit that wrote, on the web app's engine
            conn.exec_driver_sql("UPDATE flag SET version = version WHERE id < 0")
        assert q.counts_cache.get(web, 2).per_reason["scam"] == 3


def test_search_matches_title_description_and_client_name_case_insensitively(db):
    acme = make_client(db, name="ACME Widgets Ltd")
    by_title = make_flag(db, make_post(db, make_client(db), title="Telegram-only Crypto job"))
    by_text = make_flag(db, make_post(db, make_client(db), description="Write to me on TeleGram"))
    by_client = make_flag(db, make_post(db, acme, title="Logo"))
    client_flag = make_flag(db, client=acme, reason="negative_client")
    make_flag(db, make_post(db, make_client(db), title="Nothing here"))
    closed = make_flag(db, make_post(db, acme, title="telegram again"), status="dismissed")
    db.commit()

    def ids(**f):
        return {r.flag.id for r in page(db, **f).rows}
    assert ids(q="telegram") == {by_title.id, by_text.id}
    assert ids(q="TELEGRAM") == ids(q="tElEgRaM") == {by_title.id, by_text.id}
    assert ids(q="acme widgets") == {by_client.id, client_flag.id}
    assert ids(q="Acme", reason="negative_client") == {client_flag.id}
    assert ids(q="acme", category="design_creative") == {by_client.id}
    assert ids(q="e") >= {by_title.id, by_text.id, by_client.id, client_flag.id}
    assert closed.id not in ids(q="telegram")
    assert ids(q="_") == ids(q="%") == set()  # LIKE wildcards are literal


def test_search_pages_in_queue_order_across_posts_and_clients(db):
    """Matches by post text and by client name are merged in queue order; a flag matching
    both appears once; keyset pages visit each match once."""
    now = utcnow()
    acme = make_client(db, name="Acme")
    other = make_client(db, name="Other")
    expected = []
    for i in range(13):
        if i % 3 == 0:
            post = make_post(db, acme, title="acme logo")      # both post and client match
        elif i % 3 == 1:
            post = make_post(db, acme, title="plain")          # client name matches
        else:
            post = make_post(db, other, description="ask ACME")  # post text matches
        expected.append(make_flag(db, post, priority=float(i),
                                  created_at=now - timedelta(minutes=i)).id)
        make_flag(db, make_post(db, other, title="miss"), priority=float(i))
    db.commit()
    seen, cursor = [], None
    while True:
        p = q.page(db, filters=q.Filters(q="acme"), moderator_id=None, limit=4, cursor=cursor)
        seen += [r.flag.id for r in p.rows]
        cursor = p.next_cursor
        if not cursor:
            break
    assert seen == list(reversed(expected))  # highest priority first, each once


def test_escalated_filter_and_badge_follow_live_escalations(db, staff):
    from app.services import moderation

    c = make_client(db)
    escalated = make_flag(db, make_post(db, c))
    other = make_flag(db, make_post(db, c))
    db.commit()
    d = moderation.escalate(db, flag_id=escalated.id, version=1, actor=staff["moderator"])
    assert [r.flag.id for r in page(db, claim="escalated").rows] == [escalated.id]
    assert {r.flag.id: r.escalated for r in page(db).rows} == {escalated.id: True, other.id: False}
    assert moderation.escalated_flag_ids(db, [escalated.id, other.id]) == {escalated.id}
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert page(db, claim="escalated").rows == []
    assert moderation.escalated_flag_ids(db, [escalated.id, other.id]) == set()


def test_url_builder_matches_url_for_and_falls_back(app):
    from flask import url_for

    from app.web.ui import url_builder

    with app.test_request_context("/queue/"):
        build = url_builder("cases.show", "post_id", "flag")
        for post_id, flag in ((1, 2), (7000000001, 0), (123456, 7)):
            assert build(post_id, flag) == url_for("cases.show", post_id=post_id, flag=flag)
        with pytest.raises(TypeError):
            build(1)



def test_url_builder_falls_back_when_a_marker_is_not_verbatim(app, monkeypatch):
    """E.g. a converter that reformats numbers: never a wrong URL, url_for per call instead."""
    import app.web.ui as ui

    monkeypatch.setattr(ui, "url_for", lambda endpoint, **v: f"/{endpoint}/" + "/".join(
        f"{k}={int(x):,}" for k, x in sorted(v.items())))
    build = ui.url_builder("cases.show", "post_id", "flag")
    assert build(1234, 5) == "/cases.show/flag=5/post_id=1,234"


def _row_html(html: str, flag_id: int) -> str:
    import re
    rows = re.findall(r"<tr data-row.*?</tr>", html, re.S)
    mine = [r for r in rows if f'aria-label="Select case {flag_id}"' in r]
    assert len(mine) == 1, rows
    return " ".join(mine[0].split())


def test_rows_show_their_labels_and_badges(client, db, staff):
    """Every label and badge of a row (Row's display strings, computed in page())."""
    now = utcnow()
    suspended = make_client(db, name="Shady & Sons", status="suspended")
    policy = make_flag(db, make_post(db, suspended, title="Pay me off-site", category="not_a_job",
                                     status="removed"),
                       reason="policy", policy_types=["off_platform", "fake_reviews"], score=0.876,
                       priority=40, created_at=now - timedelta(hours=14),
                       claimed_by=staff["moderator2"].moderator_id,
                       claimed_until=now + timedelta(minutes=5))
    negative = make_flag(db, client=make_client(db, name="Grumpy Ltd"), reason="negative_client",
                         priority=1000, system_note="suspend recommended: no improvement",
                         created_at=now - timedelta(minutes=30))
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get("/queue/").text
    row = _row_html(html, policy.id)
    assert 'class="is-overdue"' in row and f'value="{policy.id}:1"' in row
    assert "disabled" not in row.split("</td>")[0]
    assert ('<span class="badge reason-policy">policy</span><br><small>off platform, '
            "fake reviews</small>") in row
    assert ">Pay me off-site</a>" in row
    assert '<span class="badge status-removed">removed</span>' in row
    assert 'Shady &amp; Sons <span class="badge status-suspended">suspended</span>' in row
    # 40 + 0.5 per hour waiting; policy's target is 12 h
    assert "<td>Not a job (self-advertisement)</td> <td>0.88</td> <td>47</td>" in row
    assert "<td>14 h <span" in row and "overdue 2 h" in row
    assert '<span class="claimed">moderator2@example.com</span>' in row
    row = _row_html(html, negative.id)
    assert "is-overdue" not in row and "overdue" not in row and "30 min" in row
    assert "disabled" in row and "Bulk actions apply to posts only" in row
    assert f'href="/clients/{negative.client_id}?flag={negative.id}"' in row
    assert ">Client: Grumpy Ltd</a>" in row and "suspend recommended</span>" in row
    assert '<span class="badge reason-negative_client">negative client</span>' in row
    assert "<td>—</td>" in row and '<span class="muted">—</span>' in row


def test_fixed_url_matches_url_for_under_any_script_root(app):
    """fixed_url is url_for built once per script root (the app mounted under a prefix
    links its own prefix, never another mount's cached URL)."""
    from flask import url_for

    from app.web.ui import fixed_url

    for root in ("", "/console", ""):
        with app.test_request_context("/queue/", base_url=f"http://localhost{root}"):
            for endpoint, filename in (("queue.index", None), ("auth.logout", None),
                                       ("static", "css/app.css")):
                wanted = (url_for(endpoint, filename=filename) if filename
                          else url_for(endpoint))
                assert fixed_url(endpoint, filename) == wanted
                assert wanted.startswith(f"{root}/")


def test_id_url_is_url_for_built_once_per_root_and_endpoint(app):
    """id_url (the case pages' action URLs) gives what url_for gives, per script root."""
    from flask import url_for

    from app.web.ui import id_url

    for root in ("", "/console", ""):
        with app.test_request_context("/queue/", base_url=f"http://localhost{root}"):
            for endpoint, name in (("cases.dismiss", "post_id"), ("cases.show", "post_id"),
                                   ("clients.show", "client_id")):
                for value in (1, 42, 10**9):
                    assert id_url(endpoint, name, value) == url_for(endpoint, **{name: value})
                    assert id_url(endpoint, name, value).startswith(f"{root}/")
