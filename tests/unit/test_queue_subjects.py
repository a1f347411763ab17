"""The queue shows one row per subject (issue 21, item 13), counts under the active filters
(item 18), and "next case" keeps the moderator's filters (item 17)."""
from __future__ import annotations

import re
from datetime import timedelta

from app.services import queue as q
from models import Flag, JobPost, utcnow
from tests.unit.console_fixtures import (as_user, db, make_client, make_flag,  # noqa: F401
                                         make_post, staff, token)


def _page(db, limit=50, moderator_id=None, cursor=None, **filters):
    return q.page(db, filters=q.Filters(**filters), moderator_id=moderator_id, limit=limit,
                  cursor=cursor)


def _three_reasons(db, *, scam=80.0, policy=60.0, mis=40.0):
    post = make_post(db, make_client(db, name="Multi Reason Ltd"), category="writing")
    flags = {"scam": make_flag(db, post, reason="scam", priority=scam, score=0.9),
             "policy": make_flag(db, post, reason="policy", priority=policy, score=0.6,
                                 policy_types=["off_platform"]),
             "miscategorised": make_flag(db, post, reason="miscategorised", priority=mis,
                                         score=0.5)}
    return post, flags


def test_a_post_with_several_open_flags_is_one_row_with_every_reason(db):
    post, flags = _three_reasons(db, scam=40.0, policy=80.0, mis=60.0)
    single = make_flag(db, make_post(db, make_client(db)), priority=70.0)
    make_flag(db, post, reason="scam", status="dismissed", priority=99.0)  # closed: not shown
    db.commit()
    rows = _page(db).rows
    # one row for the post, at its most urgent flag's place (policy, 80), then the single one
    assert [r.flag.id for r in rows] == [flags["policy"].id, single.id]
    top = rows[0].display
    assert top.reason == "policy" and top.other_reasons == ("scam", "miscategorised")
    # the bulk value names every open flag of the post with its version, the row's first
    assert top.item == ",".join(f"{f.id}:1" for f in
                                (flags["policy"], flags["scam"], flags["miscategorised"]))
    assert rows[1].display.other_reasons == () and rows[1].display.item == f"{single.id}:1"


def test_under_a_filter_the_row_is_the_subjects_most_urgent_matching_flag(db):
    _post, flags = _three_reasons(db)
    db.commit()
    assert [r.flag.id for r in _page(db, reason="policy").rows] == [flags["policy"].id]
    assert [r.flag.id for r in _page(db, max_score=0.7).rows] == [flags["policy"].id]
    assert [r.flag.id for r in _page(db, min_score=0.55).rows] == [flags["scam"].id]
    assert [r.flag.id for r in _page(db, q="multi reason").rows] == [flags["scam"].id]


def test_keyset_pages_visit_every_subject_once(db):
    c = make_client(db)
    now = utcnow()
    subjects = set()
    for i in range(17):
        post = make_post(db, c)
        subjects.add(post.id)
        for j, reason in enumerate(("scam", "policy", "miscategorised")[: 1 + i % 3]):
            make_flag(db, post, reason=reason, priority=float((i * 7 + j * 3) % 11),
                      created_at=now - timedelta(minutes=i + j))
    db.commit()
    for filters in ({}, {"q": "logo"}):
        seen, cursor = [], None
        while True:
            p = _page(db, limit=4, cursor=cursor, **filters)
            seen += [r.flag.post_id for r in p.rows]
            cursor = p.next_cursor
            if not cursor:
                break
        assert sorted(seen) == sorted(subjects), filters


def test_counts_follow_the_filters_and_say_how_many_match(db):
    _three_reasons(db)
    make_flag(db, make_post(db, make_client(db), category="legal"), reason="scam")
    make_flag(db, client=make_client(db), reason="negative_client")
    db.commit()
    everything = _page(db)
    assert everything.counts == {"scam": 2, "miscategorised": 1, "policy": 1,
                                 "negative_client": 1}
    assert everything.matching == 3  # subjects, not flags
    writing = _page(db, category="writing")
    assert writing.counts == {"scam": 1, "miscategorised": 1, "policy": 1, "negative_client": 0}
    assert writing.matching == 1
    # a reason filter narrows the matching rows; the counts per reason ignore it (each is
    # what that reason's link would list under the other filters)
    scam = _page(db, reason="scam", q="multi")
    assert scam.matching == 1 and scam.counts["policy"] == 1 and scam.counts["scam"] == 1


def test_summary_on_the_page_shows_the_filtered_counts(client, db, staff):
    _three_reasons(db)
    make_flag(db, make_post(db, make_client(db), category="legal"), reason="scam")
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get("/queue/?category=legal").text
    assert "<strong>1</strong> matching case" in html
    counts = _shown_counts(html)
    assert counts["scam"] == "1" and counts["policy"] == "0"


def _shown_counts(html: str) -> dict[str, str]:
    """The count beside each reason's link, as the page shows it ("7", "1000+")."""
    return dict(re.findall(r'badge reason-(\w+)">[^<]*</span> <span class="count">([\d+]+)',
                           html))


def test_bulk_dismiss_of_a_row_dismisses_every_flag_it_shows(client, db, staff):
    _post, flags = _three_reasons(db)
    db.commit()
    as_user(client, "moderator@example.com")
    row = next(r for r in _page(db).rows)
    htmx = {"HX-Request": "true", "HX-Target": "bulk-panel"}
    ask = client.post("/queue/bulk", data={"csrf_token": token(client), "action": "dismiss",
                                           "item": [row.display.item]}, headers=htmx)
    assert ask.status_code == 200 and "Dismiss 1 item?" in ask.text
    done = client.post("/queue/bulk", data={"csrf_token": token(client), "action": "dismiss",
                                            "item": [row.display.item], "confirm": "1"},
                       headers=htmx)
    assert done.status_code == 200 and "Dismissed 1 item." in done.text
    db.expire_all()
    assert {db.get(Flag, f.id).status for f in flags.values()} == {"dismissed"}


def test_bulk_remove_of_a_row_removes_the_post_once(client, db, staff):
    post, flags = _three_reasons(db)
    db.commit()
    as_user(client, "moderator@example.com")
    item = _page(db).rows[0].display.item
    r = client.post("/queue/bulk", data={"csrf_token": token(client), "action": "remove",
                                         "item": [item], "remove_reason": "scam",
                                         "confirm": "1"},
                    headers={"HX-Request": "true", "HX-Target": "bulk-panel"})
    assert r.status_code == 200 and "Removed 1 item." in r.text
    db.expire_all()
    assert db.get(JobPost, post.id).status == "removed"
    assert "open" not in {db.get(Flag, f.id).status for f in flags.values()}


def test_a_malformed_bulk_item_is_refused_not_an_error(client, db, staff):
    as_user(client, "moderator@example.com")
    r = client.post("/queue/bulk", data={"csrf_token": token(client), "action": "dismiss",
                                         "item": ["1:x,2", "3:"], "confirm": "1"},
                    headers={"HX-Request": "true", "HX-Target": "bulk-panel"})
    assert r.status_code == 422 and "Select at least one item" in r.text


def test_next_case_keeps_the_filters_and_skips_what_others_hold(db, staff):
    me, other = staff["moderator"].moderator_id, staff["moderator2"].moderator_id
    top_scam = make_flag(db, make_post(db, make_client(db)), priority=90.0,
                         claimed_by=other, claimed_until=utcnow() + timedelta(minutes=5))
    policy = make_flag(db, make_post(db, make_client(db)), reason="policy", priority=80.0)
    scam = make_flag(db, make_post(db, make_client(db)), priority=50.0)
    db.commit()
    assert top_scam.id  # held by someone else: never offered
    assert q.next_case(db, moderator_id=me).id == policy.id
    assert q.next_case(db, moderator_id=me, filters=q.Filters(reason="scam")).id == scam.id
    assert q.next_case(db, moderator_id=me, filters=q.Filters(reason="scam"),
                       skip=("post", scam.post_id)) is None


def test_a_search_counts_up_to_a_cap_and_says_at_least(client, db, staff, monkeypatch):
    c = make_client(db, name="Telegram Fans")
    for _ in range(7):
        make_flag(db, make_post(db, c, title="telegram job"))
    make_flag(db, make_post(db, make_client(db)), reason="policy")
    db.commit()
    exact = q.filtered_counts(db, filters=q.Filters(q="telegram"), moderator_id=None)
    assert exact == q.Counts({"scam": 7, "miscategorised": 0, "policy": 0,
                              "negative_client": 0}, 7, capped=False)
    monkeypatch.setattr(q, "SEARCH_COUNT_CAP", 3)
    q._search_sample.cache_clear()
    try:
        capped = q.filtered_counts(db, filters=q.Filters(q="telegram"), moderator_id=None)
        assert capped.capped and capped.matching > 3 and capped.per_reason["scam"] > 3
        as_user(client, "moderator@example.com")
        html = client.get("/queue/?q=telegram").text
        assert re.search(r"<strong>\d+\+</strong> matching cases", html)
        assert re.search(r'<span class="count">\d+\+</span>', html)
        # without a search the counts are exact, however large
        assert "<strong>8</strong> open cases in all" in client.get("/queue/").text
    finally:
        q._search_sample.cache_clear()


def test_filtered_counts_are_exact_up_to_a_cap_and_say_cap_plus_beyond(client, db, staff,
                                                                       monkeypatch):
    """Under a filter (no search) each reason's count is read from at most FILTER_COUNT_CAP
    + 1 of its open flags: exact below the cap, "<cap>+" beyond, and so is the number of
    matching rows; the whole queue's counts stay exact however large."""
    writer = make_client(db)
    for i in range(6):
        make_flag(db, make_post(db, writer, title=f"essay {i}", category="writing"))
    make_flag(db, make_post(db, writer, title="essay policy", category="writing"),
              reason="policy")
    make_flag(db, make_post(db, make_client(db), title="logo", category="design"))
    db.commit()
    exact = q.filtered_counts(db, filters=q.Filters(category="writing"), moderator_id=None)
    assert exact == q.Counts({"scam": 6, "miscategorised": 0, "policy": 1,
                              "negative_client": 0}, 7)
    monkeypatch.setattr(q, "FILTER_COUNT_CAP", 3)
    q._filtered_sample.cache_clear()
    q.counts_cache.invalidate(db.get_bind())
    try:
        capped = q.filtered_counts(db, filters=q.Filters(category="writing"), moderator_id=None)
        assert capped.per_reason == {"scam": 4, "miscategorised": 0, "policy": 1,
                                     "negative_client": 0}
        assert capped.matching > 3 and not capped.capped  # shown as "3+"
        # a reason under the cap is exact, and so are the rows matching it
        policy = q.filtered_counts(db, filters=q.Filters(category="writing", reason="policy"),
                                   moderator_id=None)
        assert policy.matching == 1 and policy.per_reason["scam"] == 4
        as_user(client, "moderator@example.com")
        html = client.get("/queue/?category=writing").text
        assert "<strong>3+</strong> matching cases" in html
        assert _shown_counts(html)["scam"] == "3+" and _shown_counts(html)["policy"] == "1"
        # the whole queue: exact, above the cap too
        html = client.get("/queue/").text
        assert "<strong>8</strong> open cases in all" in html and _shown_counts(html)["scam"] == "7"
    finally:
        q._filtered_sample.cache_clear()
