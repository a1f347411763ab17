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
    # the marketplace API takes bearer tokens only: a login cookie is not enough
    **{(method, path): {ANON: 401, "admin": 401, "moderator": 401, "analyst": 401}
       for method, path in [("PUT", "/api/v1/clients/<external_id>"),
                            ("GET", "/api/v1/clients/<external_id>"),
                            ("PUT", "/api/v1/posts/<external_id>"),
                            ("GET", "/api/v1/posts/<external_id>"),
                            ("PUT", "/api/v1/feedback/<external_id>"),
                            ("POST", "/api/v1/batch"),
                            ("GET", "/api/v1/flags"),
                            ("PUT", "/api/v1/posts/<external_id>/contacts")]},
    ("GET", "/api/v1/openapi.json"): {ANON: 200, "admin": 200, "moderator": 200, "analyst": 200},
}
# --- the console (issue 5); <int:...> paths are opened with seeded ids (see concrete()) ---


def _roles(ok: int, *, admin: int | None = None, analyst: int = 403, moderator: int | None = None,
           anon: int = 302) -> dict:
    return {ANON: anon, "admin": ok if admin is None else admin,
            "moderator": ok if moderator is None else moderator, "analyst": analyst}


MATRIX.update({
    ("POST", "/queue/bulk"): _roles(422),
    ("GET", "/posts/<int:post_id>"): _roles(200, analyst=200),
    **{("POST", f"/posts/<int:post_id>/{a}"): _roles(422)
       for a in ("dismiss", "recategorise", "remove", "escalate", "note")},
    ("POST", "/posts/<int:post_id>/undo"): _roles(400),
    ("POST", "/posts/<int:post_id>/claim"): _roles(200),
    ("POST", "/posts/<int:post_id>/release"): _roles(303),
    ("POST", "/posts/<int:post_id>/reassign"): _roles(400, moderator=403),
    ("GET", "/posts/<int:post_id>/similar"): _roles(200, analyst=200),
    ("GET", "/posts/<int:post_id>/cluster"): _roles(422, analyst=422),  # reached; no reason given
    ("POST", "/posts/<int:post_id>/cluster"): _roles(400),
    ("GET", "/clients/<int:client_id>"): _roles(200, analyst=200),
    ("GET", "/clients/<int:client_id>/contact"): _roles(200, analyst=200),
    ("GET", "/clients/<int:client_id>/feedback"): _roles(200, analyst=200),
    ("GET", "/clients/<int:client_id>/posts"): _roles(200, analyst=200),
    ("POST", "/clients/<int:client_id>/contact"): _roles(422),
    ("POST", "/clients/<int:client_id>/contact/preview"): _roles(200),
    ("GET", "/clients/<int:client_id>/suspend"): _roles(200, analyst=200),
    ("POST", "/clients/<int:client_id>/suspend"): _roles(422),
    ("POST", "/clients/<int:client_id>/reinstate"): _roles(422, moderator=403),
    ("POST", "/clients/<int:client_id>/note"): _roles(422),
    ("POST", "/clients/<int:client_id>/undo"): _roles(400),
    ("POST", "/clients/<int:client_id>/claim"): _roles(200),
    ("GET", "/audit/"): _roles(200, moderator=403, analyst=200),
    ("GET", "/audit/export.csv"): _roles(200, moderator=403, analyst=200),
    ("GET", "/audit/posts/<int:post_id>"): _roles(200, analyst=200),
    ("GET", "/audit/clients/<int:client_id>"): _roles(200, analyst=200),
    ("GET", "/system/"): _roles(200, moderator=403),
    ("POST", "/system/jobs/<job_id>/requeue"): _roles(303, moderator=403),
    ("GET", "/system/bare"): _roles(200, moderator=403),
    ("GET", "/system/labels"): _roles(200, moderator=403, analyst=200),
})
MATRIX.update({  # oversight (issue 25)
    ("GET", "/metrics/"): _roles(200, moderator=403, analyst=200),
    ("GET", "/metrics/export/<name>.csv"): _roles(200, moderator=403, analyst=200),
    ("GET", "/qa/"): _roles(200),
    ("POST", "/qa/<int:review_id>"): _roles(404),
    ("GET", "/qa/adjudication"): _roles(200, moderator=403),
    ("POST", "/qa/<int:review_id>/adjudicate"): _roles(404, moderator=403),
    # another moderator's history: admins and analysts only (a moderator sees their own)
    ("GET", "/qa/moderators/<int:moderator_id>"): _roles(200, moderator=403, analyst=200),
})
MATRIX.update({  # automation tiers (issue 24): every role reads, admins set (400: no version)
    ("GET", "/models/tiers"): _roles(200, analyst=200),
    ("POST", "/models/tiers"): _roles(400, moderator=403),
})
MATRIX.update({  # appeals (issue 26); <int:appeal_id> is an unknown appeal
    ("POST", "/api/v1/appeals"): {ANON: 401, "admin": 401, "moderator": 401, "analyst": 401},
    ("GET", "/appeals/"): _roles(200, analyst=200),
    ("GET", "/appeals/<int:appeal_id>"): _roles(404, analyst=404),
    ("POST", "/appeals/<int:appeal_id>/decide"): _roles(400),
    ("POST", "/appeals/<int:appeal_id>/undo"): _roles(404),
    ("GET", "/appeals/new"): _roles(400),
    ("POST", "/appeals/new"): _roles(400),
})
MATRIX.update({  # models (issue 24): analysts read, admins act
    ("GET", "/models/"): _roles(200, moderator=403, analyst=200),
    ("GET", "/models/candidates/<int:candidate_id>"): _roles(404, moderator=403, analyst=404),
    ("POST", "/models/train"): _roles(303, moderator=403),
    ("POST", "/models/candidates/<int:candidate_id>/promote"): _roles(404, moderator=403),
    ("POST", "/models/candidates/<int:candidate_id>/rollback"): _roles(404, moderator=403),
    ("POST", "/models/candidates/<int:candidate_id>/shadow"): _roles(400, moderator=403),
    ("POST", "/models/candidates/<int:candidate_id>/shadow/stop"): _roles(404, moderator=403),
})


@pytest.fixture(autouse=True)
def _no_training(monkeypatch):
    """POST /models/train runs the training inline (no Redis): not the real one here."""
    def refuse(*_args, **_kwargs):
        raise RuntimeError("no training in the access tests")
    monkeypatch.setattr("classifiers.candidates.train_candidate", refuse)


@pytest.fixture
def console_ids(app):
    """One client with one flagged post, so the console's <int:...> routes resolve."""
    from app.db import session_scope
    from models import Client, Flag, JobPost, Moderator

    with app.app_context(), session_scope() as session:
        client = Client(external_id="c-access", name="Access Test Client")
        session.add(client)
        session.flush()
        post = JobPost(external_id="p-access", client_id=client.id, title="t", description="d",
                       content_hash="h")
        session.add(post)
        session.flush()
        session.add(Flag(subject_type="post", subject_id=post.id, client_id=client.id,
                         post_id=post.id, reason="scam", score=0.9))
        other = Moderator(email="other@example.com", password_hash="x")
        session.add(other)
        session.commit()
        return {"<int:post_id>": str(post.id), "<int:client_id>": str(client.id),
                "<name>": "inbound", "<int:review_id>": "999999",
                "<int:moderator_id>": str(other.id), "<int:appeal_id>": "999999",
                "<int:candidate_id>": "999999"}


def concrete(path: str, ids: dict[str, str]) -> str:
    for placeholder, value in ids.items():
        path = path.replace(placeholder, value)
    return path


CASES = [(method, path, who, status) for (method, path), by_role in MATRIX.items()
         for who, status in by_role.items()]


@pytest.mark.parametrize("method,path,who,expected", CASES,
                         ids=[f"{m} {p} as {w}" for m, p, w, _ in CASES])
def test_route_access(client, logged_in, console_ids, method, path, who, expected):
    c = client if who == ANON else logged_in(who)
    page = "/login" if who == ANON else "/queue/"
    data = {"csrf_token": csrf_token(c, page)} if method == "POST" else None
    response = c.open(concrete(path, console_ids), method=method, data=data)
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
