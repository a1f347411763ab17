"""What a moderator judged is kept with the decision: the marketplace editing a removed post
afterwards neither erases it (decision, audit event, case page) nor passes unnoticed (the
post is flagged for review again)."""
from __future__ import annotations

from sqlmodel import select

from app.services import moderation
from models import AuditEvent, Decision, Flag, JobPost
from tests.unit.console_fixtures import (HOSTILE_TEXT, HOSTILE_TITLE, as_user, db,  # noqa: F401
                                         make_flag, scam_case, staff)
from tests.unit.test_api import api, dispatched, put_client, put_post, token  # noqa: F401


def test_every_post_decision_keeps_the_judged_content(db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    judged = {"title": post.title, "description": post.description, "category": post.category,
              "content_hash": post.content_hash, "scores": post.scores,
              "evidence": flag.evidence}
    decision = moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                                 actor=staff["moderator"])
    assert decision.details["judged"] == judged
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "post.remove")).one()
    assert event.before["judged"] == judged
    _c, post2, flag2 = scam_case(db)
    db.commit()
    dismissal = moderation.dismiss(db, flag_id=flag2.id, version=1, actor=staff["moderator"])
    assert dismissal.details["judged"]["description"] == post2.description
    assert dismissal.details["judged"]["evidence"] == flag2.evidence


def _removed_then_edited(api, db, staff):
    assert put_client(api).status_code == 201
    assert put_post(api, title=HOSTILE_TITLE, description=HOSTILE_TEXT).status_code == 201
    post = db.exec(select(JobPost).where(JobPost.external_id == "p1")).one()
    flag = make_flag(db, post, reason="policy", policy_types=["off_platform"])
    db.commit()
    removal = moderation.remove(db, flag_id=flag.id, version=1, reason_code="off_platform",
                                actor=staff["moderator"])
    r = put_post(api, title="Logo for my bakery", description="Need a logo, $50. Pay here.")
    assert r.status_code == 200 and r.get_json()["result"] == "updated"
    db.expire_all()
    return db.get(JobPost, post.id), db.get(Decision, removal.id)


def test_editing_a_removed_post_keeps_it_removed_and_flags_it_for_review(api, db, staff):
    post, removal = _removed_then_edited(api, db, staff)
    assert post.status == "removed" and post.title == "Logo for my bakery"
    assert removal.details["judged"]["title"] == HOSTILE_TITLE  # what was judged is kept
    review = db.exec(select(Flag).where(Flag.post_id == post.id, Flag.status == "open")).one()
    assert review.reason == "policy" and review.policy_types == ["off_platform"]
    assert "Edited by the marketplace after it was removed" in review.system_note
    assert f"decision {removal.id}" in review.system_note


def test_an_edited_self_ad_is_looked_at_again_as_a_self_ad(api, db, staff):
    """A post removed as not a job and edited afterwards comes back as a wrong-section case
    (miscategorised, suggesting "not a job"), not as a scam."""
    assert put_client(api).status_code == 201
    assert put_post(api, title="I am a logo designer", description="Hire me for your logo.").status_code == 201
    post = db.exec(select(JobPost).where(JobPost.external_id == "p1")).one()
    flag = make_flag(db, post, reason="miscategorised", suggested_category="not_a_job")
    db.commit()
    moderation.remove(db, flag_id=flag.id, version=1, reason_code="not_a_job", actor=staff["moderator"])
    assert put_post(api, title="Logo designer available", description="Hire me.").get_json()["result"] == "updated"
    db.expire_all()
    review = db.exec(select(Flag).where(Flag.post_id == post.id, Flag.status == "open")).one()
    assert review.reason == "miscategorised" and review.suggested_category == "not_a_job"


def test_an_unchanged_removed_post_is_not_flagged_again(api, db, staff):
    post, _removal = _removed_then_edited(api, db, staff)
    review = db.exec(select(Flag).where(Flag.post_id == post.id, Flag.status == "open")).one()
    moderation.dismiss(db, flag_id=review.id, version=review.version, actor=staff["moderator"])
    r = put_post(api, title="Logo for my bakery", description="Need a logo, $50. Pay here.")
    assert r.get_json()["result"] == "unchanged"
    db.expire_all()
    assert db.exec(select(Flag).where(Flag.post_id == post.id, Flag.status == "open")).all() == []


def test_case_page_shows_what_was_judged_when_the_live_text_differs(api, client, db, staff):
    post, removal = _removed_then_edited(api, db, staff)
    as_user(client, "moderator@example.com")
    html = client.get(f"/posts/{post.id}").text
    assert "Edited after the decision" in html and f"decision #{removal.id}" in html
    # the judged text, escaped like all marketplace text
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; Data entry" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "Logo for my bakery" in html  # the live text


def test_case_page_says_nothing_when_the_post_is_as_judged(client, db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                      actor=staff["moderator"])
    as_user(client, "moderator@example.com")
    assert "Edited after the decision" not in client.get(f"/posts/{post.id}").text


def test_rescoring_the_edited_removed_post_leaves_its_review_flag_open(api, db, staff):
    """The edit is scored like any (its scores are kept), but a removed post's open flag is
    a moderator's to close: an honest-looking edit must not dismiss it automatically."""
    from app.services import scoring

    post, _removal = _removed_then_edited(api, db, staff)
    stats = scoring.score_posts(db, [post.id])
    assert stats["scored"] == 1
    db.expire_all()
    review = db.exec(select(Flag).where(Flag.post_id == post.id, Flag.status == "open")).one()
    assert "Edited by the marketplace" in review.system_note
