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
