"""Odd query and path values get a clear 4xx on PostgreSQL, where an integer beyond the
column's range or a NUL byte fails in the database unless refused before it."""
from __future__ import annotations

import pytest

from app.db import get_engine
from tests.helpers import make_app
from tests.support.odd_input import answers, prepare

pytestmark = pytest.mark.integration


def test_odd_query_and_path_values_are_4xx_on_postgres(pg_url):
    app = make_app(pg_url, PROPAGATE_EXCEPTIONS=False)
    try:
        assert answers(app, prepare(app)) == {}
    finally:
        with app.app_context():
            get_engine().dispose()
