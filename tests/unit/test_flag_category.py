"""flag.category on SQLite (the schema of ``create_all``): it follows the post's category
(a fix-category decision, its undo, an ingest update), a client flag has none, and the
queue's category filter lists by it (tests/support/flag_category.py)."""
from __future__ import annotations

from tests.support.flag_category import category_follows_the_post
from tests.unit.console_fixtures import db  # noqa: F401


def test_the_flag_category_follows_the_post(db):
    category_follows_the_post(db)
