"""Appeals against a decision a later one repeated (the client suspended again, the post
taken down again): the overturn corrects the record only and reinstates nothing. The case
pages link a decision's existing appeal instead of offering to record a second; a suspended
client's pages say how many freelancers the suspension notified; counts read in the
singular for one; a refused appeal leaves no transaction behind."""
from __future__ import annotations

import re

from sqlmodel import select

from app.services import Conflict, ServiceError, appeals, moderation, qa, strikes
from models import Appeal, Client, Decision, FreelancerContact, JobPost, OutboxEvent, utcnow
from tests.unit.console_fixtures import (as_user, db, make_client, make_feedback,  # noqa: F401
                                         make_flag, make_post, qa_disagreement,
                                         removed_scam_case, scam_case, staff, token)


def suspend(db, client, actor, **kw):
    client = db.get(Client, client.id)
    return moderation.suspend(db, client_id=client.id,
                              client_version=moderation.client_token(client),
                              reason="fraud", actor=actor, **kw)


def resuspended(db, staff):
    """Suspended (decision 1), reinstated by an admin, suspended again (decision 2) with a
    new post taken down: (client, first, later, the later post)."""
    client = make_client(db)
    flag = make_flag(db, make_post(db, client))
    db.commit()
    first = suspend(db, client, staff["moderator"], flag_id=flag.id, flag_version=flag.version)
    client = db.get(Client, client.id)
    moderation.reinstate(db, client_id=client.id, client_version=moderation.client_token(client),
                         reason="served its time", actor=staff["admin"])
    post = make_post(db, client)
    db.commit()
    later = suspend(db, client, staff["admin"])
    return client, first, later, post


def events_after(db, decision, *types):
    return [e.event_type for e in db.exec(select(OutboxEvent).order_by(OutboxEvent.id))
            if e.created_at >= decision.created_at and (not types or e.event_type in types)]


def test_overturning_an_older_suspension_corrects_the_record_and_reinstates_nobody(db, staff):
    client, first, later, post = resuspended(db, staff)
    assert strikes.standing(db, client.id).total == 6
    appeal = appeals.file(db, decision_id=first.id, text="that was not us", actor=staff["admin"])
    appeal = appeals.decide(db, appeal_id=appeal.id, version=appeal.version, outcome="overturn",
                            reason="wrong account", actor=staff["moderator2"])
    assert appeal.status == "overturned"
    assert appeal.reversal == {"decisions": [], "superseded_by": later.id,
                               "superseded_action": "suspend"}
    assert db.get(Client, client.id).status == "suspended"
    assert db.get(JobPost, post.id).status == "removed"
    assert not db.exec(select(Decision).where(Decision.action == "reinstate",
                                              Decision.id > later.id)).all()
    # the marketplace is told the outcome, and that the later decision stands; no reversal
    assert events_after(db, later, "client.reinstated", "post.reinstated") == []
    decided = db.exec(select(OutboxEvent).where(OutboxEvent.event_type == "appeal.decided")).one()
    assert decided.payload["superseded_by"] == later.id and decided.payload["reversal"] == []
    # the first suspension's strike is gone, the later one's stands
    assert [s.decision_id for s in strikes.standing(db, client.id).strikes] == [later.id]
    # the undo puts the record back, and still touches nobody
    appeals.undo(db, appeal_id=appeal.id, actor=staff["moderator2"])
    assert db.get(Appeal, appeal.id).status == "pending"
    assert db.get(Client, client.id).status == "suspended"
    assert strikes.standing(db, client.id).total == 6


def test_overturning_a_removal_the_post_was_removed_again_after_leaves_the_post_down(db, staff):
    client, post, first = removed_scam_case(db, staff["moderator"])
    review = qa_disagreement(db, first, "remove", staff["moderator2"])
    qa.adjudicate(db, review_id=review.id, label="not_violation", actor=staff["admin"],
                  apply_correction=True)  # live again
    again = make_flag(db, db.get(JobPost, post.id))
    db.commit()
    later = moderation.remove(db, flag_id=again.id, version=again.version,
                              reason_code="off_platform", actor=staff["moderator"])
    appeal = appeals.file(db, decision_id=first.id, text="x", actor=staff["admin"])
    appeal = appeals.decide(db, appeal_id=appeal.id, version=appeal.version, outcome="overturn",
                            reason="y", actor=staff["moderator2"])
    assert appeal.reversal["superseded_by"] == later.id
    assert db.get(JobPost, post.id).status == "removed"
    assert [s.decision_id for s in strikes.standing(db, client.id).strikes] == [later.id]


def test_the_appeal_page_warns_before_and_says_after(client, db, staff):
    _client, first, later, _post = resuspended(db, staff)
    appeal = appeals.file(db, decision_id=first.id, text="not us", actor=staff["admin"])
    as_user(client, "moderator2@example.com")
    page = client.get(f"/appeals/{appeal.id}").text
    assert 'id="later-decision"' in page and f"#{later.id} (suspend" in page
    assert "nothing is reinstated while decision" in page
    r = client.post(f"/appeals/{appeal.id}/decide", data={
        "csrf_token": token(client, f"/appeals/{appeal.id}"), "version": appeal.version,
        "outcome": "overturn", "reason": "wrong account"})
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).text
    assert f"a later decision, #{later.id}, stands and was not reversed" in page
    assert 'id="record-only"' in page and 'id="later-decision"' not in page


# --- the case pages: an existing appeal, the suspension's notices ------------------------------

def test_a_decision_with_an_appeal_links_to_it_instead_of_recording_another(client, db, staff):
    c, post, flag = scam_case(db)
    db.commit()
    decision = moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code="scam",
                                 actor=staff["moderator"])
    as_user(client, "moderator2@example.com")
    assert f"/appeals/new?decision={decision.id}" in client.get(f"/posts/{post.id}").text
    appeal = appeals.file(db, decision_id=decision.id, text="x", actor=staff["admin"])
    for path in (f"/posts/{post.id}", f"/clients/{c.id}", f"/appeals/{appeal.id}"):
        html = client.get(path).text
        assert f"/appeals/new?decision={decision.id}" not in html, path
        assert f'href="/appeals/{appeal.id}">Appealed: appeal #{appeal.id}</a>' in html, path
    # analysts see the link to the appeal too (they read appeals), never the form's
    client.post("/logout", data={"csrf_token": token(client, "/queue/")})
    as_user(client, "analyst@example.com")
    assert f"Appealed: appeal #{appeal.id}" in client.get(f"/posts/{post.id}").text


def test_a_suspended_clients_pages_say_how_many_freelancers_were_notified(client, db, staff):
    c = make_client(db)
    taken = make_post(db, c)
    scam = make_flag(db, taken)  # an open scam case: the suspension is for fraud
    for ref in ("fl-a", "fl-b", "fl-c"):
        db.add(FreelancerContact(post_id=taken.id, freelancer_ref=ref, kind="applicant",
                                 created_at=utcnow(), updated_at=utcnow()))
    db.commit()
    decision = suspend(db, c, staff["admin"], flag_id=scam.id, flag_version=scam.version)
    as_user(client, "moderator@example.com")
    page = client.get(f"/clients/{c.id}").text
    section = re.search(r'<section id="suspension-notices".*?</section>', page, re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    assert f"(decision #{decision.id})" in text
    assert "3 freelancers notified : 0 sent, 3 pending" in text.replace("notified:", "notified :")
    case = client.get(f"/posts/{taken.id}").text
    assert f"Suspension (decision #{decision.id}):" in case
    assert "<strong>3 freelancers notified</strong>: 0 sent, 3 pending" in case


def test_a_suspension_on_negativity_grounds_says_it_notified_nobody(client, db, staff):
    c = make_client(db)
    make_post(db, c)
    db.commit()
    suspend(db, c, staff["admin"])
    as_user(client, "moderator@example.com")
    page = client.get(f"/clients/{c.id}").text
    assert "0 freelancers notified" in page and "Only a suspension for fraud" in page
    active = make_client(db)
    db.commit()
    assert 'id="suspension-notices"' not in client.get(f"/clients/{active.id}").text


def test_counts_of_one_read_in_the_singular(client, db, staff):
    c, post, flag = scam_case(db)
    make_feedback(db, c, rating=5, comment="fine")
    db.commit()
    decision = moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code="scam",
                                 actor=staff["moderator"])
    appeal = appeals.file(db, decision_id=decision.id, text="x", actor=staff["admin"])
    as_user(client, "moderator2@example.com")
    page = client.get(f"/appeals/{appeal.id}").text
    assert "1 post (1 removed) · 1 feedback entry" in page and " · 1 flag</p>" in page
    assert "1 feedbacks" not in page and "1 posts" not in page
    client_page = client.get(f"/clients/{c.id}").text
    assert "of 1 feedback entry over time" in client_page and "30 days" in client_page


# --- a refusal leaves no transaction to the view -------------------------------------------------

def test_refused_appeal_calls_roll_back_their_own_transaction(db, staff):
    c, post, flag = scam_case(db)
    db.commit()
    decision = moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code="scam",
                                 actor=staff["moderator"])
    appeal = appeals.file(db, decision_id=decision.id, text="x", actor=staff["admin"])
    db.get(JobPost, post.id).title = "changed in this session, never committed"
    try:
        appeals.file(db, decision_id=decision.id, text="again", actor=staff["admin"])
    except Conflict:
        pass
    assert not db.in_transaction() or not db.dirty  # nothing left pending
    db.expire_all()
    assert db.get(JobPost, post.id).title != "changed in this session, never committed"
    db.get(JobPost, post.id).title = "again, never committed"
    try:
        appeals.decide(db, appeal_id=appeal.id, version=appeal.version, outcome="overturn",
                       reason="mine", actor=staff["moderator"])  # the original decider
    except ServiceError:
        pass
    db.expire_all()
    assert db.get(JobPost, post.id).title != "again, never committed"
