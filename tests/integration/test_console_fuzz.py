"""Fuzzing the console's GET routes on PostgreSQL with hypothesis: no input is a 500.

The routes come from ``app.url_map`` (every GET rule but the API's and the static files'),
so a new page is fuzzed without touching this file; the query parameters from the names the
console reads (found in ``app/`` by the pattern below) plus made-up ones. Path ids range
from the rows that exist to far beyond any integer column; values from well-formed ones to
NUL bytes, huge numbers, dates past year 9999 and cut cursors. Each request is sent as one
of the three roles (an admin, a moderator, an analyst), sometimes as an htmx request for
a fragment. PostgreSQL is where such values fail (an integer out of range, NUL in text).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from app.db import get_engine, session_scope
from app.services import users
from app.services.audit import CLI
from tests.helpers import PASSWORD, ROLES, login, make_app
from tests.unit.console_fixtures import make_client, make_flag, scam_case

pytestmark = pytest.mark.integration
SETTINGS = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
APP_DIR = Path(__file__).resolve().parents[2] / "app"
#: how the console reads a query value: request.args.get("x"), query_int("x"), the filter
#: parsers' choice("x", ...), score("x", ...), day("x")
READS = re.compile(r'(?:args\.get|query_\w+|choice|score|day)\(\s*"([a-z_]+)"')


def query_names() -> list[str]:
    names = {m for path in APP_DIR.rglob("*.py") if "api" not in path.parts
             for m in READS.findall(path.read_text())}
    assert {"q", "cursor", "before", "date_to", "actor", "flag"} <= names, names
    return sorted(names)


def get_routes(app: Flask) -> list[tuple[str, tuple[str, ...]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" \
                or rule.rule.startswith("/api/"):
            continue
        routes.append((rule.rule, tuple(sorted(rule.arguments))))
    assert any(args for _rule, args in routes) and len(routes) >= 10, routes
    return sorted(routes)


class Console:
    def __init__(self, app: Flask, ids: dict[str, int]):
        self.app, self.ids = app, ids
        self.clients = {}
        for role in ROLES:
            client = app.test_client()
            assert login(client, f"{role}@example.com").status_code == 303
            self.clients[role] = client
        self.statuses: Counter[int] = Counter()


@pytest.fixture
def console(pg_url) -> Iterator[Console]:
    app = make_app(pg_url)
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
        with session_scope() as s:
            for role in ROLES:
                users.create_moderator(s, email=f"{role}@example.com", password=PASSWORD,
                                       role=role, actor=CLI)
            client, post, flag = scam_case(s)
            other = make_client(s)
            make_flag(s, client=other, reason="negative_client", score=0.8)
            ids = {"post_id": post.id, "client_id": client.id, "flag": flag.id}
            s.commit()
    c = Console(app, ids)
    yield c
    # the generators must reach pages that render and pages that refuse, or prove little
    ok = sum(n for code, n in c.statuses.items() if code < 300)
    refused = sum(n for code, n in c.statuses.items() if 400 <= code < 500)
    assert ok >= 10 and refused >= 10, dict(c.statuses)
    with app.app_context():
        get_engine().dispose()


HUGE = st.sampled_from([2**31 - 1, 2**31, 2**63, 2**70, 10**30])
NASTY = st.sampled_from(["\x00", "a\x00b", "\u202e", "💥", "é", "'", '"', "%", "_", "\\",
                         "<script>", " ", "-1", "1e999", "nan", "inf", "-inf", "0x10"])
VALUES = st.one_of(
    st.integers(-5, 50).map(str), HUGE.map(str),
    st.sampled_from(["scam", "policy", "miscategorised", "negative_client", "contact_off_platform",
                     "mine", "unclaimed", "others", "design_creative", "0.5", "1", "auth",
                     "user.create", "moderator", "post", "client", "/queue/", "//evil.example"]),
    st.sampled_from(["2024-01-01", "2024-02-30", "9999-12-31", "0001-01-01", "2100-12-31",
                     "1969-12-31", "31-12-2024", "2024-01-01T00:00:00"]),
    st.tuples(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-9, 9),
              st.integers(0, 50) | HUGE).map(lambda t: f"{t[0]!r}_{t[1]}"),
    NASTY, st.text(max_size=20), st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.integers(0, 3000).map(lambda n: "q" * n))
TARGETS = st.sampled_from(["queue-results", "queue-more", "queue-main", "audit-results",
                           "audit-more", "similar-panel", "suspend-panel", "bulk-panel", "x"])


@st.composite
def requests(draw, console: Console, routes, names) -> tuple[str, str, dict[str, str]]:  # noqa: ANN001
    rule, arguments = draw(st.sampled_from(routes))
    path = rule
    for arg in arguments:
        known = console.ids.get(arg, 1)
        value = draw(st.one_of(st.just(known), st.just(known), st.integers(0, 100), HUGE))
        path = re.sub(rf"<(?:int:)?{arg}>", str(value), path)
    query = draw(st.lists(st.tuples(st.sampled_from(names) | st.text(min_size=1, max_size=8),
                                    VALUES), max_size=5))
    headers = draw(st.one_of(st.just({}), TARGETS.map(
        lambda t: {"HX-Request": "true", "HX-Target": t})))
    role = draw(st.sampled_from(ROLES))
    return role, path + ("?" + urlencode(query) if query else ""), headers


def test_fuzz_console_get_routes(console):
    routes, names = get_routes(console.app), query_names()

    @SETTINGS
    @given(case=requests(console, routes, names))
    def run(case: tuple[str, str, dict[str, Any]]):
        role, url, headers = case
        r = console.clients[role].get(url, headers=headers)
        console.statuses[r.status_code] += 1
        assert r.status_code < 500, (role, url, r.status_code)
        if r.status_code == 400:  # a clear 4xx: the page says what was wrong
            assert "parameter" in r.get_data(as_text=True), url
    run()
