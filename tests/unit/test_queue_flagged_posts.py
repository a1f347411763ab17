"""``job_post.flagged`` is set by the database when a flag on a post opens, never cleared
(migration 0019; the search reads ``flag_search`` since 0022), the policy filter reads only
policy flags, and "claimed" reads the claimed-flags index: the listings stay exactly what
the filters say (a reference computed in Python), page after keyset page. On SQLite here;
on PostgreSQL in tests/integration/test_queue_search_postgres.py."""
from __future__ import annotations

import sqlalchemy as sa

from models import JobPost
from tests.support import queue_reference
from tests.unit.console_fixtures import db, make_client, make_flag, make_post  # noqa: F401


def _flagged(db, post: JobPost) -> bool:
    return db.execute(sa.select(JobPost.flagged).where(JobPost.id == post.id)).scalar_one()


def test_a_post_is_marked_when_a_flag_on_it_opens_and_stays_marked(db):
    client = make_client(db)
    plain, later, closed_only = (make_post(db, client) for _ in range(3))
    assert not _flagged(db, plain)
    flag = make_flag(db, plain)  # inserted open
    assert _flagged(db, plain)
    flag.status = "dismissed"
    db.flush()
    assert _flagged(db, plain)  # never cleared

    closed = make_flag(db, later, status="dismissed")
    assert not _flagged(db, later)  # a closed flag marks nothing
    closed.status = "open"  # reopened (an undo)
    db.flush()
    assert _flagged(db, later)

    make_flag(db, closed_only, status="resolved")
    make_flag(db, client=client, reason="negative_client")  # a client flag: no post
    db.commit()
    assert not _flagged(db, closed_only)


def test_a_flag_written_in_sql_marks_its_post_too(db):
    post = make_post(db, make_client(db), title="Pay me on telegram")
    db.execute(sa.text(
        "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score, "
        "status, priority, queue_key, version, created_at, updated_at) VALUES "
        "('post', :p, :c, :p, 'scam', 0.9, 'open', 50, 50, 1, :now, :now)"),
        {"p": post.id, "c": post.client_id, "now": post.created_at})
    db.commit()
    assert _flagged(db, post)
    from app.services import queue as q
    rows = q.page(db, filters=q.Filters(q="telegram"), moderator_id=None, limit=5).rows
    assert [r.flag.post_id for r in rows] == [post.id]


def test_every_filter_and_search_lists_what_the_reference_lists(db):
    moderators = queue_reference.build(db)
    queue_reference.check_all(db, moderators)
