"""Who may reach what: every route x every role x anonymous."""
from __future__ import annotations

import pytest

from tests.helpers import ROLES, csrf_token

ANON = "anonymous"

# (method, path) -> expected status for anonymous and for each role
MATRIX = {
    ("GET", "/login"): {ANON: 200, "admin": 302, "moderator": 302, "analyst": 302},
    ("POST", "/logout"): {ANON: 302, "admin": 303, "moderator": 303, "analyst": 303},
    ("GET", "/"): {ANON: 302, "admin": 302, "moderator": 302, "analyst": 302},
    ("GET", "/queue/"): {ANON: 302, "admin": 200, "moderator": 200, "analyst": 200},
    ("GET", "/static/vendor/htmx/htmx.min.js"): {ANON: 200, "admin": 200, "moderator": 200,
                                                 "analyst": 200},
}
CASES = [(method, path, who, status) for (method, path), by_role in MATRIX.items()
         for who, status in by_role.items()]


@pytest.mark.parametrize("method,path,who,expected", CASES,
                         ids=[f"{m} {p} as {w}" for m, p, w, _ in CASES])
def test_route_access(client, logged_in, method, path, who, expected):
    c = client if who == ANON else logged_in(who)
    page = "/login" if who == ANON else "/queue/"
    data = {"csrf_token": csrf_token(c, page)} if method == "POST" else None
    response = c.open(path, method=method, data=data)
    assert response.status_code == expected
    if who == ANON and expected == 302:
        assert response.headers["Location"].startswith("/login")


def test_every_route_is_in_the_matrix(app):
    """A new route must state who may use it (add it to MATRIX)."""
    covered = {path for _, path in MATRIX}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert rule.rule in covered, f"route {rule.rule} missing from the access matrix"


def test_unknown_route_is_404_with_a_page(logged_in):
    c = logged_in("moderator")
    r = c.get("/no-such-page")
    assert r.status_code == 404 and "There is nothing here." in r.get_data(as_text=True)


class TestReadOnlyAnalysts:
    @pytest.fixture
    def app(self, app):
        """The app plus a state-changing route, to test the global analyst rule."""
        @app.post("/_probe/write")
        def probe_write():
            return "written"
        return app

    @pytest.mark.parametrize("role,expected", [("admin", 200), ("moderator", 200), ("analyst", 403)])
    def test_only_non_analysts_may_change_state(self, client, logged_in, role, expected):
        c = logged_in(role)
        r = c.post("/_probe/write", data={"csrf_token": csrf_token(c, "/queue/")})
        assert r.status_code == expected
        if expected == 403:
            assert "read-only" in r.get_data(as_text=True)


class TestRoleDecorator:
    @pytest.fixture
    def app(self, app):
        from app.security import role_required

        @app.get("/_probe/admin-only")
        @role_required("admin")
        def probe_admin():
            return "admin area"
        return app

    @pytest.mark.parametrize("role,expected", [("admin", 200), ("moderator", 403), ("analyst", 403)])
    def test_role_required(self, logged_in, role, expected):
        assert logged_in(role).get("/_probe/admin-only").status_code == expected

    def test_unknown_role_name_is_a_programming_error(self):
        from app.security import role_required
        with pytest.raises(ValueError):
            role_required("superuser")
