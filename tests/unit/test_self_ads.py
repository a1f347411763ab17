"""A freelancer advertising themselves in the jobs section is taken down from it (issue 21,
item 21): a removal with its own reason (wrong section: not a job), whose notice tells the
poster where such posts belong; "not a job" is no category a post can be moved to, so a
self-ad is never kept live by a recategorisation. Real jobs in the wrong category are still
recategorised."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.services import ServiceError, moderation
from models import AuditEvent, Decision, Flag, JobPost, OutboxEvent
from tests.unit.console_fixtures import (as_user, db, make_client, make_flag,  # noqa: F401
                                         make_post, staff, token)

HX = {"HX-Request": "true", "HX-Target": "case"}
SELF_AD = ("I am a professional logo designer with 8 years of experience. Hire me for your "
           "branding and social media graphics.")


@pytest.fixture
def self_ad(db):
    post = make_post(db, make_client(db, name="Pixel Perfect Studio"),
                     title="Logo designer available for hire", description=SELF_AD,
                     category="web_mobile_software")
    flag = make_flag(db, post, reason="miscategorised", score=0.91,
                     suggested_category="not_a_job")
    db.commit()
    return post, flag


@pytest.fixture
def wrong_category(db):
    post = make_post(db, make_client(db), title="Translate our menu into German",
                     category="writing")
    flag = make_flag(db, post, reason="miscategorised", suggested_category="translation")
    db.commit()
    return post, flag


def _events(db, event_type):
    return [e for e in db.exec(select(OutboxEvent).order_by(OutboxEvent.id))
            if e.event_type == event_type]


def test_removing_a_self_ad_takes_it_down_with_its_own_reason_and_notice(db, staff, self_ad):
    post, flag = self_ad
    d = moderation.remove(db, flag_id=flag.id, version=1, reason_code="not_a_job",
                          actor=staff["moderator"])
    assert db.get(JobPost, post.id).status == "removed"
    assert db.get(Flag, flag.id).status == "resolved"
    assert d.details["reason_code"] == "not_a_job" and d.details["label"] == "wrong_section"
    assert d.reason == "Wrong section: not a job"
    (event,) = _events(db, "post.removed")  # the marketplace's webhook
    assert event.payload["reason"] == "not_a_job"
    notice = event.payload["notice"]
    assert "removed from the jobs section" in notice
    assert "freelancer profile" in notice and "services catalogue" in notice
    assert "right freelancers" not in notice
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "post.remove")).one()
    assert audit.after["reason"] == "not_a_job"
    assert _events(db, "post.recategorised") == []


def test_a_self_ad_cannot_be_kept_live_by_recategorising_it_as_not_a_job(db, staff, self_ad):
    post, flag = self_ad
    with pytest.raises(ServiceError, match="remove it from the jobs section"):
        moderation.recategorise(db, flag_id=flag.id, version=1, category="not_a_job",
                                actor=staff["moderator"])
    db.expire_all()
    assert db.get(JobPost, post.id).category == "web_mobile_software"
    assert db.get(JobPost, post.id).status == "live"
    assert db.get(Flag, flag.id).status == "open" and db.get(Flag, flag.id).version == 1
    assert db.exec(select(Decision)).all() == [] and _events(db, "post.recategorised") == []


def test_a_real_job_in_the_wrong_category_is_still_recategorised(db, staff, wrong_category):
    post, flag = wrong_category
    moderation.recategorise(db, flag_id=flag.id, version=1, category="translation",
                            actor=staff["moderator"])
    assert db.get(JobPost, post.id).category == "translation"
    assert db.get(JobPost, post.id).status == "live"
    (event,) = _events(db, "post.recategorised")
    assert "so the right freelancers find it" in event.payload["notice"]


def _decide(client, db, post, flag, action: str, **fields):
    """The case form's POST for ``action`` (as htmx sends it), then a fresh look at the db."""
    response = client.post(f"/posts/{post.id}/{action}", headers=HX, data={
        "csrf_token": token(client), "flag_id": flag.id, "version": flag.version, **fields})
    db.expire_all()
    return response


def _options(html: str, select_id: str) -> list[str]:
    block = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"', block)


def test_the_self_ad_case_offers_remove_not_a_job_first_and_no_not_a_job_category(
        client, db, staff, self_ad):
    post, flag = self_ad
    as_user(client, "moderator@example.com")
    html = client.get(f"/posts/{post.id}?flag={flag.id}").text
    actions = html[html.index('id="actions-h"'):]
    primary = re.search(r'<form[^>]*id="remove-not-a-job".*?</form>', actions, re.S).group(0)
    assert 'name="reason" value="not_a_job"' in primary and "Remove: not a job" in primary
    # the primary action comes before every other decision
    assert actions.index("Remove: not a job") < actions.index("Dismiss (not a violation)")
    assert actions.index("Remove: not a job") < actions.index('id="recat-category"')
    assert "not_a_job" not in _options(html, "recat-category")
    assert re.search(r'<option value="not_a_job" selected>Wrong section: not a job</option>',
                     html)  # the general removal form preselects the same reason
    # a forged recategorisation to "not a job" is a clear 422 that writes nothing
    r = _decide(client, db, post, flag, "recategorise", category="not_a_job")
    assert r.status_code == 422 and "remove it from the jobs section" in r.text
    assert db.get(JobPost, post.id).status == "live" and db.get(Flag, flag.id).version == 1
    r = _decide(client, db, post, flag, "remove", reason="not_a_job")
    assert r.status_code == 200 and "Post removed" in r.text
    assert db.get(JobPost, post.id).status == "removed"


def test_a_real_miscategorised_case_has_no_not_a_job_removal(client, db, staff, wrong_category):
    post, flag = wrong_category
    as_user(client, "moderator@example.com")
    html = client.get(f"/posts/{post.id}?flag={flag.id}").text
    assert "Remove: not a job" not in html and 'id="remove-not-a-job"' not in html
    assert "translation" in _options(html, "recat-category")


def test_bulk_removal_offers_and_applies_the_wrong_section_reason(client, db, staff, self_ad):
    post, flag = self_ad
    as_user(client, "moderator@example.com")
    queue = client.get("/queue/").text
    assert "not_a_job" in _options(queue, "bulk-reason")
    moderation.bulk(db, action="remove", items=[(flag.id, 1)], actor=staff["moderator"],
                    reason_code="not_a_job")
    assert db.get(JobPost, post.id).status == "removed"
    (event,) = _events(db, "post.removed")
    assert event.payload["reason"] == "not_a_job"
    assert "services catalogue" in event.payload["notice"]


def test_cluster_removal_as_not_a_job_tells_each_poster_where_such_posts_belong(db, staff,
                                                                               self_ad):
    post, _flag = self_ad
    twin = make_post(db, make_client(db), title="Designer for hire", description=SELF_AD)
    db.commit()
    moderation.cluster_remove(db, source_post_id=post.id, post_ids=[twin.id],
                              reason_code="not_a_job", actor=staff["moderator"], expected=1)
    (event,) = _events(db, "post.removed")
    assert event.payload["reason"] == "not_a_job"
    assert "freelancer profile" in event.payload["notice"]
    d = db.exec(select(Decision).where(Decision.post_id == twin.id)).one()
    assert d.details["label"] == "wrong_section"


def test_the_api_says_why_a_post_was_removed(client, db, staff, self_ad):
    """GET /api/v1/posts/{id} carries the removal's reason, as the webhook does."""
    from app.services import tokens
    from app.services.audit import CLI

    post, flag = self_ad
    bearer = {"Authorization": f"Bearer {tokens.create_token(db, name='mk', actor=CLI)[1]}"}
    live = client.get(f"/api/v1/posts/{post.external_id}", headers=bearer)
    assert live.status_code == 200 and live.json["removal_reason"] is None
    d = moderation.remove(db, flag_id=flag.id, version=1, reason_code="not_a_job",
                          actor=staff["moderator"])
    body = client.get(f"/api/v1/posts/{post.external_id}", headers=bearer).json
    assert (body["status"], body["removal_reason"]) == ("removed", "not_a_job")
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    body = client.get(f"/api/v1/posts/{post.external_id}", headers=bearer).json
    assert body["status"] != "removed" and body["removal_reason"] is None
