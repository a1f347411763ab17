"""The scenario behind the flag.category tests on both engines (tests/unit/test_flag_category.py
on SQLite, tests/integration/test_flag_category_postgres.py on PostgreSQL): a flag carries its
post's category whoever writes either table, and the queue's category filter follows it."""
from __future__ import annotations

import sqlalchemy as sa

from app.services import ingest, moderation
from app.services import queue as q
from app.services.audit import Actor
from models import Moderator
from tests.unit.console_fixtures import make_client, make_flag, make_post


def categories(session) -> dict[int, str | None]:
    """Every flag's category as the database holds it (not the session's objects)."""
    return dict(session.execute(sa.text("SELECT id, category FROM flag")).all())


def listed(session, category: str) -> set[int]:
    page = q.page(session, filters=q.Filters(category=category), moderator_id=None, limit=50)
    return {row.flag.id for row in page.rows}


def category_follows_the_post(session) -> None:
    moderator = Moderator(email="category-mod@example.com", password_hash="x", role="moderator")
    session.add(moderator)
    session.flush()
    actor = Actor.of(moderator)
    client = make_client(session)
    post = make_post(session, client, category="writing")
    other = make_post(session, client, category="legal")
    miscat = make_flag(session, post, reason="miscategorised", suggested_category="design_creative")
    scam = make_flag(session, post, reason="scam", priority=10.0)
    closed = make_flag(session, post, reason="policy", status="resolved")
    legal = make_flag(session, other, reason="scam")
    # a writer that names a category of its own (or none) gets the post's all the same
    wrong = make_flag(session, other, reason="policy", category="writing")
    on_client = make_flag(session, client=client, reason="negative_client", category="legal")
    session.commit()
    assert categories(session) == {miscat.id: "writing", scam.id: "writing",
                                   closed.id: "writing", legal.id: "legal",
                                   wrong.id: "legal", on_client.id: None}
    # a direct SQL rewrite of a flag's category is put back
    session.execute(sa.text("UPDATE flag SET category = 'accounting' WHERE id = :id"),
                    {"id": scam.id})
    session.commit()
    assert categories(session)[scam.id] == "writing"
    assert listed(session, "writing") == {miscat.id} and listed(session, "legal") == {legal.id}

    # a moderator's fix-category decision: every flag of the post follows (the closed one too)
    decision = moderation.recategorise(session, flag_id=miscat.id, version=miscat.version,
                                       category="design_creative", actor=actor)
    got = categories(session)
    assert {got[i] for i in (miscat.id, scam.id, closed.id)} == {"design_creative"}
    assert got[legal.id] == got[wrong.id] == "legal" and got[on_client.id] is None
    assert listed(session, "design_creative") == {scam.id}
    assert listed(session, "writing") == set()

    # its undo puts the category back, on the flags too (the resolved flag reopens)
    moderation.undo(session, decision_id=decision.id, actor=actor)
    got = categories(session)
    assert {got[i] for i in (miscat.id, scam.id, closed.id)} == {"writing"}
    assert listed(session, "writing") == {miscat.id} and listed(session, "design_creative") == set()

    # the rows still show the post's own category
    page = q.page(session, filters=q.Filters(category="writing"), moderator_id=None, limit=50)
    assert [(row.flag.id, row.category) for row in page.rows] == [(miscat.id, "writing")]

    # the marketplace changes the post's category (an ingest update; the rescore it asks
    # for may close flags: the category is the point here)
    fields = {"client_id": client.external_id, "title": post.title,
              "description": post.description, "category": "legal", "skills": post.skills,
              "budget": post.budget, "posted_at": post.posted_at}
    assert ingest.upsert_post(session, external_id=post.external_id,
                              fields=fields).result == "updated"
    session.commit()
    got = categories(session)
    assert {got[i] for i in (miscat.id, scam.id, closed.id)} == {"legal"}
    assert got[legal.id] == got[wrong.id] == "legal" and got[on_client.id] is None
