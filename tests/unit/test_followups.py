"""The follow-up re-check, both ways, and the sweep that runs due ones."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import followups, scoring
from app.services import sweep as sweep_service
from app.services.flags import SUSPEND_RECOMMENDED_PRIORITY
from models import AuditEvent, Client, Flag, Outreach, utcnow
from tests.support import factories as f


@pytest.fixture
def session(app):
    with app.app_context(), session_scope() as s:
        yield s


def contacted_client(session, *, days_ago: int = 15):
    """A negative client, flagged, then contacted ``days_ago`` (window 14 days)."""
    c = f.client(session)
    f.history(session, c, "PNNNNNN", start_days_ago=60)
    scoring.score_client(session, c.id)
    flag = session.exec(select(Flag).where(Flag.client_id == c.id)).one()
    sent = utcnow() - timedelta(days=days_ago)
    flag.status, flag.closed_at = "resolved", sent
    c.status = "contacted"
    outreach = Outreach(client_id=c.id, flag_id=flag.id, template="tone", body="Please be kind.",
                        sent_at=sent, follow_up_due_at=sent + timedelta(days=14))
    session.add_all([flag, c, outreach])
    session.commit()
    return c, flag, outreach


def test_improved_client_is_cleared(session):
    c, flag, outreach = contacted_client(session)
    for i in range(3):
        f.feedback(session, c, f"after-{i}", 5, f.POSITIVE,
                   created_at=utcnow() - timedelta(days=10 - i))
    assert followups.recheck(session, outreach.id) == "improved"
    session.expire_all()
    assert session.get(Outreach, outreach.id).outcome == "improved"
    assert session.get(Client, c.id).status == "active"
    assert session.get(Flag, flag.id).status == "resolved"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "followup.improved")).one()
    assert followups.recheck(session, outreach.id) == "already-done"


def test_the_summary_of_one_feedback_reads_in_the_singular(session):
    c, flag, outreach = contacted_client(session)
    f.feedback(session, c, "after-0", 5, f.POSITIVE, created_at=utcnow() - timedelta(days=10))
    assert followups.recheck(session, outreach.id) == "improved"
    session.expire_all()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "followup.improved")).one()
    note = event.after["summary"]
    assert note.startswith("0 of 1 feedback since the contact on") and note.endswith(
        "is negative")


def test_client_who_did_not_improve_gets_a_top_priority_suspend_recommendation(session):
    c, flag, outreach = contacted_client(session)
    for i, (rating, text) in enumerate([(1, f.NEGATIVE), (5, f.POSITIVE), (1, f.NEGATIVE)]):
        f.feedback(session, c, f"after-{i}", rating, text,
                   created_at=utcnow() - timedelta(days=10 - i))
    assert followups.recheck(session, outreach.id) == "not-improved"
    session.expire_all()
    reopened = session.get(Flag, flag.id)
    assert reopened.status == "open" and reopened.priority == SUSPEND_RECOMMENDED_PRIORITY
    assert reopened.system_note.startswith("suspend recommended")
    assert "2 of 3 feedbacks since the contact" in reopened.system_note
    o = session.get(Outreach, outreach.id)
    assert o.outcome == "pending" and o.rechecked_at is not None
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "followup.not_improved")).one()
    assert followups.recheck(session, outreach.id) == "already-done"


def test_window_not_over_yet_is_not_judged(session):
    _c, _flag, outreach = contacted_client(session, days_ago=3)
    assert followups.recheck(session, outreach.id) == "not-due"


def test_sweep_runs_due_follow_ups_inline_without_redis(session):
    _c, flag, outreach = contacted_client(session)
    report = sweep_service.run(session)
    assert report["follow_ups"] == 1 and report["dispatch"] == {"inline": 1}
    session.expire_all()
    assert session.get(Outreach, outreach.id).rechecked_at is not None


def test_followups_cli_with_a_test_clock(runner, app):
    with app.app_context(), session_scope() as s:
        _c, _flag, outreach = contacted_client(s, days_ago=3)
    r = runner.invoke(args=["followups", "run"])
    assert "no follow-ups due" in r.output
    later = (utcnow() + timedelta(days=12)).isoformat()
    r = runner.invoke(args=["followups", "run", "--now", later])
    assert f"outreach {outreach.id}: improved" in r.output, r.output
