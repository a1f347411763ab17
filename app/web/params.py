"""The console's query-string and path values, checked in one place before they reach a
query: a value the database cannot take (an id beyond its ``INTEGER`` columns, a NUL
byte, a date past year 9999 once a day is added) is a clear 400 or 404, never a 500.

- ``IdConverter`` is the app's ``int`` URL converter: ``/posts/<int:post_id>`` matches
  0-``MAX_ID`` only (a bigger number is no such page: 404);
- ``refuse_nul_in_query`` runs before every console request: a NUL byte in any query
  value or form field is a 400 naming it (PostgreSQL refuses NUL in text);
- ``query_int``, ``query_date``, ``query_keyset`` parse one typed query value (absent or
  empty: ``None``; malformed or out of range: 400 saying which and why).

The API validates its own values with its pydantic models (``app/api/schemas.py``).
"""
from __future__ import annotations

import math
from datetime import date

from flask import abort, request
from werkzeug.routing import IntegerConverter, Map

from models.base import MAX_ID, MAX_YEAR, MIN_YEAR

API_PREFIX = "/api/"


class IdConverter(IntegerConverter):
    """``<int:...>`` bounded to the ids a table can hold."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 0,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=MAX_ID if max is None else max, signed=signed)


def _bad(name: str, why: str):
    abort(400, description=f"The query parameter \u201c{name}\u201d {why}.")


def refuse_nul_in_query() -> None:
    """Before each console request (the API answers its own 422s): no NUL byte in a query
    value nor in a submitted form's field (a note, a login, a reason)."""
    if request.path.startswith(API_PREFIX):
        return
    for name, value in request.args.items(multi=True):
        if "\x00" in value or "\x00" in name:
            _bad(name.replace("\x00", "\\0"), "is not valid text (it holds a NUL byte)")
    if request.method == "POST":
        for name, value in request.form.items(multi=True):
            if "\x00" in value or "\x00" in name:
                shown = name.replace("\x00", "\\0")
                abort(400, description=f"The form field \u201c{shown}\u201d is not valid text "
                                       "(it holds a NUL byte).")


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID


def query_int(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not _is_id(raw):
        _bad(name, f"must be a whole number from 0 to {MAX_ID}")
    return int(raw)


def query_date(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        _bad(name, f"must be a date (YYYY-MM-DD) in the years {MIN_YEAR}-{MAX_YEAR}")
    return value


def query_keyset(name: str) -> tuple[float, int] | None:
    """A keyset cursor ``<finite number>_<id>`` (the queue's ``next_cursor``)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    key, _, ident = raw.rpartition("_")
    try:
        number = float(key)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not _is_id(ident):
        _bad(name, "is not a position in this list: open the list from its start")
    return number, int(ident)
