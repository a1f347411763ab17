"""Constraints the database enforces, and the append-only audit log."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from app.db import make_engine
from models import (AuditEvent, AuditLogImmutable, Client, Decision, DecisionImmutable, Feedback,
                    Flag, JobPost, ModelVersion, utcnow)


@pytest.fixture
def session(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def post(session):
    client = Client(external_id="c1", name="Acme")
    session.add(client)
    session.flush()
    post = JobPost(external_id="p1", client_id=client.id, title="Logo", description="Need a logo",
                   content_hash="x" * 64)
    session.add(post)
    session.commit()
    return post


def post_flag(post, reason="scam", status="open"):
    return Flag(subject_type="post", subject_id=post.id, post_id=post.id, client_id=post.client_id,
                reason=reason, score=0.9, status=status)


def test_second_open_flag_for_same_subject_and_reason_is_rejected(session, post):
    session.add(post_flag(post))
    session.commit()
    session.add(post_flag(post))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        session.commit()
    session.rollback()
    assert len(session.exec(select(Flag)).all()) == 1


def test_closed_flags_do_not_block_a_new_open_one(session, post):
    session.add_all([post_flag(post, status="resolved"), post_flag(post, status="dismissed")])
    session.commit()
    session.add(post_flag(post))  # a new open flag after earlier ones were closed
    session.add(post_flag(post, reason="policy"))  # another reason on the same subject
    session.commit()
    assert len(session.exec(select(Flag)).all()) == 4


def test_flag_subject_columns_must_agree(session, post):
    bad = post_flag(post)
    bad.subject_id = post.id + 100  # says it is about another post
    session.add(bad)
    with pytest.raises(IntegrityError, match="CHECK"):
        session.commit()


@pytest.mark.parametrize("field,value", [("reason", "spam"), ("status", "maybe")])
def test_flag_enums_are_checked_by_the_database(session, post, field, value):
    flag = post_flag(post)
    setattr(flag, field, value)
    session.add(flag)
    with pytest.raises(IntegrityError, match="CHECK"):
        session.commit()


@pytest.mark.parametrize("rating", [0, 6])
def test_feedback_rating_outside_1_to_5_is_rejected(session, post, rating):
    session.add(Feedback(external_id="f1", client_id=post.client_id, rating=rating))
    with pytest.raises(IntegrityError, match="CHECK"):
        session.commit()


def test_foreign_keys_are_enforced_on_sqlite(session):
    session.add(JobPost(external_id="orphan", client_id=999, title="t", description="d",
                        content_hash="x" * 64))
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        session.commit()


def test_only_one_active_model_version_per_detector(session):
    session.add(ModelVersion(name="scam", version="1", artifact="a", active=True))
    session.add(ModelVersion(name="scam", version="2", artifact="b", active=False))
    session.commit()
    session.add(ModelVersion(name="scam", version="3", artifact="c", active=True))
    with pytest.raises(IntegrityError):
        session.commit()


def test_timestamps_are_timezone_aware(session, post):
    session.expire_all()
    fresh = session.get(JobPost, post.id)
    assert fresh.created_at.tzinfo is not None and fresh.posted_at.utcoffset().total_seconds() == 0


class TestAuditLogIsAppendOnly:
    @pytest.fixture
    def event(self, session):
        event = AuditEvent(actor="cli", action="user.create", subject_type="moderator",
                           subject_id="1", after={"role": "admin"})
        session.add(event)
        session.commit()
        return event

    def test_update_through_the_orm_is_refused(self, session, event):
        event.action = "tampered"
        with pytest.raises(AuditLogImmutable):
            session.commit()
        session.rollback()
        assert session.get(AuditEvent, event.id).action == "user.create"

    def test_delete_through_the_orm_is_refused(self, session, event):
        session.delete(event)
        with pytest.raises(AuditLogImmutable):
            session.commit()
        session.rollback()
        assert session.get(AuditEvent, event.id) is not None

    @pytest.mark.parametrize("stmt", [
        sa.update(AuditEvent).values(action="tampered"),
        sa.delete(AuditEvent),
    ])
    def test_bulk_statements_through_the_session_are_refused(self, session, event, stmt):
        with pytest.raises(AuditLogImmutable):
            session.exec(stmt)

    @pytest.mark.parametrize("sql", [
        "UPDATE audit_event SET action = 'tampered'",
        "DELETE FROM audit_event",
    ])
    def test_raw_sql_is_refused_by_the_database_trigger(self, session, event, sql):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            session.connection().exec_driver_sql(sql)
        session.rollback()
        assert session.exec(select(AuditEvent)).one().action == "user.create"


class TestDecisionsAreAppendOnly:
    """Only the undo's stamp may change a decision: ``undone_at``, once, from NULL."""

    @pytest.fixture
    def decision(self, session, post):
        decision = Decision(subject_type="post", subject_id=post.id, post_id=post.id,
                            client_id=post.client_id, action="remove", reason="scam",
                            details={"judged": {"title": "Logo"}})
        session.add(decision)
        session.commit()
        return decision

    def test_the_undo_stamp_is_allowed_once(self, session, decision):
        decision.undone_at = utcnow()
        session.commit()
        decision.undone_at = None
        with pytest.raises(DecisionImmutable):
            session.commit()
        session.rollback()
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            session.connection().exec_driver_sql("UPDATE decision SET undone_at = NULL")

    @pytest.mark.parametrize("change", [{"reason": "not a scam"}, {"action": "dismiss"},
                                        {"details": {"judged": {"title": "rewritten"}}}])
    def test_rewriting_through_the_orm_is_refused(self, session, decision, change):
        for name, value in change.items():
            setattr(decision, name, value)
        with pytest.raises(DecisionImmutable):
            session.commit()
        session.rollback()
        assert session.get(Decision, decision.id).reason == "scam"

    def test_delete_through_the_orm_is_refused(self, session, decision):
        session.delete(decision)
        with pytest.raises(DecisionImmutable):
            session.commit()
        session.rollback()
        assert session.get(Decision, decision.id) is not None

    @pytest.mark.parametrize("sql", [
        "UPDATE decision SET reason = 'not a scam'",
        "UPDATE decision SET reason = 'x', undone_at = CURRENT_TIMESTAMP",
        "UPDATE decision SET details = NULL, undone_at = CURRENT_TIMESTAMP",
        "DELETE FROM decision",
    ])
    def test_raw_sql_is_refused_by_the_database_trigger(self, session, decision, sql):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            session.connection().exec_driver_sql(sql)
        session.rollback()
        assert session.exec(select(Decision)).one().reason == "scam"

    def test_raw_undo_stamp_is_allowed(self, session, decision):
        session.connection().exec_driver_sql("UPDATE decision SET undone_at = CURRENT_TIMESTAMP")
        session.commit()
        session.expire_all()
        assert session.get(Decision, decision.id).undone_at is not None


def test_queue_key_follows_priority_and_age(session, post):
    from datetime import timedelta

    from models.moderation import QUEUE_AGE_WEIGHT, queue_key

    old = post_flag(post)
    old.priority = 50.0
    old.created_at = old.created_at - timedelta(hours=10)
    new = post_flag(post, reason="policy")
    new.priority = 50.0 + 2 * QUEUE_AGE_WEIGHT  # worth two hours of waiting more...
    session.add_all([old, new])
    session.commit()
    assert old.queue_key == pytest.approx(queue_key(old.priority, old.created_at))
    assert old.queue_key > new.queue_key  # ...but the old one has waited ten hours
    old.priority = 10.0
    session.commit()
    assert old.queue_key == pytest.approx(queue_key(10.0, old.created_at))
