"""A flag written in SQL is found by the search (its ``flag_search`` row is the database's:
migration 0022; ``job_post.flagged`` of 0019 was dropped by 0023), the policy filter reads only
policy flags, and "claimed" reads the claimed-flags index: the listings stay exactly what
the filters say (a reference computed in Python), page after keyset page. On SQLite here;
on PostgreSQL in tests/integration/test_queue_search_postgres.py."""
from __future__ import annotations

import sqlalchemy as sa

from tests.support import queue_reference
from tests.unit.console_fixtures import db, make_client, make_flag, make_post  # noqa: F401


def test_a_flag_written_in_sql_is_found_by_the_search(db):
    post = make_post(db, make_client(db), title="Pay me on telegram")
    db.execute(sa.text(
        "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score, "
        "status, priority, queue_key, version, created_at, updated_at) VALUES "
        "('post', :p, :c, :p, 'scam', 0.9, 'open', 50, 50, 1, :now, :now)"),
        {"p": post.id, "c": post.client_id, "now": post.created_at})
    db.commit()
    assert "flagged" not in {c["name"] for c in sa.inspect(db.get_bind()).get_columns("job_post")}
    from app.services import queue as q
    rows = q.page(db, filters=q.Filters(q="telegram"), moderator_id=None, limit=5).rows
    assert [r.flag.post_id for r in rows] == [post.id]


def test_every_filter_and_search_lists_what_the_reference_lists(db):
    moderators = queue_reference.build(db)
    queue_reference.check_all(db, moderators)
