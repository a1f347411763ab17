"""Training labels derived from decisions (app/services/labels.py, docs/labels.md): every
decision kind, undo, supersession, QA adjudication, the judged snapshot, the export, the
system page's counts."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from app.services import followups, labels, moderation, qa
from models import Client, JobPost, Outreach, utcnow
from tests.unit.console_fixtures import (CONTACT_FIELDS, as_user, db, make_client,  # noqa: F401
                                         make_flag, make_post,
                                         not_improved_after_contact, staff)


def facts(rows):
    return [(x.subject_id, x.reason, x.policy_type, x.category, x.positive) for x in rows]


def post_flag(db, **kw):
    client = make_client(db)
    post = make_post(db, client, title="Data entry from home",
                     description="Pay a $30 starter fee", category="admin_support")
    flag = make_flag(db, post, **kw)
    db.commit()
    return post, flag


def test_removal_is_positive_for_its_reason(db, staff):
    scam_post, scam = post_flag(db, reason="scam")
    policy_post, policy = post_flag(db, reason="policy", policy_types=["off_platform"])
    self_ad, ad = post_flag(db, reason="miscategorised", suggested_category="not_a_job")
    m = staff["moderator"]
    moderation.remove(db, flag_id=scam.id, version=1, reason_code="scam", actor=m)
    moderation.remove(db, flag_id=policy.id, version=1, reason_code="off_platform", actor=m)
    moderation.remove(db, flag_id=ad.id, version=1, reason_code="not_a_job", actor=m)
    got = labels.current(db)
    assert facts(got) == [(scam_post.id, "scam", None, None, True),
                          (policy_post.id, "policy", "off_platform", None, True),
                          (self_ad.id, "miscategorised", None, "not_a_job", True)]
    first = got[0]
    assert (first.decided_by, first.model_version, first.source) == (
        "moderator@example.com", "m-1", "decision")
    assert first.subject == scam_post.external_id


def test_dismissal_is_negative_for_the_flags_reason(db, staff):
    post, flag = post_flag(db, reason="policy", policy_types=["unpaid_work", "off_platform"])
    moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    assert sorted(facts(labels.current(db))) == [(post.id, "policy", "off_platform", None, False),
                                                 (post.id, "policy", "unpaid_work", None, False)]


def test_recategorisation_gives_the_right_category_and_is_negative_for_scam(db, staff):
    post, flag = post_flag(db, reason="miscategorised", suggested_category="design_creative")
    moderation.recategorise(db, flag_id=flag.id, version=1, category="translation",
                            actor=staff["moderator"])
    assert sorted(facts(labels.current(db))) == [
        (post.id, "miscategorised", None, "translation", True),
        (post.id, "scam", None, None, False)]


def test_the_label_carries_the_judged_text_not_the_live_text(db, staff):
    post, flag = post_flag(db, reason="scam")
    moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    post = db.get(JobPost, post.id)
    post.title, post.description = "Edited later", "The marketplace changed this"
    db.commit()
    [label] = labels.current(db)
    assert label.text == {"title": "Data entry from home",
                          "description": "Pay a $30 starter fee",
                          "category": "admin_support", "content_hash": label.text["content_hash"]}
    assert label.text["content_hash"]


def test_an_undone_decision_withdraws_its_label(db, staff):
    _post, flag = post_flag(db, reason="scam")
    d = moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                          actor=staff["moderator"])
    assert len(labels.current(db)) == 1
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])
    assert labels.current(db) == []


def test_a_later_decision_on_the_same_subject_and_reason_supersedes(db, staff):
    post, flag = post_flag(db, reason="scam")
    d = moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"])
    again = make_flag(db, db.get(JobPost, post.id), reason="scam")
    db.commit()
    moderation.remove(db, flag_id=again.id, version=1, reason_code="scam",
                      actor=staff["moderator2"], now=d.created_at + timedelta(minutes=5))
    [label] = labels.current(db)
    assert (label.positive, label.decided_by) == (True, "moderator2@example.com")


def test_qa_adjudication_supersedes_the_decisions_label(app, db, staff):
    app.config["QA_SAMPLE_SHARE"] = 1.0
    post, flag = post_flag(db, reason="scam")
    d = moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                          actor=staff["moderator"], now=utcnow() - timedelta(hours=1))
    with app.app_context():
        case = qa.next_case(db, actor=staff["moderator2"])
    qa.submit(db, review_id=case.review_id, label="not_violation", actor=staff["moderator2"])
    qa.adjudicate(db, review_id=case.review_id, label="not_violation", actor=staff["admin"],
                  apply_correction=True)
    [label] = labels.current(db)  # (the correction's reinstatement adds no label of its own)
    assert (label.subject_id, label.reason, label.positive, label.decided_by, label.source,
            label.decision_id) == (post.id, "scam", False, "admin@example.com",
                                   "qa_adjudication", d.id)
    assert label.text["title"] == "Data entry from home"


def test_client_negativity_labels_contact_improved_and_suspended(db, staff):
    m = staff["moderator"]
    improving = make_client(db)
    stubborn = make_client(db)
    db.commit()
    moderation.contact(db, client_id=improving.id,
                       client_version=moderation.client_token(db.get(Client, improving.id)),
                       template="negative_feedback", fields=CONTACT_FIELDS, actor=m)
    assert facts(labels.current(db)) == [(improving.id, "negative_client", None, None, True)]
    outreach = db.exec(select(Outreach).where(Outreach.client_id == improving.id)).one()
    assert followups.recheck(db, outreach.id,
                             now=outreach.follow_up_due_at + timedelta(hours=1)) == "improved"
    [label] = labels.current(db)
    assert (label.subject_id, label.positive, label.source, label.decided_by) == (
        improving.id, False, "follow_up", "system")

    not_improved_after_contact(db, stubborn, m)
    moderation.suspend(db, client_id=stubborn.id,
                       client_version=moderation.client_token(db.get(Client, stubborn.id)),
                       reason="no improvement", actor=m)
    got = {x.subject_id: x for x in labels.current(db)}
    assert (got[stubborn.id].reason, got[stubborn.id].positive) == ("negative_client", True)
    assert got[stubborn.id].subject == stubborn.external_id


def test_derive_is_pure_and_ties_go_to_the_later_decision():
    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    common = dict(subject_type="post", subject_id=1, subject="p-1", at=at, by="a@x",
                  flag_reason="scam")
    got = labels.derive([labels.Source(action="remove", decision_id=2,
                                       details={"reason_code": "scam"}, **common),
                         labels.Source(action="dismiss", decision_id=1, **common)])
    assert [(x.decision_id, x.positive) for x in got] == [(2, True)]


# --- export --------------------------------------------------------------------------------

def test_export_round_trip_and_since(runner, app, db, staff, tmp_path):
    old_post, old = post_flag(db, reason="scam")
    new_post, new = post_flag(db, reason="policy", policy_types=["fake_reviews"])
    moderation.remove(db, flag_id=old.id, version=1, reason_code="scam",
                      actor=staff["moderator"], now=datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    moderation.dismiss(db, flag_id=new.id, version=1, actor=staff["moderator"],
                       now=datetime(2026, 3, 9, 12, tzinfo=timezone.utc))
    out = tmp_path / "labels.jsonl"
    r = runner.invoke(args=["labels", "export", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [x.as_json() for x in labels.current(db)]
    assert [(x["subject"], x["reason"], x["policy_type"], x["positive"]) for x in rows] == [
        (old_post.external_id, "scam", None, True),
        (new_post.external_id, "policy", "fake_reviews", False)]
    assert rows[0]["text"]["title"] == "Data entry from home"

    r = runner.invoke(args=["labels", "export", "--since", "2026-03-05", "-"])
    assert r.exit_code == 0, r.output
    [only] = [json.loads(line) for line in r.stdout.splitlines()]
    assert only["subject"] == new_post.external_id


@pytest.mark.parametrize("since", ["2026-13-01", "yesterday", "2026-03-05T10:00"])
def test_export_with_a_bad_since_is_a_usage_error(runner, tmp_path, since):
    out = tmp_path / "labels.jsonl"
    r = runner.invoke(args=["labels", "export", "--since", since, str(out)])
    assert r.exit_code == 2
    assert "Invalid value for '--since'" in r.output
    assert not out.exists()


# --- the system page -------------------------------------------------------------------------

def test_system_page_counts_labels_per_reason_and_week(app, client, db, staff):
    post, flag = post_flag(db, reason="scam")
    moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                      actor=staff["moderator"], now=datetime(2026, 3, 4, tzinfo=timezone.utc))
    _p2, flag2 = post_flag(db, reason="policy", policy_types=["off_platform"])
    moderation.dismiss(db, flag_id=flag2.id, version=1, actor=staff["moderator"],
                       now=datetime(2026, 3, 10, tzinfo=timezone.utc))
    moderator = as_user(app.test_client(), "moderator@example.com")
    assert moderator.get("/system/").status_code == 403
    assert moderator.get("/system/labels").status_code == 403
    # analysts see it on the Models page
    analyst = as_user(app.test_client(), "analyst@example.com")
    assert 'hx-get="/system/labels"' in analyst.get("/models/").text
    assert "2 labels stand" in analyst.get("/system/labels").text
    as_user(client, "admin@example.com")
    page = client.get("/system/").text
    # the page loads the counts once shown (they read every labelled decision)
    assert 'hx-get="/system/labels" hx-trigger="load"' in page and "2 labels stand" not in page
    assert "<title>System" in page and "<title>System<section" not in page
    # as htmx asks for it (the panel), and as a page of its own (no JavaScript)
    panel = client.get("/system/labels", headers={"HX-Request": "true", "HX-Target": "labels"})
    assert panel.text.startswith('<section aria-labelledby="labels-h" id="labels">')
    html = client.get("/system/labels").text
    assert "<title>Training labels" in html
    assert "2 labels stand" in html and "2 labels stand" in panel.text
    assert "<tr><td>scam</td><td>1</td><td>0</td></tr>" in html
    assert "<tr><td>policy: off platform</td><td>0</td><td>1</td></tr>" in html
    assert "<tr><td>2026-W10</td><td>1</td><td>0</td></tr>" in html
    assert "<tr><td>2026-W11</td><td>0</td><td>1</td></tr>" in html


def test_the_label_summary_is_counted_again_only_after_something_was_decided(
        db, staff, monkeypatch):
    """The system and models pages show the summary on every view; deriving it reads every
    labelled decision, so it is kept until a decision, an undo or another audited change."""
    _post, flag = post_flag(db, reason="scam")
    derived = []
    real = labels.current
    monkeypatch.setattr(labels, "current", lambda s, **kw: derived.append(1) or real(s, **kw))
    assert labels.summary(db)["total"] == 0
    assert labels.summary(db)["total"] == 0 and len(derived) == 1  # kept
    d = moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                          actor=staff["moderator"])
    assert labels.summary(db)["total"] == 1 and len(derived) == 2
    assert labels.summary(db)["total"] == 1 and len(derived) == 2
    moderation.undo(db, decision_id=d.id, actor=staff["moderator"])  # no new decision row
    assert labels.summary(db)["total"] == 0 and len(derived) == 3


def test_the_label_summary_is_kept_per_database(tmp_path, staff, db):
    """Two databases with the same ids never share a kept count."""
    from app.db import get_engine, session_scope
    from tests.helpers import make_app

    _post, flag = post_flag(db, reason="scam")
    moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                      actor=staff["moderator"])
    assert labels.summary(db)["total"] == 1
    other = make_app(f"sqlite:///{tmp_path / 'other.db'}")
    with other.app_context():
        from sqlmodel import SQLModel

        SQLModel.metadata.create_all(get_engine())
        with session_scope() as s:
            assert labels.summary(s)["total"] == 0
        get_engine().dispose()
