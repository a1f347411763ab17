"""The audit log page: who may see it, filters, CSV export."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from app.services import moderation
from app.services.audit import record
from sqlmodel import select

from models import AuditEvent, Flag, utcnow
from tests.unit.console_fixtures import as_user, db, scam_case, staff  # noqa: F401


def seed(db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator"], comment="fine")
    moderation.add_note(db, text='=HYPERLINK("http://evil")', actor=staff["admin"],
                        post_id=post.id)
    old = AuditEvent(actor="system", action="flag.auto_dismissed", subject_type="flag",
                     subject_id="99", at=utcnow() - timedelta(days=10))
    db.add(old)
    db.commit()
    return post


def test_moderators_are_refused(client, db, staff):
    as_user(client, "moderator@example.com")
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_filters(client, db, staff):
    post = seed(db, staff)
    as_user(client, "analyst@example.com")
    html = client.get("/audit/").text
    assert "<code>post.dismiss</code>" in html and "<code>note.add</code>" in html and "<code>flag.auto_dismissed</code>" in html
    assert "&#34;=HYPERLINK" in html or "=HYPERLINK" in html
    by_actor = client.get("/audit/?actor=moderator@example").text
    assert "<code>post.dismiss</code>" in by_actor and "<code>note.add</code>" not in by_actor
    by_action = client.get("/audit/?action=note").text  # a prefix of note.add
    assert "<code>note.add</code>" in by_action and "<code>post.dismiss</code>" not in by_action
    by_subject = client.get(f"/audit/?subject_type=post&subject_id={post.id}").text
    assert "<code>post.dismiss</code>" in by_subject and "<code>flag.auto_dismissed</code>" not in by_subject
    today = utcnow().date().isoformat()
    recent = client.get(f"/audit/?date_from={today}").text
    assert "<code>flag.auto_dismissed</code>" not in recent and "<code>post.dismiss</code>" in recent
    frag = client.get("/audit/?action=note", headers={"HX-Request": "true",
                                                      "HX-Target": "audit-results"})
    assert frag.text.lstrip().startswith('<div id="audit-results">')


def test_csv_export(client, db, staff):
    seed(db, staff)
    as_user(client, "admin@example.com")
    r = client.get("/audit/export.csv?action=note")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["id", "at", "actor", "action", "subject_type", "subject_id", "before",
                       "after"]
    assert len(rows) == 2 and rows[1][3] == "note.add"
    assert rows[1][2] == "moderator:admin@example.com"
    assert '"text": "=HYPERLINK' in rows[1][7] and not rows[1][7].startswith("=")
    everything = list(csv.reader(io.StringIO(client.get("/audit/export.csv")
                                             .get_data(as_text=True))))
    actions = [r[3] for r in everything[1:]]
    assert actions.index("post.dismiss") < actions.index("flag.auto_dismissed")  # by id


def test_csv_cells_are_defused():
    from app.services.audit_log import _cell
    assert _cell("=1+1") == "'=1+1" and _cell("@x") == "'@x" and _cell("ok") == "ok"
    assert _cell({"a": 1}) == '{"a": 1}' and _cell(None) == ""


def test_pagination(client, db, staff):
    for i in range(105):
        record(db, actor=staff["admin"], action="test.event", subject_type="x", subject_id=i)
    db.commit()
    as_user(client, "admin@example.com")
    first = client.get("/audit/?action=test.event").text
    assert first.count("<code>test.event</code>") == 100 and 'id="audit-more"' in first


def test_moderators_read_the_audit_events_of_a_case_they_can_open(client, db, staff):
    post = seed(db, staff)  # a dismissal and a note on the post
    own_flag = db.exec(select(Flag).where(Flag.post_id == post.id)).one()
    record(db, actor=staff["admin"], action="flag.escalate", subject_type="flag",
           subject_id=own_flag.id, after={"mine": "own-flag"})
    other_client, other, other_flag = scam_case(db)
    for subject_type, subject_id, action in (
            ("post", other.id, "post.note"), ("flag", other_flag.id, "flag.escalate"),
            ("qa_review", 1, "qa.adjudicate"), ("moderator", staff["admin"].moderator_id,
                                                "moderator.role")):
        record(db, actor=staff["admin"], action=action, subject_type=subject_type,
               subject_id=subject_id, after={"secret": f"other-{subject_type}"})
    record(db, actor=staff["admin"], action="client.reinstate", subject_type="client",
           subject_id=other_client.id, after={"secret": "other-client"})
    db.commit()
    mine = [e for e in db.exec(select(AuditEvent)) if "other-" not in str(e.after)
            and e.subject_id != "99"]
    assert {e.subject_type for e in mine} >= {"post", "flag"}
    as_user(client, "moderator@example.com")
    assert client.get("/audit/").status_code == 403
    response = client.get(f"/audit/posts/{post.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for e in mine:
        assert f"<code>{e.action}</code>" in html
    assert "other-" not in html and "flag.auto_dismissed" not in html
    page = client.get(f"/posts/{post.id}").get_data(as_text=True)
    assert f'href="/audit/posts/{post.id}"' in page
    # the client case: its own events only
    response = client.get(f"/audit/clients/{other_client.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "other-client" in html and "other-post" not in html and "other-flag" not in html
    # unknown subjects are 404s
    assert client.get("/audit/posts/999999").status_code == 404
    assert client.get("/audit/clients/999999").status_code == 404
    page = client.get(f"/clients/{other_client.id}").get_data(as_text=True)
    assert f'href="/audit/clients/{other_client.id}"' in page


def test_a_case_s_audit_events_page_on(client, db, staff):
    post = seed(db, staff)
    for _ in range(100):
        record(db, actor=staff["admin"], action="test.event", subject_type="post",
               subject_id=post.id)
    db.commit()
    as_user(client, "moderator@example.com")
    first = client.get(f"/audit/posts/{post.id}").text
    assert first.count("<code>test.event</code>") == 100
    before = first.split(f'href="/audit/posts/{post.id}?before=')[1].split('"')[0]
    rest = client.get(f"/audit/posts/{post.id}?before={before}").text
    seeded = db.exec(select(AuditEvent).where(AuditEvent.subject_type == "post",
                                              AuditEvent.action != "test.event")).all()
    assert seeded and all(f"<code>{e.action}</code>" in rest for e in seeded)
    assert "test.event" not in rest


def test_every_audit_subject_links_to_its_case(client, db, staff):
    """A flag's event links to its post's (or client's) case, an outreach message's to its
    client's, a moderator's to their history; a subject without a case page is text."""
    from app.services.audit import record
    from models import Outreach
    from tests.unit.console_fixtures import make_client, make_flag, make_post

    acme = make_client(db)
    post = make_post(db, acme)
    flag = make_flag(db, post)
    client_flag = make_flag(db, client=acme, reason="negative_client")
    outreach = Outreach(client_id=acme.id, template="t", body="b", follow_up_due_at=post.created_at)
    db.add(outreach)
    db.flush()
    who = staff["moderator"]
    for subject_type, subject_id in (("flag", flag.id), ("flag", client_flag.id),
                                     ("outreach", outreach.id), ("moderator", who.moderator_id),
                                     ("model_version", 7), ("flag", 999999)):
        record(db, actor=who, action="test.event", subject_type=subject_type, subject_id=subject_id)
    db.commit()
    as_user(client, "analyst@example.com")
    html = client.get("/audit/").get_data(as_text=True)
    assert f'<a href="/posts/{post.id}">flag #{flag.id}</a> <small>(post #{post.id})</small>' in html
    assert f'<a href="/clients/{acme.id}">flag #{client_flag.id}</a>' in html
    assert f'<a href="/clients/{acme.id}">outreach #{outreach.id}</a>' in html
    assert f'<a href="/qa/moderators/{who.moderator_id}">moderator #{who.moderator_id}</a>' in html
    assert "model_version #7</td>" in html and "flag #999999</td>" in html
