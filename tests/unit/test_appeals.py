"""Appeals (issue 26): filing, the second-decider rule, overturn of each decision kind
restoring exactly what the decision changed, undo, labels and strikes corrected."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlmodel import select

from app.services import Conflict, NotFound, ServiceError, appeals, labels, moderation, strikes
from app.services.moderation import StaleCase
from models import (Appeal, AuditEvent, Client, Decision, JobPost, OutboxEvent, utcnow)
from tests.unit.console_fixtures import (db, make_client, make_flag, make_post,  # noqa: F401
                                         scam_case, staff)


def events(db, *types):
    rows = db.exec(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    return [e for e in rows if not types or e.event_type in types]


def removed_scam(db, staff, who="moderator"):
    client, post, flag = scam_case(db)
    db.commit()
    decision = moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code="scam",
                                 actor=staff[who], comment="asks for a registration fee")
    return client, post, decision


def filed(db, decision, staff, text="I never asked anyone to pay."):
    return appeals.file(db, decision_id=decision.id, text=text, actor=staff["admin"])


def recategorised(db, staff):
    """A post moved from design_creative to writing: (the post, the decision)."""
    post = make_post(db, make_client(db), category="design_creative")
    flag = make_flag(db, post, reason="miscategorised", suggested_category="writing")
    db.commit()
    return post, moderation.recategorise(db, flag_id=flag.id, version=flag.version,
                                         category="writing", actor=staff["moderator"])


def decide(db, appeal, staff, who="moderator2", outcome="overturn", reason="legit bakery job"):
    return appeals.decide(db, appeal_id=appeal.id, version=appeal.version, outcome=outcome,
                          reason=reason, actor=staff[who])


# --- filing ------------------------------------------------------------------------------------

def test_one_appeal_per_decision_within_the_window(db, staff):
    client, post, decision = removed_scam(db, staff)
    appeal = appeals.file(db, decision_id=decision.id, appellant=client.external_id,
                          text="Please look again", actor=staff["admin"])
    assert appeal.status == "pending" and appeal.post_id == post.id
    with pytest.raises(Conflict, match="already has an appeal"):
        filed(db, decision, staff)
    assert db.exec(select(Appeal)).all() == [appeal]


def test_late_unknown_undone_foreign_and_unappealable_decisions_are_refused(app, db, staff):
    client, post, decision = removed_scam(db, staff)
    later = decision.created_at + timedelta(days=20, seconds=1)
    with pytest.raises(ServiceError, match="appeal window of 20 days"):
        appeals.file(db, decision_id=decision.id, text="x", actor=staff["admin"], now=later)
    with pytest.raises(NotFound):
        appeals.file(db, decision_id=999999, text="x", actor=staff["admin"])
    with pytest.raises(ServiceError, match="not the client"):
        appeals.file(db, decision_id=decision.id, appellant="someone-else", text="x",
                     actor=staff["admin"])
    with pytest.raises(ServiceError, match="text is required"):
        appeals.file(db, decision_id=decision.id, text="  ", actor=staff["admin"])
    _, _, flag = scam_case(db)
    db.commit()
    dismissed = moderation.dismiss(db, flag_id=flag.id, version=flag.version,
                                   actor=staff["moderator"])
    with pytest.raises(ServiceError, match="cannot be appealed"):
        filed(db, dismissed, staff)
    _, _, flag = scam_case(db)
    db.commit()
    removal = moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code="scam",
                                actor=staff["moderator"])
    moderation.undo(db, decision_id=removal.id, actor=staff["moderator"])
    with pytest.raises(ServiceError, match="was undone"):
        filed(db, removal, staff)
    assert db.exec(select(Appeal)).all() == []


# --- deciding ---------------------------------------------------------------------------------

def test_the_original_decider_may_not_decide_the_appeal_but_an_admin_may(db, staff):
    _, _, decision = removed_scam(db, staff)
    appeal = filed(db, decision, staff)
    with pytest.raises(ServiceError, match="another moderator"):
        decide(db, appeal, staff, who="moderator")
    with pytest.raises(ServiceError, match="reason"):
        decide(db, appeal, staff, reason=" ")
    # an admin who took the decision may still decide its appeal
    _, _, own = removed_scam(db, staff, who="admin")
    assert decide(db, filed(db, own, staff), staff, who="admin",
                  outcome="uphold").status == "upheld"


def test_overturned_removal_puts_the_post_back_and_corrects_label_and_strike(db, staff):
    client, post, decision = removed_scam(db, staff)
    assert [s.decision_id for s in strikes.standing(db, client.id).strikes] == [decision.id]
    assert [(x.reason, x.positive) for x in labels.current(db)] == [("scam", True)]
    appeal = decide(db, filed(db, decision, staff), staff)
    db.refresh(post)
    assert appeal.status == "overturned" and post.status == "live"
    assert strikes.standing(db, client.id).strikes == ()
    [label] = labels.current(db)
    assert (label.reason, label.positive, label.source) == ("scam", False, "appeal_overturn")
    assert label.decided_by == "moderator2@example.com"
    types = [e.event_type for e in events(db)]
    assert types[-2:] == ["post.reinstated", "appeal.decided"]
    decided = events(db, "appeal.decided")[-1].payload
    assert decided["decision"] == decision.id and decided["outcome"] == "overturned"
    assert decided["post"] == post.external_id
    # the reversal is a decision of its own, carrying no label
    reinstate = db.exec(select(Decision).where(Decision.action == "reinstate")).one()
    assert reinstate.details["appeal"] == appeal.id
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "appeal.overturn")).one()


def test_upheld_removal_changes_nothing_but_the_appeal(db, staff):
    client, post, decision = removed_scam(db, staff)
    appeal = decide(db, filed(db, decision, staff), staff, outcome="uphold")
    db.refresh(post)
    assert appeal.status == "upheld" and post.status == "removed"
    assert len(strikes.standing(db, client.id).strikes) == 1
    assert [e.event_type for e in events(db)][-1] == "appeal.decided"
    assert labels.current(db)[0].positive


def test_overturned_recategorisation_restores_the_category(db, staff):
    post, decision = recategorised(db, staff)
    hash_moved = db.get(JobPost, post.id).content_hash
    appeal = decide(db, filed(db, decision, staff), staff)
    post = db.get(JobPost, post.id)
    assert appeal.status == "overturned" and post.category == "design_creative"
    assert post.content_hash != hash_moved and post.status == "live"
    last = events(db, "post.recategorised")[-1].payload
    assert last["category"] == "design_creative"
    assert [(x.reason, x.positive, x.category) for x in labels.current(db)
            if x.reason == "miscategorised"] == [("miscategorised", False, "design_creative")]


def test_overturned_suspension_reinstates_the_client_and_the_posts_it_took_down(db, staff):
    client = make_client(db)
    live = make_post(db, client)
    already = make_post(db, client, status="removed")
    db.commit()
    decision = moderation.suspend(db, client_id=client.id,
                                  client_version=moderation.client_token(client),
                                  reason="fraud ring", actor=staff["admin"])
    assert db.get(JobPost, live.id).status == "removed"
    assert strikes.standing(db, client.id).total == strikes.DEFAULT_WEIGHTS["suspend"]
    appeal = decide(db, filed(db, decision, staff), staff)
    assert appeal.status == "overturned"
    assert db.get(Client, client.id).status == "active"
    assert db.get(JobPost, live.id).status == "live"
    assert db.get(JobPost, already.id).status == "removed"  # not taken down by it
    assert strikes.standing(db, client.id).total == 0
    types = [e.event_type for e in events(db)]
    assert types[-3:] == ["client.reinstated", "post.reinstated", "appeal.decided"]


def test_stale_version_and_a_second_decision_are_409(db, staff):
    _, _, decision = removed_scam(db, staff)
    appeal = filed(db, decision, staff)
    version = appeal.version
    decide(db, appeal, staff, outcome="uphold")
    with pytest.raises(StaleCase):
        appeals.decide(db, appeal_id=appeal.id, version=version, outcome="overturn",
                       reason="no", actor=staff["admin"])
    assert db.get(Appeal, appeal.id).status == "upheld"


def test_overturn_after_the_post_came_back_is_refused_and_writes_nothing(db, staff):
    _, post, decision = removed_scam(db, staff)
    appeal = filed(db, decision, staff)
    db.get(JobPost, post.id).status = "live"
    db.commit()
    with pytest.raises(moderation.InvalidTransition, match="no longer removed"):
        decide(db, appeal, staff)
    db.rollback()
    assert db.get(Appeal, appeal.id).status == "pending"


# --- undo -------------------------------------------------------------------------------------

def test_undo_of_an_overturn_removes_the_post_again_and_reopens_the_appeal(db, staff):
    client, post, decision = removed_scam(db, staff)
    appeal = decide(db, filed(db, decision, staff), staff)
    with pytest.raises(ServiceError, match="only the moderator who decided"):
        appeals.undo(db, appeal_id=appeal.id, actor=staff["moderator"])
    appeal = appeals.undo(db, appeal_id=appeal.id, actor=staff["moderator2"])
    assert appeal.status == "pending" and appeal.reversal is None
    assert db.get(JobPost, post.id).status == "removed"
    assert len(strikes.standing(db, client.id).strikes) == 1
    assert labels.current(db)[0].positive
    assert [e.event_type for e in events(db)][-2:] == ["post.removed", "appeal.reopened"]
    reinstate = db.exec(select(Decision).where(Decision.action == "reinstate")).one()
    assert reinstate.undone_at is not None
    with pytest.raises(StaleCase):
        appeals.undo(db, appeal_id=appeal.id, actor=staff["moderator2"])
    # decided again, afterwards
    assert decide(db, appeal, staff, who="admin", outcome="uphold").status == "upheld"


def test_undo_of_an_overturned_suspension_suspends_again(db, staff):
    client = make_client(db)
    live = make_post(db, client)
    db.commit()
    decision = moderation.suspend(db, client_id=client.id,
                                  client_version=moderation.client_token(client),
                                  reason="fraud", actor=staff["admin"])
    appeal = decide(db, filed(db, decision, staff), staff)
    appeals.undo(db, appeal_id=appeal.id, actor=staff["admin"])
    assert db.get(Client, client.id).status == "suspended"
    assert db.get(JobPost, live.id).status == "removed"


def test_undo_window_passes(db, staff):
    _, _, decision = removed_scam(db, staff)
    appeal = decide(db, filed(db, decision, staff), staff, outcome="uphold")
    with pytest.raises(moderation.InvalidTransition, match="undo window"):
        appeals.undo(db, appeal_id=appeal.id, actor=staff["moderator2"],
                     now=utcnow() + timedelta(minutes=5))


# --- strikes ----------------------------------------------------------------------------------

def test_strikes_weigh_per_reason_expire_and_recommend_without_acting(app, db, staff):
    client = make_client(db)
    db.commit()
    decisions = []
    for code in ("scam", "off_platform", "not_a_job"):
        post = make_post(db, client)
        flag = make_flag(db, post)
        db.commit()
        decisions.append(moderation.remove(db, flag_id=flag.id, version=flag.version,
                                           reason_code=code, actor=staff["moderator"]))
    standing = strikes.standing(db, client.id)
    assert standing.total == 3 + 2 + 1 and standing.step == "contact"
    assert [s.reason for s in standing.strikes] == ["not_a_job", "off_platform", "scam"]
    assert standing.strikes[0].expires_at == decisions[-1].created_at + timedelta(days=180)
    assert db.get(Client, client.id).status == "active"  # a recommendation never acts
    # after 180 days they expire; weights and thresholds are configurable
    assert strikes.standing(db, client.id, now=utcnow() + timedelta(days=181)).total == 0
    current_app.config.update(STRIKE_WEIGHTS={"scam": 10}, STRIKE_THRESHOLDS={"suspend": 12})
    assert strikes.standing(db, client.id).step == "suspend"
    # the queue's priority: a new flag of this client is more urgent than the detector's
    assert strikes.priority_boost(db, [client.id]) == {client.id: strikes.PRIORITY_BOOST["suspend"]}


def test_new_flags_of_a_client_with_strikes_rank_higher(db, staff):
    from app.services import flags as flag_service

    client, _, _ = removed_scam(db, staff)
    _, _, _ = removed_scam(db, staff)
    other = make_post(db, client)
    clean_client = make_client(db)
    clean = make_post(db, clean_client)
    db.commit()
    detection = flag_service.Detection(reason="scam", score=0.8, model_version="m",
                                       priority=40.0)
    flag_service.upsert_open_flags(db, [
        ({"subject_type": "post", "subject_id": p.id, "client_id": p.client_id,
          "post_id": p.id}, detection) for p in (other, clean)])
    db.commit()
    by_post = {f.post_id: f.priority for f in db.exec(select(flag_service.Flag).where(
        flag_service.Flag.status == "open"))}
    assert by_post[clean.id] == 40.0
    assert by_post[other.id] == 40.0 + strikes.PRIORITY_BOOST["warning"]


# --- metrics ----------------------------------------------------------------------------------

def test_the_dashboard_shows_appeal_outcomes_per_reason_and_time_to_decide(db, staff):
    from app.services import metrics

    start = utcnow()
    decisions = [removed_scam(db, staff)[2] for _ in range(3)]
    filed_at = utcnow() - timedelta(hours=10)
    rows = [appeals.file(db, decision_id=d.id, text="x", actor=staff["admin"], now=filed_at)
            for d in decisions]
    decide(db, rows[0], staff, outcome="overturn")
    decide(db, rows[1], staff, outcome="uphold")
    f = metrics.MetricsFilters(date_from=start.date() - timedelta(days=1),
                               date_to=start.date() + timedelta(days=1))
    header, table = metrics.table(metrics.dashboard(db, f), "appeals")
    assert header[:5] == ["reason", "decided", "upheld", "overturned", "overturn_rate"]
    [row] = table
    assert row[:5] == ["scam", 2, 1, 1, "0.500"]
    assert 9.9 < float(row[7]) < 10.1                    # median hours to decide
    assert "appeals" in metrics.TABLES and metrics.export_csv(metrics.dashboard(db, f), "appeals")


def test_the_reversal_is_undone_only_through_its_appeal(db, staff):
    post, decision = recategorised(db, staff)
    decide(db, filed(db, decision, staff), staff)
    [reversal] = [d for d in db.exec(select(Decision)) if "appeal" in (d.details or {})]
    assert reversal.action == "recategorise"
    assert not moderation.can_undo(reversal, staff["moderator2"])
    with pytest.raises(moderation.InvalidTransition, match="appeal's page"):
        moderation.undo(db, decision_id=reversal.id, actor=staff["moderator2"])
    assert db.get(JobPost, post.id).category == "design_creative"
