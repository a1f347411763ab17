"""Reviewer QA: sampling, the blind second review, agreement and kappa, adjudication."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.services import Conflict, ServiceError, qa
from models import AuditEvent, Client, Decision, JobPost, OutboxEvent, QaReview, QaStatus, utcnow
from tests.unit.console_fixtures import (as_user, db, make_client, make_flag, make_post,  # noqa: F401
                                         staff, token)

SECRET = "first-moderator-comment-7f3a"


def decided(db, who, *, action="remove", reason="scam", n=1, comment="", post=None,
            minutes_ago=10):
    """``n`` decisions by ``who`` on one flag (the decision table only references it)."""
    client = make_client(db)
    post = post or make_post(db, client, title="Blind case title", description="Blind text")
    flag = make_flag(db, post, reason=reason)
    rows = [Decision(flag_id=flag.id, subject_type="post", subject_id=post.id,
                     client_id=post.client_id, post_id=post.id, moderator_id=who.moderator_id,
                     action=action, reason=comment,
                     created_at=utcnow() - timedelta(minutes=minutes_ago)) for _ in range(n)]
    db.add_all(rows)
    db.commit()
    return rows


@pytest.fixture
def every_case(app):
    app.config["QA_SAMPLE_SHARE"] = 1.0
    return app


def test_share_holds_per_reason(app, db, staff):
    app.config.update(QA_SAMPLE_SHARE=0.05, QA_SAMPLE_SHARES={"policy": 0.2})
    decided(db, staff["moderator"], reason="scam", n=3000)
    decided(db, staff["moderator"], reason="policy", n=1000)
    with app.app_context():
        qa.sample_new(db)
    db.commit()
    reviews = db.exec(select(QaReview)).all()
    scam = sum(r.reason == "scam" for r in reviews)
    policy = sum(r.reason == "policy" for r in reviews)
    # binomial sd: sqrt(3000 * .05 * .95) = 11.9, sqrt(1000 * .2 * .8) = 12.6; 3 sd
    assert abs(scam - 150) <= 36, scam
    assert abs(policy - 200) <= 38, policy
    # read once: a second pass samples nothing more
    with app.app_context():
        assert qa.sample_new(db) == 0


def test_only_closing_human_decisions_past_the_undo_window(every_case, db, staff):
    m = staff["moderator"]
    kept = decided(db, m, action="dismiss")
    decided(db, m, action="note")
    decided(db, m, action="escalate")
    decided(db, m, action="remove", minutes_ago=0)  # still undoable: not yet
    undone = decided(db, m, action="remove")[0]
    undone.undone_at = utcnow()
    db.commit()
    with every_case.app_context():
        qa.sample_new(db)
    db.commit()
    assert [r.decision_id for r in db.exec(select(QaReview))] == [kept[0].id]


def test_first_decider_never_receives_their_own_case(every_case, db, staff):
    decided(db, staff["moderator"])
    with every_case.app_context():
        assert qa.next_case(db, actor=staff["moderator"]) is None
        case = qa.next_case(db, actor=staff["moderator2"])
    assert case is not None and case.title == "Blind case title"
    with pytest.raises(ServiceError, match="you decided this case"):
        qa.submit(db, review_id=case.review_id, label="remove", actor=staff["moderator"])


def test_qa_page_is_blind(every_case, client, db, staff):
    decided(db, staff["moderator"], action="remove", comment=SECRET)
    db.execute(JobPost.__table__.update().values(status="removed"))
    db.commit()
    as_user(client, "moderator2@example.com")
    html = client.get("/qa/").get_data(as_text=True)
    assert "Blind case title" in html and "Record my verdict" in html
    assert SECRET not in html
    assert "moderator@example.com" not in html  # who decided
    assert "removed" not in html.lower()        # what was done (the post's status)
    first = as_user(every_case.test_client(), "moderator@example.com")
    assert "Blind case title" not in first.get("/qa/").get_data(as_text=True)


def test_review_agrees_or_goes_to_adjudication(every_case, client, db, staff):
    decided(db, staff["moderator"], action="remove")
    decided(db, staff["moderator"], action="dismiss")
    as_user(client, "moderator2@example.com")
    ids = []
    for label in ("remove", "remove"):
        html = client.get("/qa/").get_data(as_text=True)
        review_id = int(html.split('action="/qa/')[1].split('"')[0])
        ids.append(review_id)
        response = client.post(f"/qa/{review_id}", data={"label": label,
                                                         "csrf_token": token(client, "/qa/")})
        assert response.status_code == 303
    db.expire_all()
    statuses = [db.get(QaReview, i).status for i in ids]
    assert statuses == ["agreed", "disagreed"]
    # the review acted on nothing: the dismissed post is still live
    assert db.get(JobPost, db.get(QaReview, ids[1]).post_id).status == "live"
    # a second answer to the same case is a conflict, a bad label a 422
    again = client.post(f"/qa/{ids[0]}", data={"label": "remove",
                                               "csrf_token": token(client, "/qa/")})
    assert again.status_code == 409
    decided(db, staff["moderator"])
    html = client.get("/qa/").get_data(as_text=True)
    review_id = int(html.split('action="/qa/')[1].split('"')[0])
    bad = client.post(f"/qa/{review_id}", data={"label": "suspend",
                                                "csrf_token": token(client, "/qa/")})
    assert bad.status_code == 422


def test_kappa_textbook_example():
    # Wikipedia's example: 50 proposals, both yes 20, A yes B no 5, A no B yes 10, both no 15:
    # p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert qa.kappa(a, b) == pytest.approx(0.4)
    assert qa.kappa([], []) is None
    assert qa.kappa(["remove"] * 3, ["remove"] * 3) is None  # chance agreement 1: undefined


def test_agreement_per_reason_and_moderator(every_case, db, staff):
    m1, m2 = staff["moderator"], staff["moderator2"]
    # scam, decided by m1: (remove, remove) x2, (remove, not_violation), (not_violation, not_violation)
    for first, second in (("remove", "remove"), ("remove", "remove"), ("remove", "dismiss"),
                          ("dismiss", "dismiss")):
        decided(db, m1, action=first)
    with every_case.app_context():
        qa.sample_new(db)
    db.commit()
    labels = {"remove": "remove", "dismiss": "not_violation"}
    for review, (_, second) in zip(db.exec(select(QaReview).order_by(QaReview.id)).all(),
                                   (("", "remove"), ("", "remove"), ("", "dismiss"),
                                    ("", "dismiss"))):
        qa.submit(db, review_id=review.id, label=labels[second], actor=m2)
    got = qa.agreement(db, start=utcnow() - timedelta(hours=1), end=utcnow() + timedelta(hours=1))
    scam = next(a for a in got["reason"] if a.group == "scam")
    # p_o = 3/4; first: remove 3/4, second: remove 2/4 -> p_e = .75*.5 + .25*.5 = .5;
    # kappa = (.75 - .5) / .5 = .5
    assert (scam.n, scam.agreed, scam.raw) == (4, 3, 0.75)
    assert scam.kappa == pytest.approx(0.5)
    assert [(a.group, a.n) for a in got["moderator"]] == [("moderator@example.com", 4)]


def _overruled_with_correction(every_case, client, db, staff) -> tuple[QaReview, str]:
    """The sampled case is labelled "not a violation" by the second moderator, and the admin
    adjudicates it so with the corrective action; the review, and the adjudication page the
    admin saw."""
    with every_case.app_context():
        case = qa.next_case(db, actor=staff["moderator2"])
    qa.submit(db, review_id=case.review_id, label="not_violation", actor=staff["moderator2"])
    as_user(client, "admin@example.com")
    html = client.get("/qa/adjudication").get_data(as_text=True)
    response = client.post(f"/qa/{case.review_id}/adjudicate", data={
        "label": "not_violation", "correct": "1",
        "csrf_token": token(client, "/qa/adjudication")})
    assert response.status_code == 303
    db.expire_all()
    return db.get(QaReview, case.review_id), html


def test_adjudication_with_corrective_reinstatement(every_case, client, db, staff):
    decided(db, staff["moderator"], action="remove")
    db.execute(JobPost.__table__.update().values(status="removed"))
    db.commit()
    moderator = as_user(every_case.test_client(), "moderator@example.com")
    assert moderator.get("/qa/adjudication").status_code == 403
    review, html = _overruled_with_correction(every_case, client, db, staff)
    assert "Blind case title" in html and "(can reinstate the post)" in html
    assert (review.status, review.adjudicated_label, review.correction) == (
        QaStatus.adjudicated, "not_violation", "reinstate")
    post = db.get(JobPost, review.post_id)
    assert post.status == "live"
    fix = db.exec(select(Decision).where(Decision.action == "reinstate")).one()
    assert fix.post_id == post.id and fix.moderator_id == staff["admin"].moderator_id
    assert db.exec(select(OutboxEvent).where(OutboxEvent.event_type == "post.reinstated")).one()
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "qa.adjudicate")).one()
    # the adjudicated verdict supersedes both as the training label
    assert qa.training_label(db, review.decision_id) == "not_violation"
    with pytest.raises(Conflict):
        qa.adjudicate(db, review_id=review.id, label="remove", actor=staff["admin"])


def test_adjudication_without_correction_and_only_by_admins(every_case, db, staff):
    decided(db, staff["moderator"], action="dismiss")
    with every_case.app_context():
        case = qa.next_case(db, actor=staff["moderator2"])
    qa.submit(db, review_id=case.review_id, label="remove", actor=staff["moderator2"])
    with pytest.raises(ServiceError, match="only admins"):
        qa.adjudicate(db, review_id=case.review_id, label="remove", actor=staff["moderator2"])
    review = qa.adjudicate(db, review_id=case.review_id, label="remove", actor=staff["admin"])
    assert review.correction is None
    assert db.get(JobPost, review.post_id).status == "live"
    assert qa.training_label(db, review.decision_id) == "remove"


def test_agreement_on_the_dashboard(every_case, client, db, staff):
    decided(db, staff["moderator"], action="remove")
    with every_case.app_context():
        case = qa.next_case(db, actor=staff["moderator2"])
    qa.submit(db, review_id=case.review_id, label="remove", actor=staff["moderator2"])
    as_user(client, "analyst@example.com")
    today = utcnow().date().isoformat()
    body = client.get(f"/metrics/export/agreement.csv?date_to={today}").get_data(as_text=True)
    assert body.splitlines() == ["by,group,reviewed,agreed,raw_agreement,cohens_kappa",
                                 "reason,all,1,1,1.000,", "reason,scam,1,1,1.000,",
                                 "moderator,moderator@example.com,1,1,1.000,"]


# --- actors as links, a moderator's history --------------------------------------------------

def test_audit_actors_link_to_their_history(client, db, staff):
    from app.services.audit import record
    record(db, actor=staff["moderator"], action="post.remove", subject_type="post", subject_id=1)
    db.commit()
    as_user(client, "analyst@example.com")
    html = client.get("/audit/").get_data(as_text=True)
    assert (f'<a href="/qa/moderators/{staff["moderator"].moderator_id}">'
            'moderator:moderator@example.com</a>') in html


def test_history_shows_decisions_undo_rate_and_agreement(every_case, client, db, staff):
    m1 = staff["moderator"]
    rows = decided(db, m1, action="remove", n=4, comment="spam ring")
    rows[0].undone_at = utcnow()
    db.commit()
    with every_case.app_context():
        qa.sample_new(db)
    db.commit()
    pending = db.exec(select(QaReview).order_by(QaReview.id)).all()
    for review, label in zip(pending, ("remove", "remove", "not_violation")):
        qa.submit(db, review_id=review.id, label=label, actor=staff["moderator2"])
    as_user(client, "moderator@example.com")
    html = client.get(f"/qa/moderators/{m1.moderator_id}").get_data(as_text=True)
    assert "4 decisions; 1 undone (undo rate 25.0 %)" in html
    # 3 reviewed (the undone one is not sampled), 2 agreed: 66.7 %; kappa undefined? no:
    # first all remove, second remove/remove/not -> p_e = 1 * 2/3, p_o = 2/3 -> kappa 0
    assert "<td>3</td><td>2</td>\n  <td>66.7 %</td>\n  <td>0.000</td>" in html
    assert html.count("spam ring") == 4
    # a moderator sees only their own history
    assert client.get(f"/qa/moderators/{staff['moderator2'].moderator_id}").status_code == 403
    assert client.get("/qa/moderators/999999").status_code == 403
    admin = as_user(every_case.test_client(), "admin@example.com")
    assert admin.get("/qa/moderators/999999").status_code == 404
    assert admin.get(f"/qa/moderators/{staff['moderator2'].moderator_id}").status_code == 200


def test_adjudication_reinstates_a_suspended_client_in_one_step(every_case, client, db, staff):
    suspended = make_client(db, status="suspended", name="Suspended Client Ltd")
    flag = make_flag(db, client=suspended, reason="negative_client")
    db.add(Decision(flag_id=flag.id, subject_type="client", subject_id=suspended.id,
                    client_id=suspended.id, moderator_id=staff["moderator"].moderator_id,
                    action="suspend", created_at=utcnow() - timedelta(minutes=10)))
    db.commit()
    review, html = _overruled_with_correction(every_case, client, db, staff)
    assert "Suspended Client Ltd" in html and "(can reinstate the client)" in html
    assert (review.status, review.correction) == (QaStatus.adjudicated, "reinstate")
    assert db.get(Client, suspended.id).status == "active"
    fix = db.exec(select(Decision).where(Decision.action == "reinstate")).one()
    assert (fix.client_id, fix.post_id, fix.moderator_id) == (
        suspended.id, None, staff["admin"].moderator_id)
    assert db.exec(select(OutboxEvent).where(OutboxEvent.event_type == "client.reinstated")).one()
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "client.reinstate")).one()
    assert (audit.subject_type, audit.subject_id) == ("client", str(suspended.id))
    assert qa.training_label(db, review.decision_id) == "not_violation"


def test_adjudication_leaves_a_client_that_is_not_suspended(every_case, db, staff):
    active = make_client(db, status="contacted")
    flag = make_flag(db, client=active, reason="negative_client")
    db.add(Decision(flag_id=flag.id, subject_type="client", subject_id=active.id,
                    client_id=active.id, moderator_id=staff["moderator"].moderator_id,
                    action="contact", created_at=utcnow() - timedelta(minutes=10)))
    db.commit()
    with every_case.app_context():
        case = qa.next_case(db, actor=staff["moderator2"])
    qa.submit(db, review_id=case.review_id, label="not_violation", actor=staff["moderator2"])
    review = qa.adjudicate(db, review_id=case.review_id, label="not_violation",
                           actor=staff["admin"], apply_correction=True)
    assert review.correction is None
    assert db.get(Client, active.id).status == "contacted"
