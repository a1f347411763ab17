"""The embedded tick's lease on real PostgreSQL: two processes' ticks at the same moment
(two threads, two connections, a barrier), exactly one runs the sweep."""
from __future__ import annotations

import pytest

from app.db import session_scope
from app.services import tick
from models import Lease, utcnow
from tests.unit.test_tick import two_at_once

pytestmark = pytest.mark.integration


def test_two_ticks_at_once_on_postgresql_run_the_sweep_once(migrated_app, monkeypatch):
    results = two_at_once(migrated_app, monkeypatch)
    assert sorted(r is None for r in results) == [False, True]
    with migrated_app.app_context(), session_scope() as s:
        lease = s.get(Lease, tick.NAME)
        assert lease.locked_until <= utcnow() and lease.last_run_at is not None
