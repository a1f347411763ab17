"""Data builders for the console's unit tests (flags as the worker writes them)."""
from __future__ import annotations

import itertools
from datetime import timedelta

from models import Client, Feedback, Flag, JobPost, utcnow

_seq = itertools.count(1)

HOSTILE_TITLE = '<script>alert("t")</script> Data entry <img src=x onerror=alert(1)>'
HOSTILE_TEXT = ('Pay a $50 registration fee first. <a href="javascript:alert(2)">apply</a> '
                'then message me on telegram @scamboss <script>alert(3)</script>')


def make_client(session, *, name: str | None = None, status: str = "active", **kw) -> Client:
    n = next(_seq)
    client = Client(external_id=f"c-{n}", name=name or f"Client {n}", status=status,
                    joined_at=utcnow() - timedelta(days=30), **kw)
    session.add(client)
    session.flush()
    return client


def make_post(session, client: Client, *, title: str = "Need a logo for my bakery",
              description: str = "Simple logo, $50.", category: str = "design_creative",
              status: str = "live", **kw) -> JobPost:
    n = next(_seq)
    post = JobPost(external_id=f"p-{n}", client_id=client.id, title=title,
                   description=description, category=category, status=status,
                   content_hash=f"h{n}", scores={"scam": 0.9, "miscategorised": 0.1,
                                                 "policy": 0.2}, model_version="m-1", **kw)
    session.add(post)
    session.flush()
    return post


def make_flag(session, post: JobPost | None = None, *, client: Client | None = None,
              reason: str = "scam", score: float = 0.9, priority: float = 50.0,
              evidence=None, policy_types=None, suggested_category=None, **kw) -> Flag:
    if post is not None:
        flag = Flag(subject_type="post", subject_id=post.id, client_id=post.client_id,
                    post_id=post.id, reason=reason, score=score, model_version="m-1",
                    evidence=evidence or [], policy_types=policy_types or [],
                    suggested_category=suggested_category, priority=priority, **kw)
    else:
        flag = Flag(subject_type="client", subject_id=client.id, client_id=client.id,
                    reason=reason, score=score, model_version="neg-1", evidence=evidence or [],
                    priority=priority, **kw)
    session.add(flag)
    session.flush()
    return flag


def make_feedback(session, client: Client, *, rating: int, comment: str = "",
                  negative: float | None = None, days_ago: int = 1) -> Feedback:
    n = next(_seq)
    fb = Feedback(external_id=f"f-{n}", client_id=client.id, rating=rating, comment=comment,
                  negative=negative, created_at=utcnow() - timedelta(days=days_ago),
                  scored_at=utcnow() if negative is not None else None)
    session.add(fb)
    session.flush()
    return fb


def removed_scam_case(session, actor):
    """``scam_case`` with its post removed for scam by ``actor``: (client, post, decision)."""
    from app.services import moderation

    client, post, flag = scam_case(session)
    session.commit()
    decision = moderation.remove(session, flag_id=flag.id, version=flag.version,
                                 reason_code="scam", actor=actor)
    return client, post, decision


def qa_disagreement(session, decision, first_label: str, reviewer, reason: str = "scam"):
    """A QA review of ``decision`` on which ``reviewer`` disagreed ("not a violation"),
    waiting for an admin's adjudication."""
    from models import QaReview

    review = QaReview(decision_id=decision.id, flag_id=decision.flag_id,
                      subject_type=decision.subject_type, post_id=decision.post_id,
                      client_id=decision.client_id, reason=reason,
                      first_moderator_id=decision.moderator_id, first_label=first_label,
                      status="disagreed", reviewer_id=reviewer.moderator_id,
                      review_label="not_violation", reviewed_at=utcnow())
    session.add(review)
    session.commit()
    return review


def scam_case(session, *, title: str = "Easy data entry job", description: str | None = None):
    description = description or ("Earn $500 a day. Pay a $50 registration fee to start. "
                                  "Contact me on telegram @quickcash.")
    client = make_client(session)
    post = make_post(session, client, title=title, description=description,
                     category="admin_support")
    start = description.find("registration fee")
    evidence = [{"label": "scam", "text": "registration fee", "start": start,
                 "end": start + len("registration fee"), "why": "asks the freelancer to pay",
                 "field": "description", "detector": "scam", "kind": "rule"}]
    flag = make_flag(session, post, reason="scam", evidence=evidence)
    return client, post, flag


# --- pytest fixtures (import them into a test module with ``from ... import *``) -----------
import pytest  # noqa: E402

from app.db import session_scope  # noqa: E402
from app.services import users  # noqa: E402
from app.services.audit import CLI, Actor  # noqa: E402
from tests.helpers import PASSWORD  # noqa: E402


@pytest.fixture
def db(app):
    """A session inside the app context of a *twin* app on the same database: requests
    made with the test client then get their own app context (and ``g``), as in
    production, instead of sharing the one this fixture holds open."""
    from tests.helpers import make_app

    twin = make_app(app.config["DATABASE_URL"])
    with twin.app_context(), session_scope() as session:
        yield session
    with twin.app_context():
        from app.db import get_engine
        get_engine().dispose()


@pytest.fixture
def staff(db):
    """One user per role plus a second moderator, as Actors: staff["moderator"] etc."""
    from models import Moderator

    out = {}
    for role, email in (("admin", "admin@example.com"), ("moderator", "moderator@example.com"),
                        ("moderator2", "moderator2@example.com"),
                        ("analyst", "analyst@example.com")):
        m = Moderator(email=email, password_hash=_HASH, role=role.rstrip("2"))
        db.add(m)
        db.flush()
        out[role] = Actor.of(m)
    db.commit()
    return out


_HASH = users._hasher.hash(PASSWORD)  # hashed once: logging in with PASSWORD still works


def as_user(client, email: str):
    from tests.helpers import login
    response = login(client, email)
    assert response.status_code == 303
    return client


def token(client, path: str = "/queue/") -> str:
    from tests.helpers import csrf_token
    return csrf_token(client, path)


#: the "negative_feedback" outreach template's placeholders, filled
CONTACT_FIELDS = {"pattern": "late payments", "examples": "paid 3 weeks late",
                  "expectation": "pay on time"}


def not_improved_after_contact(session, client: Client, actor: Actor) -> None:
    """The policy's way to a suspension for negativity: the client is contacted, two more
    negative feedbacks arrive, and the follow-up re-check at the window's end finds no
    improvement (their case reopens, "suspend recommended")."""
    from sqlmodel import select

    from app.services import followups, moderation
    from models import Outreach

    moderation.contact(session, client_id=client.id,
                       client_version=moderation.client_token(session.get(Client, client.id)),
                       template="negative_feedback", fields=CONTACT_FIELDS, actor=actor)
    outreach = session.exec(select(Outreach).where(Outreach.client_id == client.id)
                            .order_by(Outreach.id.desc())).first()
    for hours in (1, 2):  # after the contact
        fb = make_feedback(session, client, rating=1, negative=0.95)
        fb.created_at = outreach.created_at + timedelta(hours=hours)
    session.commit()
    after_window = outreach.follow_up_due_at + timedelta(hours=1)
    assert followups.recheck(session, outreach.id, now=after_window) == "not-improved"


def fake_smtp(monkeypatch) -> list:
    """Replace smtplib.SMTP in the mailer with a recorder: returns the list it appends
    ``(host, port)`` at each connection and each message sent to."""
    from app.services import mailer

    sent: list = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append((host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            sent.append(msg)

    monkeypatch.setattr(mailer.smtplib, "SMTP", FakeSMTP)
    return sent
