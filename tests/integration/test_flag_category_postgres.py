"""flag.category on PostgreSQL (migration 0021 and its triggers): it follows the post's
category (a fix-category decision, its undo, an ingest update), a client flag has none, the
queue's category filter lists by it; and the list query and the capped counts under a
category filter walk the category's partial indexes (no join to job_post to filter, no sort)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.db import session_scope
from app.services import queue as q
from models import utcnow
from tests.integration.test_queue_search_postgres import _generic_plan
from tests.integration.test_queue_subjects_postgres import _fill as fill_subjects
from tests.support.flag_category import category_follows_the_post

pytestmark = pytest.mark.integration
CATEGORIES = ("writing", "design_creative", "web_mobile_software", "admin_support",
              "sales_marketing", "accounting", "translation")


def test_the_flag_category_follows_the_post(migrated_app):
    with migrated_app.app_context(), session_scope() as s:
        category_follows_the_post(s)


def _fill(s) -> None:
    """The posts and flags of the one-row-per-subject tests (1500 posts, 1-3 open flags
    each), moved by one UPDATE of job_post (the triggers copy it to the flags) into several
    categories, "legal" rare (1 post in 50)."""
    fill_subjects(s)
    s.execute(sa.text("UPDATE job_post SET category = CASE WHEN id % 50 = 0 THEN 'legal' "
                      "ELSE (CAST(:names AS varchar[]))[id % 7 + 1] END"),
              {"names": "{" + ",".join(CATEGORIES) + "}"})
    s.commit()
    s.execute(sa.text("ANALYZE flag"))
    s.execute(sa.text("ANALYZE job_post"))


def test_the_category_filter_walks_its_partial_index(migrated_app):
    with migrated_app.app_context(), session_scope() as s:
        _fill(s)
        assert s.execute(sa.text("SELECT count(*) FROM flag f JOIN job_post p ON p.id = f.post_id"
                                 " WHERE f.category IS DISTINCT FROM p.category")).scalar() == 0
        now = utcnow()
        # with a reason too, a hundred flags here: read from its index and sorted, or walked
        for filters, index, walk in (
                (q.Filters(category="legal"), "ix_flag_open_category_queue", True),
                (q.Filters(category="writing"), "ix_flag_open_category_queue", True),
                (q.Filters(category="legal", reason="scam"), "ix_flag_open_category_reason_queue",
                 False)):
            params = q._params(filters, moderator_id=None, now=now, after=None)
            plan = _generic_plan(s, q._statement(q._Shape.of(filters, None), 51), params)
            assert index in plan and "Seq Scan on flag" not in plan, plan
            assert "Sort" not in plan or not walk, plan
            # the capped counts: one bounded read of the category's flags per reason
            plan = _generic_plan(s, q._filtered_sample(q._Shape.of(
                q.Filters(category=filters.category), None)), params)
            assert "ix_flag_open_category_reason_queue" in plan and "job_post" not in plan, plan
        page = q.page(s, filters=q.Filters(category="legal"), moderator_id=None, limit=50)
        legal = s.execute(sa.text("SELECT count(*) FROM job_post WHERE category = 'legal'")).scalar()
        assert page.matching == legal and {r.category for r in page.rows} == {"legal"}


def test_a_flag_written_under_the_post_lock_during_a_category_change_gets_the_new_one(pg_url):
    """Two connections: one changes a post's category and holds its transaction open; the
    other, as scoring does (services.scoring: the posts' row locks first), locks the post
    and inserts a flag. It waits for the change to commit, then takes the new category;
    no flag is left with the old one."""
    import threading

    from tests.integration.test_migrations import _insert_client
    from tests.support.services import migrate

    migrate(pg_url)
    engine = sa.create_engine(pg_url)
    insert_flag = ("INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason,"
                   " score, status, priority, queue_key, version, created_at, updated_at,"
                   " strike_boost) VALUES ('post', 1, 1, 1, :reason, 0.9, 'open', 0, 0, 1,"
                   " now(), now(), 0)")
    try:
        with engine.begin() as conn:
            _insert_client(conn)
            conn.execute(sa.text(
                "INSERT INTO job_post (id, external_id, client_id, title, description, status,"
                " category, content_hash, posted_at, created_at, updated_at) VALUES (1, 'p1', 1,"
                " 'T', 'D', 'live', 'writing', 'h', now(), now(), now())"))
            conn.execute(sa.text(insert_flag), {"reason": "scam"})
        changed, done = threading.Event(), threading.Event()

        def writer() -> None:
            changed.wait(10)
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT id FROM job_post WHERE id = 1 FOR NO KEY UPDATE"))
                conn.execute(sa.text(insert_flag), {"reason": "policy"})
            done.set()

        thread = threading.Thread(target=writer)
        thread.start()
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE job_post SET category = 'legal' WHERE id = 1"))
            changed.set()
            assert not done.wait(1.0)  # the writer waits for the post's lock
        thread.join(10)
        assert done.is_set()
        with engine.connect() as conn:
            assert conn.execute(sa.text(
                "SELECT reason, category FROM flag ORDER BY id")).all() == [
                ("scam", "legal"), ("policy", "legal")]
    finally:
        engine.dispose()
