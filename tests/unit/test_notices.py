"""Notices to affected freelancers: written with the decision, held for the undo window,
delivered once, withdrawn by an undo, never for a dismissal or another reason, and never
revealing the evidence or the moderator."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from app.services import moderation, notice_templates, notices, sweep, webhooks
from app.services.moderation import StaleCase
from models import (Decision, FreelancerContact, FreelancerNotice, JobPost, OutboxEvent, utcnow)
from tests.support.receiver import receiver  # noqa: F401  (fixture)
from tests.unit.console_fixtures import (as_user, db, fake_smtp, make_client,  # noqa: F401
                                         make_flag, make_post, not_improved_after_contact,
                                         scam_case, staff)

SECRET = "whsec-test-0123456789"
CONTACTS = [{"freelancer_id": "fl-1", "kind": "applicant", "email": "ana@example.org"},
            {"freelancer_id": "fl-2", "kind": "messaged", "email": None}]


@pytest.fixture
def hooked(db, receiver):
    from flask import current_app

    current_app.config.update(MARKETPLACE_WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=SECRET)
    return receiver


def with_contacts(db, post, contacts=CONTACTS):
    notices.replace_contacts(db, post.id, contacts)
    db.commit()


def notice_events(db):
    return db.exec(select(OutboxEvent).where(OutboxEvent.event_type == "freelancer.notice")
                   .order_by(OutboxEvent.id)).all()


def after_window(decision: Decision):
    return decision.created_at + timedelta(seconds=moderation.undo_seconds() + 1)


def received(receiver, event_type="freelancer.notice"):
    bodies = [json.loads(r["body"]) for r in receiver.received]
    return [b for b in bodies if b["type"] == event_type]


def remove(db, staff, flag, reason="scam", who="moderator", comment="", now=None):
    return moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code=reason,
                             actor=staff[who], comment=comment, now=now)


def a_while_ago():
    """A decision taken this long ago is past its undo window: its notices are due (the
    jobs dispatched after its commit run inline at once)."""
    return utcnow() - timedelta(seconds=moderation.undo_seconds() + 5)


# --- written with the decision, delivered once ------------------------------------------------

def test_a_scam_removal_writes_a_held_notice_per_freelancer_in_its_transaction(db, staff, hooked):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag)
    rows = notices.of_decision(db, d.id)
    assert [(n.freelancer_ref, n.email, n.reason, state) for n, state in rows] == [
        ("fl-1", "ana@example.org", "scam", "pending"), ("fl-2", None, "scam", "pending")]
    events = notice_events(db)
    assert [(e.subject_type, e.subject_id) for e in events] == [("notice", n.id) for n, _ in rows]
    assert all(e.next_attempt_at == n.send_after == after_window(d) - timedelta(seconds=1)
               for e, (n, _) in zip(events, rows))
    # held: the post.removed event went out at once, the notices did not
    assert [b["type"] for b in map(json.loads, (r["body"] for r in hooked.received))] == [
        "post.removed"]
    assert db.get(Decision, d.id).details["reason_code"] == "scam"


def test_notices_are_delivered_once_after_the_undo_window(db, staff, hooked):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag, now=a_while_ago())  # delivered right after the commit
    later = utcnow()
    for _ in range(3):  # the sweep (and any retried job) again and again: one delivery each
        sweep.run(db, now=later, delay=0)
    for event in notice_events(db):
        assert webhooks.deliver_pending(db, notices.SUBJECT, event.subject_id, now=later) == 0
    got = received(hooked)
    assert sorted(b["data"]["freelancer"] for b in got) == ["fl-1", "fl-2"]
    assert len({r["headers"]["Idempotency-Key"] for r in hooked.received}) == len(hooked.received)
    first = got[0]["data"]
    assert first["post"] == post.external_id and first["reason"] == "scam"
    assert first["decision"] == d.id and first["kind"] in ("applicant", "messaged")
    assert [state for _n, state in notices.of_decision(db, d.id)] == ["sent", "sent"]
    assert notices.summary(db, post_id=post.id, client_id=post.client_id).sent == 2


def test_a_notice_is_not_delivered_before_its_time(db, staff, hooked):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag)
    event = notice_events(db)[0]
    assert webhooks.deliver_pending(db, notices.SUBJECT, event.subject_id,
                                    now=d.created_at + timedelta(seconds=1)) == 0
    assert sweep.run(db, now=d.created_at + timedelta(seconds=2), delay=0)["outbox_subjects"] == 0
    assert received(hooked) == []


def test_a_refused_decision_writes_no_notice(db, staff):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    with pytest.raises(StaleCase):
        moderation.remove(db, flag_id=flag.id, version=flag.version + 5, reason_code="scam",
                          actor=staff["moderator"])
    assert db.exec(select(FreelancerNotice)).all() == [] and notice_events(db) == []


# --- withdrawn by undo ------------------------------------------------------------------------

def test_undo_within_the_window_withdraws_the_notices(db, staff, hooked):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag)
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert [state for _n, state in notices.of_decision(db, d.id)] == ["withdrawn", "withdrawn"]
    assert all(e.withdrawn_at is not None for e in notice_events(db))
    sweep.run(db, now=after_window(d), delay=0)
    assert received(hooked) == []  # never sent
    assert [b["type"] for b in map(json.loads, (r["body"] for r in hooked.received))] == [
        "post.removed", "post.reinstated"]
    assert sweep.status(db)["backlog"]["outbox_pending"] == 0


def test_a_notice_already_sent_is_not_withdrawn(db, staff, hooked, app):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag)
    event = notice_events(db)[0]
    webhooks.deliver_pending(db, notices.SUBJECT, event.subject_id, now=after_window(d))
    assert notices.withdraw(db, decision_id=d.id, now=utcnow()) == 1  # the other one
    assert sorted(s for _n, s in notices.of_decision(db, d.id)) == ["sent", "withdrawn"]


def test_undo_of_a_fraud_suspension_withdraws_its_notices(db, staff):
    client, post, flag = scam_case(db)
    other = make_post(db, client)
    with_contacts(db, post)
    with_contacts(db, other, [{"freelancer_id": "fl-1", "kind": "messaged"},
                              {"freelancer_id": "fl-3", "kind": "applicant"}])
    d = moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(client),
                           reason="scam ring", actor=staff["moderator"])
    rows = notices.of_decision(db, d.id)
    # one notice per freelancer, naming every post of theirs that came down
    assert sorted(n.freelancer_ref for n, _ in rows) == ["fl-1", "fl-2", "fl-3"]
    fl1 = next(n for n, _ in rows if n.freelancer_ref == "fl-1")
    assert sorted(fl1.post_ids) == sorted([post.id, other.id]) and fl1.reason == "client_fraud"
    assert fl1.email == "ana@example.org"
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert {s for _n, s in notices.of_decision(db, d.id)} == {"withdrawn"}


# --- when there are none --------------------------------------------------------------------

def test_a_dismissed_flag_notifies_nobody(db, staff):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    moderation.dismiss(db, flag_id=flag.id, version=flag.version, actor=staff["moderator"])
    assert db.exec(select(FreelancerNotice)).all() == [] and notice_events(db) == []


@pytest.mark.parametrize("reason", ["unpaid_work", "academic_dishonesty", "fake_reviews",
                                    "not_a_job"])
def test_removals_for_other_reasons_notify_nobody(db, staff, reason):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    remove(db, staff, flag, reason=reason)
    assert db.exec(select(FreelancerNotice)).all() == [] and notice_events(db) == []


@pytest.mark.parametrize("reason", ["off_platform", "account_rental"])
def test_off_platform_and_account_rental_removals_notify(db, staff, reason):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag, reason=reason)
    assert {n.reason for n, _ in notices.of_decision(db, d.id)} == {reason}


def test_a_suspension_for_negativity_alone_notifies_nobody(db, staff):
    client = make_client(db)
    post = make_post(db, client)
    make_flag(db, client=client, reason="negative_client")
    db.commit()
    with_contacts(db, post)
    not_improved_after_contact(db, client, staff["moderator"])
    d = moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(
        db.get(type(client), client.id)), reason="no change", actor=staff["moderator"])
    assert db.get(JobPost, post.id).status == "removed"
    assert notices.of_decision(db, d.id) == []


def test_a_suspension_after_a_standing_scam_removal_is_for_fraud(db, staff):
    client, post, flag = scam_case(db)
    other = make_post(db, client)
    with_contacts(db, other)
    remove(db, staff, flag)  # no open scam case left; the removal stands
    d = moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(
        db.get(type(client), client.id)), reason="fraud", actor=staff["moderator"])
    assert len(notices.of_decision(db, d.id)) == 2


# --- templates: no evidence, no moderator -------------------------------------------------------

def test_notices_reveal_neither_the_evidence_nor_the_moderator(db, staff, hooked):
    title = "Pay the registration fee on telegram @quickcash"
    _c, post, flag = scam_case(db, title=title)
    with_contacts(db, post)
    d = remove(db, staff, flag, comment="moderator's private remark: see the fee span",
               now=a_while_ago())
    texts = [json.dumps(b) for b in received(hooked)]
    texts += [n.subject + n.body for n, _ in notices.of_decision(db, d.id)]
    assert len(texts) == 4
    for text in texts:
        for secret in ("registration fee", "quickcash", "telegram", "moderator@example.com",
                       "private remark", "asks the freelancer to pay", title, '"score"'):
            assert secret not in text, secret


@pytest.mark.parametrize("reason", notice_templates.reasons())
@pytest.mark.parametrize("kind", ["applicant", "messaged"])
def test_every_template_renders_from_the_reference_only(reason, kind):
    from datetime import datetime, timezone

    msg = notice_templates.render(reason, kind=kind, post_ref="p-77",
                                  posted_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
                                  other_posts=2 if reason == "client_fraud" else 0)
    assert "p-77" in msg.body and "01 March 2026" in msg.body
    assert "{" not in msg.subject + msg.body and len(msg.subject) <= 300
    assert ("applied to" if kind == "applicant" else "messaged") in msg.body


# --- e-mail -----------------------------------------------------------------------------------

def test_notices_are_emailed_once_where_an_address_and_smtp_exist(db, staff, monkeypatch):
    from flask import current_app

    sent = fake_smtp(monkeypatch)
    current_app.config.update(SMTP_HOST="smtp.test", SMTP_PORT=2525)
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    held = remove(db, staff, flag)
    notice = next(n for n, _ in notices.of_decision(db, held.id) if n.email)
    assert notices.send_email(db, notice.id) is False  # held for the undo window
    assert sweep.run(db, delay=0)["notice_emails"] == 0
    moderation.undo(db, decision_id=held.id, actor=staff["moderator"])
    flag = db.get(type(flag), flag.id)
    d = remove(db, staff, flag, now=a_while_ago())  # sent right after the commit
    notice = next(n for n, _ in notices.of_decision(db, d.id) if n.email)
    assert notices.send_email(db, notice.id) is False  # a retried job: nothing more
    messages = [m for m in sent if not isinstance(m, tuple)]
    assert [m["To"] for m in messages] == ["ana@example.org"]
    assert messages[0]["X-TrustDesk-Notice"] == str(notice.id)
    assert "registration fee" not in messages[0].get_content()
    assert sweep.run(db, delay=0)["notice_emails"] == 0


def test_a_withdrawn_notice_is_never_emailed(db, staff, monkeypatch):
    from flask import current_app

    sent = fake_smtp(monkeypatch)
    current_app.config.update(SMTP_HOST="smtp.test")
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag)
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    sweep.run(db, now=after_window(d), delay=0)
    notice = next(n for n, _ in notices.of_decision(db, d.id) if n.email)
    assert notices.send_email(db, notice.id, now=after_window(d)) is False
    assert sent == []


# --- contacts ---------------------------------------------------------------------------------

def test_replacing_contacts_is_idempotent(db):
    client = make_client(db)
    post = make_post(db, client)
    assert notices.replace_contacts(db, post.id, CONTACTS) is True
    assert notices.replace_contacts(db, post.id, CONTACTS) is False
    assert notices.replace_contacts(db, post.id, CONTACTS[:1]) is True
    assert [c.freelancer_ref for c in db.exec(select(FreelancerContact))] == ["fl-1"]
    changed = [{**CONTACTS[0], "kind": "messaged"}]
    assert notices.replace_contacts(db, post.id, changed) is True
    assert db.exec(select(FreelancerContact)).one().kind == "messaged"


# --- the case page ----------------------------------------------------------------------------

def test_the_case_page_says_how_many_freelancers_were_notified(client, db, staff, hooked):
    _c, post, flag = scam_case(db)
    with_contacts(db, post)
    d = remove(db, staff, flag)
    as_user(client, "moderator@example.com")
    html = client.get(f"/posts/{post.id}").text
    assert "2 freelancers notified" in html and "0 sent, 2 pending" in html
    webhooks.deliver_pending(db, notices.SUBJECT, notice_events(db)[0].subject_id,
                             now=after_window(d))
    html = client.get(f"/posts/{post.id}").text
    assert "2 freelancers notified" in html and "1 sent, 1 pending" in html


def test_a_bulk_removal_notifies_the_contacts_of_every_post_it_takes_down(db, staff):
    _c1, post1, flag1 = scam_case(db)
    _c2, post2, flag2 = scam_case(db)
    with_contacts(db, post1)
    with_contacts(db, post2, CONTACTS[:1])
    decisions = moderation.bulk(db, action="remove", items=[(flag1.id, 1), (flag2.id, 1)],
                                actor=staff["moderator"], reason_code="scam")
    assert [len(notices.of_decision(db, d.id)) for d in decisions] == [2, 1]
    # one transaction: a stale item means no decision and no notice at all
    _c3, post3, flag3 = scam_case(db)
    _c4, post4, flag4 = scam_case(db)
    with_contacts(db, post3)
    before = len(db.exec(select(FreelancerNotice)).all())
    with pytest.raises(StaleCase):
        moderation.bulk(db, action="remove", items=[(flag3.id, 1), (flag4.id, 9)],
                        actor=staff["moderator"], reason_code="scam")
    assert len(db.exec(select(FreelancerNotice)).all()) == before
