"""Odd query and path values get a clear 4xx on SQLite (tests/support/odd_input.py; the
same cases run on PostgreSQL in tests/integration/test_odd_input_postgres.py)."""
from __future__ import annotations

from tests.helpers import make_app
from tests.support.odd_input import answers, prepare


def test_odd_query_and_path_values_are_4xx_on_sqlite(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'odd.db'}", PROPAGATE_EXCEPTIONS=False)
    assert answers(app, prepare(app)) == {}
