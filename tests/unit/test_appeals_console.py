"""The console's appeal queue and pages, the decision forms, the entry of an appeal that came
by e-mail, and the client page's strikes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.services import appeals, moderation
from models import Appeal, JobPost, utcnow
from tests.unit.console_fixtures import (HOSTILE_TEXT, as_user, db, scam_case, staff,  # noqa: F401
                                         token)


@pytest.fixture
def removal(db, staff):
    client, post, flag = scam_case(db)
    db.commit()
    decision = moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code="scam",
                                 actor=staff["moderator"], comment="fee up front")
    return client, post, decision


@pytest.fixture
def appeal(db, staff, removal):
    return appeals.file(db, decision_id=removal[2].id, text=HOSTILE_TEXT, actor=staff["admin"])


def test_queue_counts_and_sla(client, db, staff, appeal):
    as_user(client, "analyst@example.com")
    html = client.get("/appeals/").text
    assert 'id="appeals-pending">1<' in html and 'id="appeals-overdue">0<' in html
    assert f"/appeals/{appeal.id}" in html
    later = utcnow() + timedelta(hours=73)
    from app.services import appeal_reads
    q = appeal_reads.queue(db, now=later)
    assert (q.pending, q.overdue, q.rows[0].overdue) == (1, 1, True)


def test_appeal_page_shows_what_the_decider_needs_escaped(client, staff, appeal, removal):
    as_user(client, "moderator2@example.com")
    html = client.get(f"/appeals/{appeal.id}").text
    assert "<script>alert(3)</script>" not in html and "&lt;script&gt;" in html
    assert "fee up front" in html                      # the original comment
    assert "registration fee" in html                  # judged snapshot and evidence
    assert "moderator@example.com" in html             # the original decider
    assert 'id="appeal-decide"' in html and "Strikes: 3 active weight" in html


def test_a_second_moderator_overturns_and_may_undo(client, db, staff, appeal, removal):
    as_user(client, "moderator2@example.com")
    r = client.post(f"/appeals/{appeal.id}/decide", data={
        "csrf_token": token(client, f"/appeals/{appeal.id}"), "version": appeal.version,
        "outcome": "overturn", "reason": "A real bakery job"})
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).text
    assert "Appeal overturned" in page and "Undo this overturn" in page
    db.expire_all()
    assert db.get(JobPost, removal[1].id).status == "live"
    r = client.post(f"/appeals/{appeal.id}/undo",
                    data={"csrf_token": token(client, f"/appeals/{appeal.id}")})
    assert r.status_code == 303
    db.expire_all()
    assert db.get(JobPost, removal[1].id).status == "removed"
    assert db.get(Appeal, appeal.id).status == "pending"


def test_the_original_decider_is_refused_and_a_stale_form_is_409(client, db, staff, appeal):
    as_user(client, "moderator@example.com")
    page = client.get(f"/appeals/{appeal.id}").text
    assert 'id="appeal-decide"' not in page and "another moderator" in page
    r = client.post(f"/appeals/{appeal.id}/decide", data={
        "csrf_token": token(client, f"/appeals/{appeal.id}"), "version": appeal.version,
        "outcome": "overturn", "reason": "mine"})
    assert r.status_code == 422 and "another moderator" in r.text
    client.post("/logout", data={"csrf_token": token(client, "/appeals/")})
    as_user(client, "admin@example.com")
    data = {"csrf_token": token(client, f"/appeals/{appeal.id}"), "version": appeal.version,
            "outcome": "uphold", "reason": "stands"}
    assert client.post(f"/appeals/{appeal.id}/decide", data=data).status_code == 303
    again = client.post(f"/appeals/{appeal.id}/decide", data={**data, "outcome": "overturn"})
    assert again.status_code == 409 and "changed by someone else" in again.text
    db.expire_all()
    assert db.get(Appeal, appeal.id).status == "upheld"


def test_analysts_read_only_and_csrf(client, appeal):
    as_user(client, "analyst@example.com")
    assert client.get(f"/appeals/{appeal.id}").status_code == 200
    r = client.post(f"/appeals/{appeal.id}/decide", data={
        "csrf_token": token(client, "/appeals/"), "version": 1, "outcome": "uphold",
        "reason": "x"})
    assert r.status_code == 403
    client.post("/logout", data={"csrf_token": token(client, "/appeals/")})
    as_user(client, "moderator2@example.com")
    r = client.post(f"/appeals/{appeal.id}/decide", data={"version": 1, "outcome": "uphold",
                                                          "reason": "x"})
    assert r.status_code == 400


def test_odd_ids_are_404_or_400(client, staff):
    as_user(client, "admin@example.com")
    assert client.get("/appeals/999").status_code == 404
    assert client.get("/appeals/new").status_code == 400
    assert client.get("/appeals/new?decision=x").status_code == 400
    assert client.get("/appeals/new?decision=999").status_code == 404
    r = client.post("/appeals/new", data={"csrf_token": token(client, "/appeals/"),
                                          "decision": str(2**40), "text": "x"})
    assert r.status_code == 404


def test_an_appeal_by_e_mail_is_entered_from_the_case_page(client, db, staff, removal):
    _client, post, decision = removal
    as_user(client, "moderator2@example.com")
    case = client.get(f"/posts/{post.id}").text
    assert f"/appeals/new?decision={decision.id}" in case
    form = client.get(f"/appeals/new?decision={decision.id}").text
    assert "Record the appeal" in form
    data = {"csrf_token": token(client, f"/appeals/new?decision={decision.id}"),
            "decision": decision.id, "text": "Sent by e-mail: please reconsider"}
    r = client.post("/appeals/new", data=data)
    assert r.status_code == 303
    appeal = db.exec(select(Appeal)).one()
    assert appeal.source == "console" and appeal.entered_by == staff["moderator2"].moderator_id
    again = client.post("/appeals/new", data=data)
    assert again.status_code == 409 and "already has an appeal" in again.text
    empty = client.post("/appeals/new", data={**data, "text": " "})
    assert empty.status_code in (409, 422)


def test_the_client_page_shows_active_strikes_and_their_expiry(client, staff, removal):
    as_user(client, "moderator@example.com")
    html = client.get(f"/clients/{removal[0].id}").text
    expires = (removal[2].created_at + timedelta(days=180)).strftime("%Y-%m-%d")
    assert "Strikes: 3 active weight" in html and expires in html
    assert "A warning" in html  # 3 >= the warning threshold (2): recommended, not done
