"""The client case file and the client actions over HTTP; outreach templates; mailer."""
from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from app.services import mailer, moderation, outreach_templates
from app.services import ServiceError
from models import AuditEvent, Client, Flag, JobPost, Outreach, utcnow
from tests.unit.console_fixtures import CONTACT_FIELDS as FIELDS
from tests.unit.console_fixtures import (as_user, db, fake_smtp, make_client,  # noqa: F401
                                         make_feedback, make_flag, make_post,
                                         not_improved_after_contact, staff, token)

HX = {"HX-Request": "true", "HX-Target": "client-case"}


@pytest.fixture
def negative(db):
    c = make_client(db, name="Grumpy Ltd")
    for i, (rating, neg) in enumerate([(5, 0.1), (2, 0.8), (1, 0.95), (1, 0.9)]):
        make_feedback(db, c, rating=rating, negative=neg, days_ago=40 - i * 10,
                      comment=f"<script>alert({i})</script> comment {i}")
    post = make_post(db, c)
    flag = make_flag(db, client=c, reason="negative_client", score=0.8, evidence=[
        {"label": "negative_client", "why": "3 of the last 4 feedbacks are negative",
         "kind": "pattern"}, {"label": "negative_client", "why": "rated 1", "ref": "f-x",
                              "rating": 1, "kind": "feedback"}])
    db.commit()
    return c, post, flag


def test_client_page_has_chart_data_feedback_and_panels(client, db, staff, negative):
    c, post, flag = negative
    as_user(client, "moderator@example.com")
    html = client.get(f"/clients/{c.id}").text
    data = re.search(r"data-chart='([^']*)'", html).group(1)
    assert "<" not in data and "'" not in data  # |tojson escapes < > & '
    chart = json.loads(data)
    assert chart["ratings"] == [5, 2, 1, 1] and chart["negative"][2] == 0.95
    assert chart["rolling"][-1] == pytest.approx(2.25)
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/console.js" in html
    assert "&lt;script&gt;alert(0)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "3 of the last 4 feedbacks are negative" in html
    assert "Contact the client" in html and "Suspension on hold" in html  # (policy: contact first)
    assert post.title in html


def test_templates_require_every_field():
    c = Client(name="A {examples} B", external_id="x")
    t = outreach_templates.get("negative_feedback")
    assert t.fields == ["pattern", "examples", "expectation"]
    preview = outreach_templates.render("negative_feedback", client=c, fields={"pattern": "{x}"},
                                        follow_up_due_at=utcnow(), strict=False)
    assert preview.missing == ["examples", "expectation"] and "[examples]" in preview.body
    assert "A {examples} B" in preview.body  # values are not re-substituted
    with pytest.raises(ServiceError):
        outreach_templates.render("negative_feedback", client=c, fields={}, strict=True,
                                  follow_up_due_at=utcnow())
    with pytest.raises(ServiceError):
        outreach_templates.get("nope")


CASE_FRAGMENT = '<article id="client-case"'


def test_contact_preview_then_send(client, db, staff, negative):
    c, _post, flag = negative
    as_user(client, "moderator@example.com")
    panel = {"HX-Request": "true", "HX-Target": "contact-panel"}
    form = client.get(f"/clients/{c.id}/contact", headers=panel)
    assert form.text.lstrip().startswith('<div id="contact-panel"')
    assert "Send message" not in form.text  # preview first
    token_ = re.search(r'name="client_version" value="([^"]+)"', form.text).group(1)
    preview = client.post(f"/clients/{c.id}/contact/preview", headers=panel, data={
        "csrf_token": token(client), "template": "negative_feedback", "preview": "1",
        "pattern": "<b>late</b>"})
    assert "Fill in examples, expectation before sending" in preview.text
    assert "&lt;b&gt;late&lt;/b&gt;" in preview.text and "Send message" not in preview.text
    full = client.post(f"/clients/{c.id}/contact/preview", headers=panel, data={
        "csrf_token": token(client), "template": "negative_feedback", "preview": "1", **FIELDS})
    assert "Send message" in full.text and "Hello Grumpy Ltd" in full.text
    missing = client.post(f"/clients/{c.id}/contact", headers=panel, data={
        "csrf_token": token(client), "template": "negative_feedback", "client_version": token_,
        "flag_id": flag.id, "flag_version": flag.version, "pattern": "x"})
    assert missing.status_code == 422 and "fill in every part" in missing.text
    sent = client.post(f"/clients/{c.id}/contact", headers=panel, data={
        "csrf_token": token(client), "template": "negative_feedback", "client_version": token_,
        "flag_id": flag.id, "flag_version": flag.version, **FIELDS})
    assert sent.status_code == 200 and sent.headers["HX-Retarget"] == "#client-case"
    # the case fragment that replaces #client-case, not a whole page nested inside it
    assert sent.text.lstrip().startswith(CASE_FRAGMENT) and "<html" not in sent.text
    assert "Message queued: no mail server configured" in sent.text  # no SMTP_HOST here
    assert "Message sent" not in sent.text and "late payments" in sent.text
    assert "status-contacted" in sent.text and "Undo contact" not in sent.text
    again = client.post(f"/clients/{c.id}/contact", headers=panel, data={
        "csrf_token": token(client), "template": "negative_feedback", "client_version": token_,
        **FIELDS})
    assert again.status_code == 409 and "changed by someone else" in again.text
    assert again.text.lstrip().startswith(CASE_FRAGMENT) and "<html" not in again.text


def test_suspend_confirmation_lists_posts_then_suspends(client, db, staff, negative):
    c, post, flag = negative
    other = make_post(db, c, title="Second <live> post")
    db.commit()
    not_improved_after_contact(db, c, staff["moderator"])
    flag = db.get(Flag, flag.id)  # reopened by the re-check
    as_user(client, "moderator@example.com")
    confirm = client.get(f"/clients/{c.id}/suspend",
                         headers={"HX-Request": "true", "HX-Target": "suspend-panel"})
    assert "takes down 2 open posts" in confirm.text and "Second &lt;live&gt; post" in confirm.text
    token_ = re.search(r'name="client_version" value="([^"]+)"', confirm.text).group(1)
    no_reason = client.post(f"/clients/{c.id}/suspend", headers=HX, data={
        "csrf_token": token(client), "client_version": token_, "expected_posts": 2})
    assert no_reason.status_code == 422
    done = client.post(f"/clients/{c.id}/suspend", headers=HX, data={
        "csrf_token": token(client), "client_version": token_, "expected_posts": 2,
        "flag_id": flag.id, "flag_version": flag.version, "reason": "no improvement"})
    assert done.status_code == 200 and "Client suspended" in done.text
    assert "Undo suspend" in done.text and "Only an admin can reinstate" in done.text
    db.expire_all()
    assert {db.get(JobPost, p.id).status for p in (post, other)} == {"removed"}


def test_reinstate_is_admin_only_over_http(client, app, db, staff, negative):
    c, *_ = negative
    moderation.suspend(db, client_id=c.id, client_version=moderation.client_token(c),
                       reason="x", actor=staff["admin"], override=True)
    tok = moderation.client_token(db.get(Client, c.id))
    as_user(client, "moderator@example.com")
    assert client.post(f"/clients/{c.id}/reinstate", data={
        "csrf_token": token(client), "client_version": tok, "reason": "y"}).status_code == 403
    admin = app.test_client()
    as_user(admin, "admin@example.com")
    assert "Reinstate client" in admin.get(f"/clients/{c.id}").text
    r = admin.post(f"/clients/{c.id}/reinstate", headers=HX, data={
        "csrf_token": token(admin), "client_version": tok, "reason": "appeal upheld"})
    assert r.status_code == 200 and "Client reinstated" in r.text


def test_client_note_and_undo(client, db, staff, negative):
    c, *_ = negative
    as_user(client, "moderator@example.com")
    r = client.post(f"/clients/{c.id}/note", headers=HX,
                    data={"csrf_token": token(client), "text": "called them"})
    assert r.status_code == 200 and "called them" in r.text
    decision_id = re.search(r'name="decision_id" value="(\d+)"', r.text).group(1)
    r = client.post(f"/clients/{c.id}/undo", headers=HX,
                    data={"csrf_token": token(client), "decision_id": decision_id})
    assert r.status_code == 200 and "Undone." in r.text


def test_analyst_reads_but_cannot_act(client, db, staff, negative):
    c, *_ = negative
    as_user(client, "analyst@example.com")
    html = client.get(f"/clients/{c.id}").text
    assert "read-only" in html and "Contact the client" not in html and "/claim" not in html
    assert client.post(f"/clients/{c.id}/note", data={
        "csrf_token": token(client), "text": "x"}).status_code == 403


def test_mailer_sends_once_when_smtp_is_configured(app, db, staff, negative, monkeypatch):
    c, *_ = negative
    outreach = moderation.contact(db, client_id=c.id, client_version=moderation.client_token(c),
                                  template="negative_feedback", fields=FIELDS,
                                  actor=staff["moderator"])
    assert mailer.send_outreach(db, outreach.id) is False  # no SMTP_HOST: stored only
    sent = fake_smtp(monkeypatch)
    from flask import current_app
    monkeypatch.setitem(current_app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(current_app.config, "SMTP_PORT", 2525)
    assert mailer.send_outreach(db, outreach.id) is True
    assert mailer.send_outreach(db, outreach.id) is False  # idempotent
    msg = sent[1]
    assert msg["To"] == f"client-{c.external_id}@marketplace.invalid"
    assert msg["Subject"] == outreach.subject and "late payments" in msg.get_content()
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "outreach.emailed")).one()
    assert db.exec(select(Outreach)).one().outcome == "pending"


def test_a_suspension_the_policy_holds_back_over_http(client, app, db, staff, negative):
    """A negative client not yet contacted: the moderator is told why there is no Suspend
    button, and a forged suspension is refused with the reason, writing nothing. An admin
    gets the button, marked as an override, whose confirmation asks them to tick it."""
    c, post, flag = negative
    as_user(client, "moderator@example.com")
    page = client.get(f"/clients/{c.id}").text
    assert "Suspension on hold." in page and "has not been contacted" in page
    assert "Suspend…" not in page and "An admin can suspend at once" in page
    r = client.post(f"/clients/{c.id}/suspend", headers=HX, data={
        "csrf_token": token(client), "client_version": moderation.client_token(c),
        "flag_id": flag.id, "flag_version": flag.version, "reason": "rude", "override": "yes"})
    assert r.status_code == 422 and "only admins" in r.text
    r = client.post(f"/clients/{c.id}/suspend", headers=HX, data={
        "csrf_token": token(client), "client_version": moderation.client_token(c),
        "flag_id": flag.id, "flag_version": flag.version, "reason": "rude"})
    assert r.status_code == 422 and "Not suspended." in r.text
    assert db.get(Client, c.id).status == "active"

    admin = app.test_client()
    as_user(admin, "admin@example.com")
    assert "Suspend… (admin override)" in admin.get(f"/clients/{c.id}").text
    confirm = admin.get(f"/clients/{c.id}/suspend",
                        headers={"HX-Request": "true", "HX-Target": "suspend-panel"}).text
    assert 'name="override" value="yes" required' in confirm and "Suspension on hold." in confirm
    r = admin.post(f"/clients/{c.id}/suspend", headers=HX, data={
        "csrf_token": token(admin), "client_version": moderation.client_token(c),
        "flag_id": flag.id, "flag_version": flag.version, "override": "yes",
        "reason": "fraud: fake payment screenshots"})
    assert r.status_code == 200 and "Client suspended" in r.text
    assert "admin override of the contact-first policy" in r.text  # in the decisions
    db.expire_all()
    assert db.get(Client, c.id).status == "suspended"
