"""Strikes move the queue at once (issue 26): a decision that adds a strike (a removal, a
suspension, a QA correction) or takes one away (its undo, an overturned appeal, a QA
reinstatement) re-ranks the client's other open flags in its own transaction, set-based;
a decision that no longer stands (reversed by a QA adjudication) is no strike; a claimed
case keeps working."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.services import Conflict, appeals, flags as flag_service, moderation, qa, strikes
from models import Client, Decision, Flag, JobPost, OutboxEvent, QaReview, utcnow
from models.moderation import queue_key
from tests.unit.console_fixtures import (db, make_client, make_flag, make_post,  # noqa: F401
                                         scam_case, staff)
from tests.unit.console_fixtures import qa_disagreement as disagreement, removed_scam_case

WARNING = strikes.PRIORITY_BOOST["warning"]   # a scam removal (3) reaches the warning (2)
CONTACT = strikes.PRIORITY_BOOST["contact"]


def scored_flag(db, client, priority=40.0):
    """An open flag on another post of ``client``, as the worker writes it (its boost)."""
    post = make_post(db, client)
    db.commit()
    flag_service.upsert_open_flags(db, [(
        {"subject_type": "post", "subject_id": post.id, "client_id": client.id,
         "post_id": post.id},
        flag_service.Detection(reason="policy", score=0.7, model_version="m",
                               policy_types=["off_platform"], priority=priority))])
    db.commit()
    return db.exec(select(Flag).where(Flag.post_id == post.id)).one()


def fresh(db, flag):
    db.expire_all()
    return db.get(Flag, flag.id)


def remove(db, staff, client, who="moderator", code="scam"):
    post = make_post(db, client)
    flag = make_flag(db, post)
    db.commit()
    return moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code=code,
                             actor=staff[who])


def test_a_removal_raises_the_clients_other_open_flags_and_its_undo_lowers_them(db, staff):
    client = make_client(db)
    other = scored_flag(db, client)
    bystander = scored_flag(db, make_client(db))
    assert (other.priority, other.strike_boost) == (40.0, 0.0)
    key, version = other.queue_key, other.version
    decision = remove(db, staff, client)
    other = fresh(db, other)
    assert (other.priority, other.strike_boost) == (40.0 + WARNING, WARNING)
    assert other.queue_key == pytest.approx(key + WARNING)
    assert other.queue_key == pytest.approx(queue_key(other.priority, other.created_at))
    assert other.version == version  # no form rendered from it goes stale
    assert fresh(db, bystander).priority == 40.0  # another client's flag: untouched
    # a second removal: 3 + 2 = 5 reaches the contact step
    remove(db, staff, client, code="off_platform")
    assert fresh(db, other).priority == 40.0 + CONTACT
    # the undo takes the second strike back, in the undo's transaction
    second = db.exec(select(Decision).where(Decision.action == "remove")
                     .order_by(Decision.id.desc())).first()
    moderation.undo(db, decision_id=second.id, actor=staff["moderator"])
    assert (fresh(db, other).priority, fresh(db, other).strike_boost) == (40.0 + WARNING, WARNING)
    moderation.undo(db, decision_id=decision.id, actor=staff["moderator"])
    other = fresh(db, other)
    assert (other.priority, other.strike_boost) == (40.0, 0.0)
    assert other.queue_key == pytest.approx(key)


def test_a_claimed_flag_is_re_ranked_and_its_moderator_still_decides_it(db, staff):
    client = make_client(db)
    other = scored_flag(db, client)
    moderation.claim(db, subject_type="post", subject_id=other.post_id, actor=staff["moderator2"])
    db.commit()
    form_version = fresh(db, other).version      # what moderator2's open form carries
    remove(db, staff, client)
    other = fresh(db, other)
    assert other.priority == 40.0 + WARNING and other.claimed_by == staff["moderator2"].moderator_id
    moderation.dismiss(db, flag_id=other.id, version=form_version, actor=staff["moderator2"])
    assert fresh(db, other).status == "dismissed"


def test_a_suspension_and_an_overturned_appeal_move_the_flags_both_ways(db, staff):
    client = make_client(db)
    negative = make_flag(db, make_post(db, client), priority=30.0)
    db.commit()
    decision = moderation.suspend(db, client_id=client.id,
                                  client_version=moderation.client_token(client),
                                  reason="fraud ring", actor=staff["admin"])
    # suspending resolved the client's flags; a flag opened afterwards carries the boost
    other = scored_flag(db, client)
    assert other.priority == 40.0 + WARNING and fresh(db, negative).status == "resolved"
    appeal = appeals.file(db, decision_id=decision.id, text="not us", actor=staff["admin"])
    appeal = appeals.decide(db, appeal_id=appeal.id, version=appeal.version, outcome="overturn",
                            reason="wrong account", actor=staff["moderator2"])
    assert strikes.standing(db, client.id).total == 0
    assert (fresh(db, other).priority, fresh(db, other).strike_boost) == (40.0, 0.0)
    appeals.undo(db, appeal_id=appeal.id, actor=staff["moderator2"])   # the strike is back
    assert fresh(db, other).priority == 40.0 + WARNING


def test_suspend_recommended_and_held_flags_keep_their_priority(db, staff):
    client = make_client(db)
    urgent = make_flag(db, client=client, reason="negative_client",
                       priority=flag_service.SUSPEND_RECOMMENDED_PRIORITY)
    db.commit()
    remove(db, staff, client)
    assert fresh(db, urgent).priority == flag_service.SUSPEND_RECOMMENDED_PRIORITY
    assert fresh(db, urgent).strike_boost == 0.0


def test_the_re_rank_is_one_update_per_boost_for_many_clients(db, staff):
    clients = [make_client(db) for _ in range(3)]
    for c in clients:
        scored_flag(db, c)
        for _ in range(2):  # 2 x scam = 6: the contact step for each
            post = make_post(db, c)
            db.add(Decision(subject_type="post", subject_id=post.id, client_id=c.id,
                            post_id=post.id, action="remove", details={"reason_code": "scam"},
                            created_at=utcnow()))
    db.commit()
    updates = []

    def note(conn, cursor, statement, *args):  # noqa: ANN001
        if statement.lstrip().upper().startswith("UPDATE FLAG"):
            updates.append(statement)

    engine = db.get_bind()
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        moved = flag_service.rerank(db, [c.id for c in clients])
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    db.commit()
    assert moved == 3 and len(updates) == 1
    assert {f.priority for f in db.exec(select(Flag).where(Flag.status == "open"))} == {
        40.0 + CONTACT}
    assert flag_service.rerank(db, [c.id for c in clients]) == 0  # nothing left to move


# --- a decision reversed by a QA adjudication is no strike ---------------------------------------

def test_a_post_reinstated_by_qa_adjudication_is_no_longer_a_strike(db, staff):
    client, post, flag = scam_case(db)
    other = scored_flag(db, client)
    db.commit()
    decision = moderation.remove(db, flag_id=flag.id, version=flag.version, reason_code="scam",
                                 actor=staff["moderator"])
    assert strikes.standing(db, client.id).total == 3
    assert fresh(db, other).priority == 40.0 + WARNING
    review = disagreement(db, decision, "remove", staff["moderator2"])
    qa.adjudicate(db, review_id=review.id, label="not_violation", actor=staff["admin"],
                  apply_correction=True)
    assert db.get(JobPost, post.id).status == "live"
    fix = db.exec(select(Decision).where(Decision.action == "reinstate")).one()
    assert fix.details["reverses"] == decision.id
    assert strikes.standing(db, client.id).total == 0
    assert fresh(db, other).priority == 40.0  # re-ranked in the adjudication's transaction
    # removed again later: that removal is a strike of its own
    flag2 = make_flag(db, db.get(JobPost, post.id))
    db.commit()
    moderation.remove(db, flag_id=flag2.id, version=flag2.version, reason_code="scam",
                      actor=staff["moderator"])
    assert [s.decision_id for s in strikes.standing(db, client.id).strikes] != [decision.id]
    assert strikes.standing(db, client.id).total == 3


def test_a_reinstatement_written_before_reverses_was_recorded_still_ends_the_strike(db, staff):
    client, post, decision = removed_scam_case(db, staff["moderator"])
    db.add(Decision(subject_type="post", subject_id=post.id, client_id=client.id,
                    post_id=post.id, moderator_id=staff["admin"].moderator_id,
                    action="reinstate", details={"qa_review": 1}, created_at=utcnow()))
    db.commit()
    assert decision.id not in [s.decision_id for s in strikes.standing(db, client.id).strikes]


def test_a_client_reinstated_by_qa_adjudication_loses_the_suspension_strike(db, staff):
    client = make_client(db)
    negative = make_flag(db, client=client, reason="negative_client")
    db.commit()
    decision = moderation.suspend(db, client_id=client.id,
                                  client_version=moderation.client_token(client),
                                  reason="fraud", actor=staff["admin"], flag_id=negative.id,
                                  flag_version=negative.version, override=True)
    other = scored_flag(db, client)
    assert other.priority == 40.0 + WARNING
    review = disagreement(db, decision, "suspend", staff["moderator2"])
    qa.adjudicate(db, review_id=review.id, label="not_violation", actor=staff["admin"],
                  apply_correction=True)
    assert db.get(Client, client.id).status == "active"
    assert strikes.standing(db, client.id).total == 0
    assert fresh(db, other).priority == 40.0


def test_a_qa_removal_adds_a_strike_and_re_ranks(db, staff):
    client = make_client(db)
    post = make_post(db, client)
    flag = make_flag(db, post)
    other = scored_flag(db, client)
    db.commit()
    decision = moderation.dismiss(db, flag_id=flag.id, version=flag.version,
                                  actor=staff["moderator"])
    review = disagreement(db, decision, "not_violation", staff["moderator2"])
    qa.adjudicate(db, review_id=review.id, label="remove", actor=staff["admin"],
                  apply_correction=True)
    assert db.get(JobPost, post.id).status == "removed"
    assert strikes.standing(db, client.id).total == strikes.DEFAULT_WEIGHTS["remove"]
    assert fresh(db, other).priority == 40.0  # weight 1: below the warning (2)
    remove(db, staff, client, code="not_a_job")  # 1 + 1 = 2: the warning
    assert fresh(db, other).priority == 40.0 + WARNING


def test_qa_does_not_reinstate_what_a_later_standing_decision_took_down(db, staff):
    client = make_client(db)
    flag = make_flag(db, make_post(db, client))
    db.commit()
    first = moderation.suspend(db, client_id=client.id,
                               client_version=moderation.client_token(client),
                               reason="fraud", actor=staff["moderator"], flag_id=flag.id,
                               flag_version=flag.version)
    client = db.get(Client, client.id)
    moderation.reinstate(db, client_id=client.id, client_version=moderation.client_token(client),
                         reason="served its time", actor=staff["admin"])
    client = db.get(Client, client.id)
    later = moderation.suspend(db, client_id=client.id,
                               client_version=moderation.client_token(client),
                               reason="fraud again", actor=staff["admin"])
    review = disagreement(db, first, "suspend", staff["moderator2"])
    with pytest.raises(Conflict, match=f"later decision, #{later.id}"):
        qa.adjudicate(db, review_id=review.id, label="not_violation", actor=staff["admin"],
                      apply_correction=True)
    db.expire_all()
    assert db.get(Client, client.id).status == "suspended"
    assert db.get(QaReview, review.id).status == "disagreed"  # nothing written
    assert not db.exec(select(OutboxEvent).where(
        OutboxEvent.event_type == "client.reinstated",
        OutboxEvent.created_at > later.created_at)).all()
    # without the correction the verdict is recorded
    assert qa.adjudicate(db, review_id=review.id, label="not_violation",
                         actor=staff["admin"]).correction is None
    assert timedelta(0) <= utcnow() - later.created_at


def test_the_sweep_lowers_the_flags_of_a_client_whose_strike_expired(app, db, staff):
    """A strike that expires is not a decision: the sweep re-ranks what it still raised."""
    from app.services import sweep

    client = make_client(db)
    other = scored_flag(db, client)
    bystander = scored_flag(db, make_client(db))
    remove(db, staff, client)
    assert fresh(db, other).strike_boost == WARNING
    # a sweep inside the strike's window moves nothing
    assert flag_service.rerank_expired(db) == 0
    later = utcnow() + timedelta(days=strikes.expiry_days() + 1)
    # the posts count as scored, so the sweep queues no scoring (which reads the real clock)
    db.execute(sa.update(JobPost).values(scored_at=utcnow()))
    db.commit()
    report = sweep.run(db, now=later, delay=0, force_reconcile=True)
    assert report["strike_reranked"] == 1
    other = fresh(db, other)
    assert (other.priority, other.strike_boost) == (40.0, 0.0)
    assert other.queue_key == pytest.approx(queue_key(other.priority, other.created_at))
    assert fresh(db, bystander).priority == 40.0
    assert flag_service.rerank_expired(db, now=later) == 0  # idempotent
