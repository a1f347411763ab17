"""The queue's search reads each open flag's search text (``flag_search``, kept by triggers;
migration 0022) along one of two paths: the head of the queue (``SEARCH_WALK`` flags in
queue order) when it holds a page of matches, else every match. Both list exactly what the
reference computed in Python lists, page after keyset page, whichever path serves a page.
On SQLite here; on PostgreSQL in tests/integration/test_queue_search_postgres.py."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.services import queue as q
from models import Flag, FlagSearch
from tests.support import queue_reference
from tests.unit.console_fixtures import db, make_client, make_flag, make_post  # noqa: F401

US = "\x1f"


def _text(db, flag: Flag) -> str | None:
    return db.execute(sa.select(FlagSearch.text).where(FlagSearch.flag_id == flag.id)) \
        .scalar_one_or_none()


def test_an_open_flag_has_its_search_text_and_a_closed_one_none(db):
    acme = make_client(db, name="ACME Widgets")
    post = make_post(db, acme, title="Logo for a Bakery", description="Simple LOGO, $50.")
    flag = make_flag(db, post)
    client_flag = make_flag(db, client=acme, reason="negative_client")
    assert _text(db, flag) == f"logo for a bakery{US}simple logo, $50.{US}acme widgets"
    assert _text(db, client_flag) == f"{US}{US}acme widgets"
    flag.status = "dismissed"
    db.flush()
    assert _text(db, flag) is None
    flag.status = "open"  # reopened (an undo)
    db.flush()
    assert _text(db, flag) == f"logo for a bakery{US}simple logo, $50.{US}acme widgets"
    assert _text(db, make_flag(db, make_post(db, acme), status="resolved")) is None


def test_edits_to_a_post_or_a_client_rewrite_their_open_flags_texts(db):
    acme, other = make_client(db, name="Acme"), make_client(db, name="Other")
    post = make_post(db, acme, title="Old title", description="old text")
    open_flag, policy = make_flag(db, post), make_flag(db, post, reason="policy")
    closed = make_flag(db, make_post(db, acme), status="dismissed")
    client_flag = make_flag(db, client=acme, reason="negative_client")
    untouched = make_flag(db, make_post(db, other, title="Keep"))
    post.title, post.description = "New Title", "New text"
    db.flush()
    assert _text(db, open_flag) == _text(db, policy) == f"new title{US}new text{US}acme"
    db.execute(sa.text("UPDATE client SET name = 'Renamed Ltd' WHERE id = :id"), {"id": acme.id})
    assert _text(db, open_flag) == f"new title{US}new text{US}renamed ltd"
    assert _text(db, client_flag) == f"{US}{US}renamed ltd"
    assert _text(db, closed) is None
    assert _text(db, untouched).endswith(f"{US}other")
    db.commit()
    rows = q.page(db, filters=q.Filters(q="renamed"), moderator_id=None, limit=10).rows
    assert {r.flag.id for r in rows} == {open_flag.id, client_flag.id}  # one row per subject


def test_the_search_row_carries_the_flags_queue_key_through_every_change(db):
    flag = make_flag(db, make_post(db, make_client(db)), priority=10.0)

    def key() -> float:
        return db.execute(sa.select(FlagSearch.queue_key).where(FlagSearch.flag_id == flag.id)) \
            .scalar_one()
    assert key() == flag.queue_key
    flag.priority = 90.0  # a re-rank (a rescore, a strike): the stored key moves
    db.flush()
    assert key() == flag.queue_key
    db.execute(sa.text("UPDATE flag SET queue_key = queue_key + 1 WHERE id = :id"), {"id": flag.id})
    db.refresh(flag)
    assert key() == flag.queue_key


def test_a_flag_written_in_sql_gets_its_text_and_a_deleted_one_loses_it(db):
    post = make_post(db, make_client(db, name="Zed"), title="Pay me on telegram")
    db.execute(sa.text(
        "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score, "
        "status, priority, queue_key, version, created_at, updated_at) VALUES "
        "('post', :p, :c, :p, 'scam', 0.9, 'open', 50, 50, 1, :now, :now)"),
        {"p": post.id, "c": post.client_id, "now": post.created_at})
    flag_id = db.execute(sa.text("SELECT id FROM flag WHERE post_id = :p"), {"p": post.id}).scalar()
    db.commit()
    assert [r.flag.id for r in q.page(db, filters=q.Filters(q="TELEGRAM"), moderator_id=None,
                                      limit=5).rows] == [flag_id]
    db.execute(sa.text("DELETE FROM flag WHERE id = :id"), {"id": flag_id})
    assert db.execute(sa.select(sa.func.count()).select_from(FlagSearch)).scalar() == 0


def test_like_metacharacters_case_and_field_boundaries(db):
    acme = make_client(db, name="Snake_Case Ltd")
    pct = make_flag(db, make_post(db, acme, title="Discount 100% off", description="x"))
    under = make_flag(db, make_post(db, make_client(db, name="Plain"), title="a_b job",
                                    description="y"))
    slash = make_flag(db, make_post(db, make_client(db, name="Plain2"),
                                    title=r"Path C:\dir\file", description="z"))
    decoy = make_flag(db, make_post(db, make_client(db, name="Decoy"),
                                    title="100 percent ab job axb", description="C:dir"))
    db.commit()

    def ids(term: str) -> set[int]:
        return {r.flag.id for r in q.page(db, filters=q.Filters(q=term), moderator_id=None,
                                          limit=10).rows}
    assert ids("100%") == {pct.id}
    assert ids("A_B") == {under.id}
    assert ids("e_c") == {pct.id}  # the client's name ("Snake_Case Ltd")
    assert ids("\\dir\\") == {slash.id}
    assert ids("%") == {pct.id}
    assert ids("_") == {pct.id, under.id}
    assert ids("job") == {under.id, decoy.id}
    # the title, the description and the name are apart: no match across two of them
    assert ids("offx") == ids("ltd100") == set()


@pytest.mark.parametrize("walk", [1, 4, 2000])
def test_every_search_lists_what_the_reference_lists_whichever_path_serves_it(db, monkeypatch,
                                                                              walk):
    """``SEARCH_WALK`` 1 sends almost every page to the matches, 2000 serves every common
    term from the head; 4 mixes both within one keyset walk."""
    monkeypatch.setattr(q, "SEARCH_WALK", walk)
    moderators = queue_reference.build(db)
    for filters in queue_reference.CASES:
        if filters.q:
            for moderator_id in moderators:
                for limit in (1, 7):
                    assert queue_reference.listed(db, filters, moderator_id=moderator_id,
                                                  limit=limit) == queue_reference.expected(
                        db, filters, moderator_id=moderator_id), (filters, walk, limit)


def test_search_counts_are_exact_below_the_cap_whichever_path(db, monkeypatch):
    monkeypatch.setattr(q, "SEARCH_WALK", 2)
    acme = make_client(db, name="Acme")
    for i in range(5):
        post = make_post(db, acme, title=f"telegram job {i}")
        make_flag(db, post)
        make_flag(db, post, reason="policy", policy_types=["off_platform"])
    make_flag(db, make_post(db, acme, title="nothing"))
    db.commit()
    page = q.page(db, filters=q.Filters(q="TELEGRAM"), moderator_id=None, limit=2)
    assert page.counts["scam"] == 5 and page.counts["policy"] == 5
    assert page.matching == 5 and not page.counts_capped
    assert len(page.rows) == 2 and page.next_cursor


def test_a_page_comes_from_the_head_when_it_holds_one_else_from_the_matches(db, monkeypatch):
    acme = make_client(db, name="Acme")
    for i in range(6):
        make_flag(db, make_post(db, acme, title=f"telegram {i}"), priority=90 - i)
    rare = make_flag(db, make_post(db, acme, title="bakery"), priority=1)
    db.commit()
    statements = []
    fetch = q.reads.fetch
    monkeypatch.setattr(q.reads, "fetch", lambda session, stmt, params: (
        statements.append(stmt), fetch(session, stmt, params))[1])

    def rows(term: str, walk: int) -> list[int]:
        monkeypatch.setattr(q, "SEARCH_WALK", walk)
        statements.clear()
        page = q.page(db, filters=q.Filters(q=term), moderator_id=None, limit=2,
                      with_counts=False)
        return [r.flag.id for r in page.rows]
    assert len(rows("telegram", 3)) == 2 and len(statements) == 1  # the head held 3 matches
    assert len(rows("telegram", 2)) == 2 and len(statements) == 2  # 2 < a page + 1: matches
    assert rows("bakery", 3) == [rare.id] and len(statements) == 2
