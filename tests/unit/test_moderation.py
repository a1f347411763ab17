"""The moderation state machine: every transition, optimistic locking, undo, bulk, claims."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.jobs import enqueue
from app.services import ServiceError, moderation
from app.services.moderation import InvalidTransition, StaleCase
from models import (AuditEvent, Client, Decision, Flag, JobPost, OutboxEvent, Outreach, utcnow)
from tests.unit.console_fixtures import CONTACT_FIELDS as FIELDS
from tests.unit.console_fixtures import (db, make_client, make_feedback, make_flag,  # noqa: F401
                                         make_post, not_improved_after_contact, scam_case,
                                         staff)


def events(db, event_type=None):
    stmt = select(OutboxEvent).order_by(OutboxEvent.id)
    rows = db.exec(stmt).all()
    return [e for e in rows if event_type is None or e.event_type == event_type]


def audit_actions(db):
    return [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.fixture
def case(db):
    client, post, flag = scam_case(db)
    db.commit()
    return client, post, flag


# --- the transition table -------------------------------------------------------------------

TABLE = [
    # action, flag status, post status, client status, allowed?
    ("dismiss", "open", "live", "active", True),
    ("dismiss", "dismissed", "live", "active", False),
    ("dismiss", "resolved", "live", "active", False),
    ("dismiss", "open", "removed", "active", True),
    ("recategorise", "open", "live", "active", True),
    ("recategorise", "open", "under_review", "active", True),
    ("recategorise", "open", "removed", "active", False),
    ("recategorise", "resolved", "live", "active", False),
    ("remove", "open", "live", "active", True),
    ("remove", "open", "removed", "active", False),
    ("remove", "dismissed", "live", "active", False),
    ("escalate", "open", "live", "active", True),
    ("escalate", "resolved", "live", "active", False),
    ("note", "resolved", "removed", "suspended", True),
    ("contact", None, None, "active", True),
    ("contact", None, None, "contacted", True),
    ("contact", None, None, "suspended", False),
    ("suspend", None, None, "active", True),
    ("suspend", None, None, "contacted", True),
    ("suspend", None, None, "suspended", False),
    ("reinstate", None, None, "suspended", True),
    ("reinstate", None, None, "active", False),
]


@pytest.mark.parametrize("action,flag_status,post_status,client_status,allowed", TABLE)
def test_transition_table(action, flag_status, post_status, client_status, allowed):
    flag = Flag(status=flag_status) if flag_status else None
    post = JobPost(status=post_status) if post_status else None
    client = Client(status=client_status)
    assert (action in moderation.allowed_actions(flag=flag, post=post, client=client)) is allowed


# --- post actions ---------------------------------------------------------------------------

def test_dismiss_closes_the_flag_records_a_label_and_audits(db, staff, case):
    _client, post, flag = case
    d = moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"],
                           comment="legit fee-free job")
    db.refresh(flag)
    assert flag.status == "dismissed" and flag.version == 2 and flag.closed_at is not None
    assert d.action == "dismiss" and d.details["label"] == "not_violation"
    assert d.moderator_id == staff["moderator"].moderator_id
    assert db.get(JobPost, post.id).status == "live"
    assert "post.dismiss" in audit_actions(db)
    assert events(db) == []  # nothing for the marketplace


def test_recategorise_moves_the_post_and_notifies(db, staff):
    client = make_client(db)
    post = make_post(db, client, category="writing")
    flag = make_flag(db, post, reason="miscategorised", suggested_category="design_creative")
    db.commit()
    d = moderation.recategorise(db, flag_id=flag.id, version=1, category="design_creative",
                                actor=staff["moderator"])
    assert db.get(JobPost, post.id).category == "design_creative"
    assert db.get(Flag, flag.id).status == "resolved"
    assert d.details["from"] == "writing" and d.details["to"] == "design_creative"
    (event,) = events(db, "post.recategorised")
    assert event.payload["category"] == "design_creative" and "notice" in event.payload


def test_marketplace_echo_of_a_recategorised_post_is_not_rescored(db, staff, monkeypatch):
    """The moderator's category becomes the post's content: the marketplace sending the post
    back with it is "unchanged" (no rescore that could re-flag a human decision); undo and a
    real edit still count as changes."""
    from app.services import ingest

    client = make_client(db)
    post = make_post(db, client, category="writing", skills=["logo"], budget=50.0)
    flag = make_flag(db, post, reason="miscategorised", suggested_category="design_creative")
    db.commit()
    rescored = []
    monkeypatch.setattr(enqueue, "score_posts", lambda session, items: rescored.extend(items))
    d = moderation.recategorise(db, flag_id=flag.id, version=1, category="design_creative",
                                actor=staff["moderator"])
    fields = {"client_id": client.external_id, "title": post.title, "description": post.description,
              "category": "design_creative", "skills": ["logo"], "budget": 50.0, "posted_at": post.posted_at}
    assert ingest.upsert_post(db, external_id=post.external_id, fields=fields).result == "unchanged"
    assert rescored == []
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert db.get(JobPost, post.id).category == "writing"
    assert ingest.upsert_post(db, external_id=post.external_id,
                              fields={**fields, "category": "writing"}).result == "unchanged"
    assert ingest.upsert_post(db, external_id=post.external_id,
                              fields={**fields, "category": "writing", "title": "Edited"}).result == "updated"
    assert [pid for pid, _ in rescored] == [post.id]


def test_recategorise_refuses_unknown_or_same_category(db, staff, case):
    _c, _p, flag = case
    with pytest.raises(ServiceError):
        moderation.recategorise(db, flag_id=flag.id, version=1, category="nope",
                                actor=staff["moderator"])
    with pytest.raises(ServiceError):
        moderation.recategorise(db, flag_id=flag.id, version=1, category="admin_support",
                                actor=staff["moderator"])
    assert db.get(Flag, flag.id).version == 1


def test_remove_requires_a_reason_and_closes_sibling_flags(db, staff, case):
    _c, post, flag = case
    sibling = make_flag(db, post, reason="policy", policy_types=["off_platform"])
    db.commit()
    with pytest.raises(ServiceError):
        moderation.remove(db, flag_id=flag.id, version=1, reason_code="", actor=staff["moderator"])
    d = moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                          actor=staff["moderator"])
    assert db.get(JobPost, post.id).status == "removed"
    assert db.get(Flag, flag.id).status == "resolved"
    assert db.get(Flag, sibling.id).status == "resolved"
    assert d.details["closed_flags"] == [{"id": sibling.id, "status": "open", "version": 2}]
    (event,) = events(db, "post.removed")
    assert event.payload["reason"] == "scam"


def test_remove_of_an_already_removed_post_is_refused(db, staff):
    client = make_client(db)
    post = make_post(db, client, status="removed")
    flag = make_flag(db, post)
    db.commit()
    with pytest.raises(InvalidTransition):
        moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                          actor=staff["moderator"])


def test_escalate_keeps_the_flag_open_and_marks_it(db, staff, case):
    _c, _p, flag = case
    moderation.escalate(db, flag_id=flag.id, version=1, actor=staff["moderator"],
                        comment="ring?")
    f = db.get(Flag, flag.id)
    assert f.status == "open" and f.version == 2
    assert moderation.escalated_flag_ids(db, [flag.id]) == {flag.id}


def test_note_needs_text_and_takes_no_lock(db, staff, case):
    _c, post, flag = case
    with pytest.raises(ServiceError):
        moderation.add_note(db, text="  ", actor=staff["moderator"], flag_id=flag.id)
    d = moderation.add_note(db, text="looked at it", actor=staff["moderator"], flag_id=flag.id)
    assert d.action == "note" and d.post_id == post.id
    assert db.get(Flag, flag.id).version == 1


# --- optimistic locking -----------------------------------------------------------------------

@pytest.mark.parametrize("first,second", [
    ("dismiss", "remove"), ("remove", "dismiss"), ("escalate", "dismiss"),
    ("dismiss", "recategorise"),
])
def test_second_moderator_with_a_stale_version_gets_a_conflict(db, staff, case, first, second):
    _c, post, flag = case
    act = {
        "dismiss": lambda a: moderation.dismiss(db, flag_id=flag.id, version=1, actor=a),
        "remove": lambda a: moderation.remove(db, flag_id=flag.id, version=1,
                                              reason_code="scam", actor=a),
        "escalate": lambda a: moderation.escalate(db, flag_id=flag.id, version=1, actor=a),
        "recategorise": lambda a: moderation.recategorise(db, flag_id=flag.id, version=1,
                                                          category="writing", actor=a),
    }
    act[first](staff["moderator"])
    n_decisions = len(db.exec(select(Decision)).all())
    with pytest.raises(StaleCase):
        act[second](staff["moderator2"])
    assert len(db.exec(select(Decision)).all()) == n_decisions  # never a double action


def test_worker_refresh_bumps_the_version_and_makes_the_form_stale(db, staff, case):
    _c, _p, flag = case
    f = db.get(Flag, flag.id)
    f.version += 1  # what the worker's upsert does on a rescore
    db.commit()
    with pytest.raises(StaleCase):
        moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])


def test_missing_version_is_refused(db, staff, case):
    with pytest.raises(ServiceError):
        moderation.dismiss(db, flag_id=case[2].id, version=None, actor=staff["moderator"])


def test_client_token_conflict(db, staff):
    client = make_client(db)
    db.commit()
    stale = moderation.client_token(client)
    moderation.contact(db, client_id=client.id, client_version=stale,
                       template="negative_feedback", fields=FIELDS, actor=staff["moderator"])
    with pytest.raises(StaleCase):
        moderation.suspend(db, client_id=client.id, client_version=stale, reason="bad",
                           actor=staff["moderator2"])
    assert db.get(Client, client.id).status == "contacted"


# --- undo -----------------------------------------------------------------------------------

def test_undo_dismiss_reopens_within_the_window(db, staff, case):
    _c, _p, flag = case
    d = moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    f = db.get(Flag, flag.id)
    assert f.status == "open" and f.closed_at is None and f.version == 3
    assert db.get(Decision, d.id).undone_at is not None
    assert "decision.undo" in audit_actions(db)


def test_undo_after_the_window_is_refused(db, staff, case):
    _c, _p, flag = case
    d = moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    with pytest.raises(InvalidTransition):
        moderation.undo(db, decision_id=d.id, actor=staff["moderator"],
                        now=utcnow() + timedelta(seconds=31))


def test_undo_by_someone_else_is_refused_but_admins_may(db, staff, case):
    _c, _p, flag = case
    d = moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    with pytest.raises(ServiceError):
        moderation.undo(db, decision_id=d.id, actor=staff["moderator2"])
    moderation.undo(db, decision_id=d.id, actor=staff["admin"])
    with pytest.raises(StaleCase):
        moderation.undo(db, decision_id=d.id, actor=staff["admin"])


def test_undo_remove_reinstates_with_a_compensating_event(db, staff, case):
    _c, post, flag = case
    sibling = make_flag(db, post, reason="policy")
    db.commit()
    d = moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                          actor=staff["moderator"])
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert db.get(JobPost, post.id).status == "live"
    assert db.get(Flag, flag.id).status == "open"
    assert db.get(Flag, sibling.id).status == "open"
    assert [e.event_type for e in events(db)] == ["post.removed", "post.reinstated"]


def test_undo_recategorise_restores_the_category(db, staff, case):
    _c, post, flag = case
    d = moderation.recategorise(db, flag_id=flag.id, version=1, category="writing",
                                actor=staff["moderator"])
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert db.get(JobPost, post.id).category == "admin_support"
    last = events(db, "post.recategorised")[-1]
    assert last.payload["category"] == "admin_support" and last.payload["undo_of"] == d.id


def test_undo_is_refused_when_the_case_changed_since(db, staff, case):
    _c, _p, flag = case
    d = moderation.escalate(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    moderation.dismiss(db, flag_id=flag.id, version=2, actor=staff["moderator2"])
    with pytest.raises(StaleCase):
        moderation.undo(db, decision_id=d.id, actor=staff["moderator"])


def test_undo_cannot_reopen_when_the_worker_opened_a_new_flag(db, staff, case):
    _c, post, flag = case
    d = moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    make_flag(db, post, reason="scam")  # the worker flags the post again
    db.commit()
    with pytest.raises(StaleCase):
        moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert db.get(Decision, d.id).undone_at is None


def test_contact_cannot_be_undone(db, staff):
    client = make_client(db)
    db.commit()
    moderation.contact(db, client_id=client.id, client_version=moderation.client_token(client),
                       template="negative_feedback", fields=FIELDS, actor=staff["moderator"])
    d = db.exec(select(Decision).where(Decision.action == "contact")).one()
    with pytest.raises(InvalidTransition, match="message has been sent"):
        moderation.undo(db, decision_id=d.id, actor=staff["moderator"])


# --- client actions -------------------------------------------------------------------------

def test_contact_writes_outreach_event_follow_up_and_mail_job(db, staff, app):
    client = make_client(db)
    flag = make_flag(db, client=client, reason="negative_client")
    db.commit()
    deferred = []
    real_defer = enqueue.defer
    jobs_seen = lambda session, spec: (deferred.append(spec), real_defer(session, spec))  # noqa: E731
    enqueue.defer = jobs_seen
    try:
        outreach = moderation.contact(
            db, client_id=client.id, client_version=moderation.client_token(client),
            template="negative_feedback", fields=FIELDS, actor=staff["moderator"],
            flag_id=flag.id, flag_version=1)
    finally:
        enqueue.defer = real_defer
    assert db.get(Client, client.id).status == "contacted"
    assert outreach.outcome == "pending" and outreach.sent_at is not None
    assert outreach.follow_up_due_at - outreach.sent_at == timedelta(days=14)
    assert outreach.flag_id == flag.id and db.get(Flag, flag.id).status == "resolved"
    assert "late payments" in outreach.body and client.name in outreach.body
    (event,) = events(db, "client.contacted")
    assert event.payload["outreach"] == outreach.id
    ids = {s.job_id for s in deferred}
    assert f"follow-up-{outreach.id}" in ids and f"send-outreach-{outreach.id}" in ids


def test_contact_refuses_unfilled_placeholders(db, staff):
    client = make_client(db)
    db.commit()
    with pytest.raises(ServiceError, match="fill in"):
        moderation.contact(db, client_id=client.id,
                           client_version=moderation.client_token(client),
                           template="negative_feedback", fields={"pattern": "x"},
                           actor=staff["moderator"])
    assert db.exec(select(Outreach)).all() == []


def test_suspend_takes_down_posts_closes_flags_and_ends_the_follow_up(db, staff):
    client = make_client(db)
    live = make_post(db, client)
    review = make_post(db, client, status="under_review")
    gone = make_post(db, client, status="removed")
    post_flag = make_flag(db, live)
    client_flag = make_flag(db, client=client, reason="negative_client")
    db.commit()
    not_improved_after_contact(db, client, staff["moderator"])
    with pytest.raises(ServiceError):  # reason required
        moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(
            db.get(Client, client.id)), reason="", actor=staff["moderator"])
    with pytest.raises(StaleCase):  # the confirmation showed a different count
        moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(
            db.get(Client, client.id)), reason="no change", actor=staff["moderator"],
            expected_posts=1)
    d = moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(
        db.get(Client, client.id)), reason="no change", actor=staff["moderator"],
        expected_posts=2)
    assert db.get(Client, client.id).status == "suspended"
    assert {db.get(JobPost, p.id).status for p in (live, review, gone)} == {"removed"}
    assert db.get(Flag, post_flag.id).status == "resolved"
    assert db.get(Flag, client_flag.id).status == "resolved"
    assert db.exec(select(Outreach)).one().outcome == "suspended"
    types = [e.event_type for e in events(db)]
    assert types.count("post.removed") == 2 and "client.suspended" in types
    assert sorted(p["id"] for p in d.details["posts"]) == sorted([live.id, review.id])


def _suspend(db, client, actor, **kw):
    return moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(
        db.get(Client, client.id)), reason="rude to freelancers", actor=actor, **kw)


def _nothing_decided(db, client, flag, *, client_status: str, flag_status: str) -> None:
    db.expire_all()
    assert db.get(Client, client.id).status == client_status
    assert db.get(Flag, flag.id).status == flag_status
    assert db.exec(select(Decision).where(Decision.action == "suspend")).all() == []
    assert "client.suspend" not in audit_actions(db) and events(db, "client.suspended") == []


def test_a_negative_client_is_contacted_and_followed_up_before_any_suspension(db, staff):
    """The marketplace's policy: a consistently negative client is first contacted, and
    suspended only if they do not improve within the follow-up window. Until then a
    suspension is held back, with the reason, and nothing is written; an admin may
    override it on another ground (fraud, say), and that is on the record."""
    client = make_client(db, name="Grumpy Ltd")
    make_post(db, client)
    flag = make_flag(db, client=client, reason="negative_client")
    db.commit()
    assert "has not been contacted" in moderation.suspension_hold(db, client)
    for actor in (staff["moderator"], staff["admin"]):  # no override asked for
        with pytest.raises(moderation.PolicyHold, match="Not suspended.*has not been contacted"):
            _suspend(db, client, actor, flag_id=flag.id, flag_version=flag.version)
    with pytest.raises(ServiceError, match="only admins"):  # a moderator cannot override
        _suspend(db, client, staff["moderator"], override=True)
    _nothing_decided(db, client, flag, client_status="active", flag_status="open")

    moderation.contact(db, client_id=client.id, client_version=moderation.client_token(client),
                       template="negative_feedback", fields=FIELDS, actor=staff["moderator"])
    due = db.exec(select(Outreach)).one().follow_up_due_at
    with pytest.raises(moderation.PolicyHold, match=f"window ends on {due:%d %B %Y}"):
        _suspend(db, client, staff["moderator"])  # contacted, the window still running
    _nothing_decided(db, client, flag, client_status="contacted", flag_status="open")


def test_a_client_who_did_not_improve_after_contact_can_be_suspended(db, staff):
    client = make_client(db)
    flag = make_flag(db, client=client, reason="negative_client")
    db.commit()
    not_improved_after_contact(db, client, staff["moderator"])
    assert moderation.suspension_hold(db, db.get(Client, client.id)) is None
    flag = db.get(Flag, flag.id)
    assert flag.status == "open" and "suspend recommended" in flag.system_note.lower()
    d = _suspend(db, client, staff["moderator"], flag_id=flag.id, flag_version=flag.version)
    assert db.get(Client, client.id).status == "suspended"
    assert d.details["policy_override"] is None


def test_a_client_who_improved_and_turned_negative_again_is_warned_again(db, staff):
    """Only the latest contact counts: an older one the re-check found not improved does
    not license a suspension after a second warning that worked."""
    client = make_client(db, name="Grumpy Ltd")
    flag = make_flag(db, client=client, reason="negative_client")
    db.commit()
    not_improved_after_contact(db, client, staff["moderator"])  # first warning: no change
    flag = db.get(Flag, flag.id)  # reopened, "suspend recommended"
    moderation.contact(db, client_id=client.id, client_version=moderation.client_token(
        db.get(Client, client.id)), template="negative_feedback", fields=FIELDS,
        actor=staff["moderator"], flag_id=flag.id, flag_version=flag.version)  # warned again
    assert "window ends on" in moderation.suspension_hold(db, db.get(Client, client.id))
    second = db.exec(select(Outreach).order_by(Outreach.id.desc())).first()
    second.outcome, second.rechecked_at = "improved", utcnow()  # as the re-check leaves it
    db.add(second)
    db.commit()
    assert moderation.suspension_hold(db, db.get(Client, client.id)) is None  # no case now
    make_flag(db, client=client, reason="negative_client")  # later: negative again
    db.commit()
    assert "has not been contacted" in moderation.suspension_hold(db, db.get(Client, client.id))


def test_an_admin_override_of_the_policy_is_recorded(db, staff):
    client = make_client(db)
    flag = make_flag(db, client=client, reason="negative_client")
    db.commit()
    d = _suspend(db, client, staff["admin"], override=True, flag_id=flag.id,
                 flag_version=flag.version)
    assert db.get(Client, client.id).status == "suspended"
    assert "has not been contacted" in d.details["policy_override"]
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "client.suspend")).one()
    assert "has not been contacted" in audit.after["policy_override"]


def test_a_client_without_a_negativity_case_is_not_held_back(db, staff):
    """The policy is about negativity: a scam ring's account is suspended at once."""
    _c, post, _flag = scam_case(db)
    client = db.get(Client, post.client_id)
    assert moderation.suspension_hold(db, client) is None
    _suspend(db, client, staff["moderator"])
    assert db.get(Client, client.id).status == "suspended"


def test_undo_suspend_restores_everything(db, staff):
    client = make_client(db)
    live = make_post(db, client)
    flag = make_flag(db, live)
    db.commit()
    d = moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(
        client), reason="mistake", actor=staff["moderator"])
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert db.get(Client, client.id).status == "active"
    assert db.get(JobPost, live.id).status == "live"
    assert db.get(Flag, flag.id).status == "open"
    assert events(db)[-1].event_type == "client.reinstated"


def test_reinstate_is_admin_only_and_keeps_posts_removed(db, staff):
    client = make_client(db)
    post = make_post(db, client)
    db.commit()
    moderation.suspend(db, client_id=client.id, client_version=moderation.client_token(client),
                       reason="x", actor=staff["moderator"])
    token = moderation.client_token(db.get(Client, client.id))
    with pytest.raises(ServiceError, match="admins"):
        moderation.reinstate(db, client_id=client.id, client_version=token, reason="ok",
                             actor=staff["moderator"])
    moderation.reinstate(db, client_id=client.id, client_version=token, reason="appeal",
                         actor=staff["admin"])
    assert db.get(Client, client.id).status == "active"
    assert db.get(JobPost, post.id).status == "removed"
    assert events(db)[-1].event_type == "client.reinstated"


# --- claims ---------------------------------------------------------------------------------

def test_claim_is_exclusive_until_it_expires(db, staff, case):
    _c, post, flag = case
    now = utcnow()
    a = moderation.claim(db, subject_type="post", subject_id=post.id, actor=staff["moderator"],
                         now=now)
    assert a.mine and a.claimed_by == staff["moderator"].moderator_id
    b = moderation.claim(db, subject_type="post", subject_id=post.id, actor=staff["moderator2"],
                         now=now + timedelta(minutes=5))
    assert not b.mine and b.claimed_by == staff["moderator"].moderator_id
    c = moderation.claim(db, subject_type="post", subject_id=post.id, actor=staff["moderator2"],
                         now=now + timedelta(minutes=16))
    assert c.mine
    assert db.get(Flag, flag.id).version == 1  # claims never make forms stale


def test_decision_releases_the_claim(db, staff, case):
    _c, post, flag = case
    moderation.claim(db, subject_type="post", subject_id=post.id, actor=staff["moderator"])
    moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    f = db.get(Flag, flag.id)
    assert f.claimed_by is None and f.claimed_until is None


def test_release_and_admin_reassign(db, staff, case):
    _c, post, flag = case
    moderation.claim(db, subject_type="post", subject_id=post.id, actor=staff["moderator"])
    with pytest.raises(ServiceError):
        moderation.reassign(db, subject_type="post", subject_id=post.id,
                            to_moderator_id=staff["moderator2"].moderator_id,
                            actor=staff["moderator"])
    with pytest.raises(ServiceError):  # analysts cannot hold cases
        moderation.reassign(db, subject_type="post", subject_id=post.id,
                            to_moderator_id=staff["analyst"].moderator_id, actor=staff["admin"])
    moderation.reassign(db, subject_type="post", subject_id=post.id,
                        to_moderator_id=staff["moderator2"].moderator_id, actor=staff["admin"])
    assert db.get(Flag, flag.id).claimed_by == staff["moderator2"].moderator_id
    assert "claim.reassign" in audit_actions(db)
    moderation.release(db, subject_type="post", subject_id=post.id, actor=staff["moderator2"])
    assert db.get(Flag, flag.id).claimed_by is None


# --- bulk and cluster -------------------------------------------------------------------------

def test_bulk_dismiss_and_remove(db, staff):
    flags = [scam_case(db)[2] for _ in range(3)]
    db.commit()
    done = moderation.bulk(db, action="dismiss", items=[(f.id, 1) for f in flags[:2]],
                           actor=staff["moderator"])
    assert len(done) == 2 and {db.get(Flag, f.id).status for f in flags[:2]} == {"dismissed"}
    with pytest.raises(ServiceError):
        moderation.bulk(db, action="remove", items=[(flags[2].id, 1)], actor=staff["moderator"])
    moderation.bulk(db, action="remove", items=[(flags[2].id, 1)], actor=staff["moderator"],
                    reason_code="scam")
    assert db.get(JobPost, flags[2].post_id).status == "removed"
    assert "bulk.dismiss" in audit_actions(db) and "bulk.remove" in audit_actions(db)


def test_bulk_is_all_or_nothing_on_conflict(db, staff):
    flags = [scam_case(db)[2] for _ in range(3)]
    db.commit()
    moderation.dismiss(db, flag_id=flags[1].id, version=1, actor=staff["moderator2"])
    with pytest.raises(StaleCase):
        moderation.bulk(db, action="dismiss", items=[(f.id, 1) for f in flags],
                        actor=staff["moderator"])
    assert db.get(Flag, flags[0].id).status == "open"
    assert db.get(Flag, flags[2].id).status == "open"


def test_cluster_remove_checks_the_previewed_count(db, staff):
    _c, post, flag = scam_case(db)
    others = [make_post(db, make_client(db), title=post.title, description=post.description)
              for _ in range(2)]
    make_flag(db, others[0])
    db.commit()
    ids = [p.id for p in others]
    with pytest.raises(StaleCase):
        moderation.cluster_remove(db, source_post_id=post.id, post_ids=ids, reason_code="scam",
                                  actor=staff["moderator"], expected=3)
    done = moderation.cluster_remove(db, source_post_id=post.id, post_ids=ids,
                                     reason_code="scam", actor=staff["moderator"], expected=2)
    assert len(done) == 2 and {db.get(JobPost, i).status for i in ids} == {"removed"}
    assert db.get(JobPost, post.id).status == "live"  # the subject is decided separately
    assert len(events(db, "post.removed")) == 2
