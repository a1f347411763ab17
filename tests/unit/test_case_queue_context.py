"""The case page in the queue's flow (issue 21, items 17 and 18): the queue's filters go
along to the case page and its "next case", the claim answer brings the release button,
a decision's undo offer is a toast, and the audit log links its subjects."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from app.services.audit import record
from models import Flag
from tests.unit.console_fixtures import (as_user, db, make_client, make_flag,  # noqa: F401
                                         make_post, scam_case, staff, token)

CASE = {"HX-Request": "true", "HX-Target": "case"}


def _dismiss(client, flag, **form):
    """Dismiss ``flag`` from its case page as htmx does (the fresh case comes back)."""
    return client.post(f"/posts/{flag.post_id}/dismiss", headers=CASE, data={
        "csrf_token": token(client), "flag_id": flag.id, "version": flag.version, **form})


def _cases(db):
    urgent_policy = make_flag(db, make_post(db, make_client(db)), reason="policy", priority=90.0)
    first = scam_case(db)[2]
    second = make_flag(db, make_post(db, make_client(db)), priority=20.0)
    db.commit()
    return urgent_policy, first, second


def test_queue_rows_carry_the_filters_to_the_case_page(client, db, staff):
    _policy, first, _second = _cases(db)
    as_user(client, "moderator@example.com")
    html = client.get("/queue/?reason=scam").text
    assert f'href="/posts/{first.post_id}?flag={first.id}&amp;reason=scam"' in html


def test_next_case_after_a_decision_stays_in_the_queue_filter(client, db, staff):
    policy, first, second = _cases(db)
    as_user(client, "moderator@example.com")
    page = client.get(f"/posts/{first.post_id}?flag={first.id}&reason=scam").text
    assert 'name="queue" value="reason=scam"' in page
    assert 'href="/queue/?reason=scam"' in page  # the way back keeps them too
    r = _dismiss(client, first, queue=urlencode({"reason": "scam"}))
    assert r.status_code == 200
    nxt = re.search(r'<a href="([^"]+)"[^>]*id="next-case"', r.text).group(1)
    # the next scam case, not the more urgent policy case outside the filter
    assert nxt == f"/posts/{second.post_id}?flag={second.id}&amp;reason=scam"
    assert f"flag={policy.id}" not in r.text
    # without a form (no htmx): the redirect keeps the filters as well
    third = make_flag(db, make_post(db, make_client(db)), priority=10.0)
    db.commit()
    r = client.post(f"/posts/{second.post_id}/dismiss", data={
        "csrf_token": token(client), "flag_id": second.id, "version": 1,
        "queue": "reason=scam"})
    assert r.status_code == 303 and r.headers["Location"].endswith("reason=scam")
    assert f"flag={third.id}&amp;reason=scam" in client.get(r.headers["Location"]).text


def test_a_bad_queue_field_is_left_out_not_an_error(client, db, staff):
    _policy, first, _second = _cases(db)
    as_user(client, "moderator@example.com")
    r = _dismiss(client, first, queue="reason=%ZZ&min_score=abc&&==")
    assert r.status_code == 200 and 'id="next-case"' in r.text


def test_the_claim_answer_brings_the_release_button_out_of_band(client, db, staff):
    _c, post, _flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    page = client.get(f"/posts/{post.id}").text
    assert 'id="release-claim"' in page and "Release claim" not in page  # not claimed yet
    r = client.post(f"/posts/{post.id}/claim", data={"csrf_token": token(client)},
                    headers={"HX-Request": "true", "HX-Target": "claim-status"})
    assert r.status_code == 200 and "Claimed by you" in r.text
    oob = re.search(r'<div id="release-claim"[^>]*>(.*?)</div>', r.text, re.S)
    assert oob and 'hx-swap-oob="true"' in oob.group(0) and "Release claim" in oob.group(1)


def test_a_decision_offers_its_undo_in_a_toast(client, db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    r = _dismiss(client, flag)
    toast = re.search(r'<form class="undo-form undo-toast" id="undo-toast" role="status".*?</form>',
                      r.text, re.S)
    assert toast and "Dismissed." in toast.group(0) and "Undo dismiss" in toast.group(0)
    decision_id = re.search(r'name="decision_id" value="(\d+)"', toast.group(0)).group(1)
    undone = client.post(f"/posts/{post.id}/undo", headers=CASE, data={
        "csrf_token": token(client), "decision_id": decision_id, "flag_id": flag.id})
    assert undone.status_code == 200 and "Undone." in undone.text
    db.expire_all()
    assert db.get(Flag, flag.id).status == "open"


def test_the_audit_log_links_posts_and_clients(client, db, staff):
    _c, post, _flag = scam_case(db)
    record(db, actor=staff["admin"], action="post.remove", subject_type="post",
           subject_id=post.id)
    record(db, actor=staff["admin"], action="client.contact", subject_type="client",
           subject_id=post.client_id)
    record(db, actor=staff["admin"], action="bulk.dismiss", subject_type="flag",
           subject_id="3,4")
    record(db, actor=staff["admin"], action="odd", subject_type="post", subject_id="x1")
    db.commit()
    as_user(client, "admin@example.com")
    html = client.get("/audit/").text
    assert f'<a href="/posts/{post.id}">post #{post.id}</a>' in html
    assert f'<a href="/clients/{post.client_id}">client #{post.client_id}</a>' in html
    assert "flag #3,4" in html
    assert "post #x1" in html and 'href="/posts/0"' not in html  # not a link to nowhere


def test_next_case_is_offered_when_the_post_has_another_open_flag(client, db, staff):
    """Deciding one of a post's reasons shows the post's next open flag to decide, and the
    next case of the queue beside it."""
    _c, post, scam = scam_case(db)
    policy = make_flag(db, post, reason="policy", priority=30.0)
    other = make_flag(db, make_post(db, make_client(db)), priority=20.0)
    db.commit()
    as_user(client, "moderator@example.com")
    r = _dismiss(client, scam, queue="reason=scam")
    assert f"Decide: policy case #{policy.id}" in r.text  # the post's other reason
    nxt = re.search(r'<a href="([^"]+)"[^>]*id="next-case"', r.text)
    assert nxt and nxt.group(1) == f"/posts/{other.post_id}?flag={other.id}&amp;reason=scam"


def test_a_decision_without_htmx_lands_on_the_post_with_its_next_case_too(client, db, staff):
    """A form submitted natively (no JavaScript, or a key pressed before htmx wired up the
    fresh case) redirects to the decided flag's page; the post's other reason is shown to
    decide, with the queue's next case beside it as after an htmx decision. A link to a
    case decided since (someone else's decision) offers the same."""
    _c, post, scam = scam_case(db)
    policy = make_flag(db, post, reason="policy", priority=30.0)
    other = make_flag(db, make_post(db, make_client(db)), priority=20.0)
    db.commit()
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/dismiss", data={
        "csrf_token": token(client), "flag_id": scam.id, "version": scam.version,
        "queue": "reason=scam"})
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).text
    assert "Dismissed: recorded as not a violation." in page  # the flash
    assert f"Decide: policy case #{policy.id}" in page
    nxt = re.search(r'<a href="([^"]+)"[^>]*id="next-case"', page)
    assert nxt and nxt.group(1) == f"/posts/{other.post_id}?flag={other.id}&amp;reason=scam"
    # an open case asked for by its own id: no "next case" offer (the moderator is on it)
    page = client.get(f"/posts/{post.id}?flag={policy.id}&reason=scam").text
    assert 'id="next-case"' not in page and f"Decide: policy case #{policy.id}" in page
