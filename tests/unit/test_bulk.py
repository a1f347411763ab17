"""services.bulk: the JSON rows parameter of set-based writes (PostgreSQL; see
tests/integration/test_bulk_writes_postgres.py for the statements themselves)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from app.services import bulk

AT = datetime(2026, 12, 3, 11, 48, 42, 612599, tzinfo=timezone.utc)


def test_payload_keeps_only_the_named_columns_in_order_and_exact_values():
    rows = [{"id": 1, "score": 0.1 + 0.2, "evidence": [{"text": 'say "hi" <b>'}], "at": AT,
             "note": None, "extra": "dropped"}]
    sent = json.loads(bulk.payload(rows, ("id", "score", "evidence", "at", "note"))[bulk.ROWS])
    assert sent == [{"id": 1, "score": 0.30000000000000004,
                     "evidence": [{"text": 'say "hi" <b>'}],
                     "at": "2026-12-03T11:48:42.612599+00:00", "note": None}]


def test_payload_keeps_other_time_zones_as_offsets():
    plus_two = AT.astimezone(timezone(timedelta(hours=2)))
    [row] = json.loads(bulk.payload([{"at": plus_two}], ("at",))[bulk.ROWS])
    assert datetime.fromisoformat(row["at"]) == AT


def test_payload_prints_each_time_as_given_even_when_an_equal_one_was_printed_before():
    # equal instants in two zones compare and hash equal: the remembered text must not mix them
    plus_two = AT.astimezone(timezone(timedelta(hours=2)))
    rows = [{"at": AT}, {"at": plus_two}, {"at": AT}, {"at": AT + timedelta(microseconds=1)}]
    sent = [row["at"] for row in json.loads(bulk.payload(rows, ("at",))[bulk.ROWS])]
    assert sent == ["2026-12-03T11:48:42.612599+00:00", "2026-12-03T13:48:42.612599+02:00",
                    "2026-12-03T11:48:42.612599+00:00", "2026-12-03T11:48:42.612600+00:00"]


@pytest.mark.parametrize("value, message", [
    (datetime(2026, 12, 3, 11, 0), "naive datetime"),
    (object(), "cannot send object"),
    (float("nan"), "Out of range float"),
])
def test_payload_refuses_what_the_database_could_misread(value, message):
    with pytest.raises((TypeError, ValueError), match=message):
        bulk.payload([{"v": value}], ("v",))


def test_last_per_key_keeps_one_row_per_key_the_last():
    rows = [{"k": 1, "r": "a", "v": 1}, {"k": 2, "r": "a", "v": 2}, {"k": 1, "r": "a", "v": 3},
            {"k": 1, "r": "b", "v": 4}]
    assert bulk.last_per_key(rows, ("k", "r")) == [rows[1], rows[2], rows[3]]


def test_update_rows_sets_each_rows_values_and_the_shared_ones_on_those_rows_only(app):
    """``update_rows`` on SQLite (an executemany; PostgreSQL's one statement is compared with
    it in tests/integration/test_bulk_writes_postgres.py), and the objects the session holds
    of those rows read the new values."""
    import sqlalchemy as sa

    from app.db import session_scope
    from models import Client, Feedback
    from tests.support import factories as f

    with app.app_context(), session_scope() as s:
        owner = f.client(s)
        rows = [f.feedback(s, owner, f"f{i}", 1 + i % 5, f"comment {i}") for i in range(4)]
        bulk.update_rows(s, Feedback, [{"id": rows[0].id, "negative": 0.25},
                                                 {"id": rows[2].id, "negative": 1e-12}],
                         shared={"scored_at": AT})
        bulk.update_rows(s, Client, [], shared={"scored_at": AT})  # nothing to do
        s.commit()
        got = {r.external_id: (r.negative, r.scored_at) for r in s.execute(
            sa.select(Feedback.external_id, Feedback.negative, Feedback.scored_at))}
        assert got == {"f0": (0.25, AT), "f1": (None, None), "f2": (1e-12, AT),
                       "f3": (None, None)}
        assert s.execute(sa.select(Client.scored_at)).scalar_one() is None
        # the rows the session held show the new values, with nothing left to flush
        assert (rows[0].negative, rows[2].negative, rows[1].negative) == (0.25, 1e-12, None)
        assert rows[0].scored_at == AT and not s.dirty
