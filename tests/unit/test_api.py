"""The marketplace API (/api/v1): writes, reads, errors, auth and the OpenAPI contract."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app.db import session_scope
from app.jobs import enqueue
from app.jobs.spec import JobSpec
from app.services import tokens
from app.services.audit import CLI
from app.services.content import post_content_hash
from models import AuditEvent, Client, Feedback, Flag, JobPost

CLIENT = {"name": "Acme Bakery", "country": "Ireland", "joined_at": "2023-04-01T09:00:00Z",
          "payment_verified": True, "phone_verified": False, "identity_verified": False}
POST = {"client_id": "c1", "title": "Logo for my bakery", "description": "Need a logo, $50.",
        "category": "design_creative", "skills": ["Logo Design"], "budget": 50,
        "posted_at": "2024-05-01T12:00:00+02:00"}
FEEDBACK = {"client_id": "c1", "rating": 5, "comment": "Great client.",
            "created_at": "2024-06-01T08:00:00Z", "freelancer_ref": "fl-1"}


@pytest.fixture
def dispatched(monkeypatch) -> list[JobSpec]:
    """Jobs that would run after each commit (recorded, not run)."""
    specs: list[JobSpec] = []
    monkeypatch.setattr("app.jobs.enqueue.dispatch", lambda spec: specs.append(spec) or "recorded")
    return specs


@pytest.fixture
def token(app) -> str:
    with app.app_context(), session_scope() as s:
        return tokens.create_token(s, name="marketplace", actor=CLI)[1]


@pytest.fixture
def api(client, token, dispatched):
    """A test client that sends the bearer token with every request."""
    class Api:
        headers = {"Authorization": f"Bearer {token}"}

        def __getattr__(self, method):
            def call(path, **kwargs):
                headers = {**self.headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(path, headers=headers, **kwargs)
            return call

    return Api()


def rows(app, model):
    with app.app_context(), session_scope() as s:
        return list(s.exec(select(model)))


def put_client(api, ext="c1", **changes):
    return api.put(f"/api/v1/clients/{ext}", json={**CLIENT, **changes})


def put_post(api, ext="p1", **changes):
    return api.put(f"/api/v1/posts/{ext}", json={**POST, **changes})


# --- writes -----------------------------------------------------------------------------------

class TestClients:
    def test_created_then_updated_then_unchanged(self, api, app):
        r = put_client(api)
        assert r.status_code == 201 and r.json["result"] == "created"
        assert r.headers["Location"] == "/api/v1/clients/c1"
        assert r.json["name"] == "Acme Bakery" and r.json["status"] == "active"
        r = put_client(api, name="Acme Bakery Ltd", identity_verified=True)
        assert r.status_code == 200 and r.json["result"] == "updated"
        r = put_client(api, name="Acme Bakery Ltd", identity_verified=True)
        assert r.status_code == 200 and r.json["result"] == "unchanged"
        [client] = rows(app, Client)
        assert client.name == "Acme Bakery Ltd" and client.identity_verified
        assert client.joined_at.isoformat() == "2023-04-01T09:00:00+00:00"

    def test_optional_fields_default(self, api, app):
        r = api.put("/api/v1/clients/c2", json={"name": "Solo"})
        assert r.status_code == 201
        assert r.json["country"] is None and r.json["payment_verified"] is False


class TestPosts:
    def test_new_post_is_stored_and_scoring_deferred_after_commit(self, api, app, dispatched):
        put_client(api)
        r = put_post(api)
        assert r.status_code == 201 and r.json["result"] == "created"
        [post] = rows(app, JobPost)
        expected_hash = post_content_hash(title=POST["title"], description=POST["description"],
                                          category="design_creative", skills=["Logo Design"],
                                          budget=50.0)
        assert post.content_hash == expected_hash == r.json["content_hash"]
        assert post.status == "live" and post.posted_at.isoformat() == "2024-05-01T10:00:00+00:00"
        assert [(s.func, s.args, s.job_id) for s in dispatched] == [
            ("app.jobs.tasks.score_posts", ([post.id],), f"score-post-{post.id}-{expected_hash[:16]}")]

    def test_unchanged_post_is_not_rescored(self, api, dispatched):
        put_client(api)
        put_post(api)
        dispatched.clear()
        r = put_post(api, budget=50.0)  # 50 and 50.0 are the same content
        assert r.status_code == 200 and r.json["result"] == "unchanged"
        assert dispatched == []

    def test_edited_post_is_rescored_and_marked_unscored(self, api, app, dispatched):
        put_client(api)
        put_post(api)
        with app.app_context(), session_scope() as s:  # pretend the scorer ran
            post = s.exec(select(JobPost)).one()
            post.scores, post.model_version = {"scam": 0.1}, "v1"
            post.scored_at = post.created_at
            s.commit()
        dispatched.clear()
        r = put_post(api, description="Need a logo and a menu, $80.")
        assert r.status_code == 200 and r.json["result"] == "updated"
        [post] = rows(app, JobPost)
        assert post.scored_at is None and post.model_version is None
        assert post.description == "Need a logo and a menu, $80."
        assert [s.job_id for s in dispatched] == [f"score-post-{post.id}-{post.content_hash[:16]}"]

    def test_posted_at_change_is_an_update_without_rescoring(self, api, dispatched):
        put_client(api)
        put_post(api)
        dispatched.clear()
        r = put_post(api, posted_at="2024-05-02T12:00:00Z")
        assert r.json["result"] == "updated" and dispatched == []

    def test_removed_post_stays_removed_when_edited(self, api, app):
        put_client(api)
        put_post(api)
        with app.app_context(), session_scope() as s:
            s.exec(select(JobPost)).one().status = "removed"
            s.commit()
        r = put_post(api, title="Logo for my bakery (edited)")
        assert r.status_code == 200 and r.json["status"] == "removed"

    def test_post_of_a_suspended_client_is_accepted(self, api, app, dispatched):
        put_client(api)
        with app.app_context(), session_scope() as s:
            s.exec(select(Client)).one().status = "suspended"
            s.commit()
        assert put_post(api).status_code == 201 and len(dispatched) == 1

    def test_unknown_client_is_422_and_writes_nothing(self, api, app, dispatched):
        r = put_post(api, client_id="nobody")
        assert r.status_code == 422
        assert r.json == {"error": "validation failed",
                          "fields": {"client_id": "unknown client 'nobody'"}}
        assert rows(app, JobPost) == [] and dispatched == []

    def test_null_category_and_no_budget(self, api):
        put_client(api)
        r = put_post(api, category=None, budget=None, skills=[])
        assert r.status_code == 201 and r.json["category"] is None and r.json["budget"] is None


class TestClientFactsRescoreTheirPosts:
    """Payment verification and account age feed the scam detector: a change rescores the
    client's posts (not removed ones, not other clients'); other fields do not."""

    @pytest.fixture
    def scored(self, api, app, dispatched):
        put_client(api)
        put_client(api, "c2")
        for ext, owner in (("p1", "c1"), ("p2", "c1"), ("p3", "c1"), ("p4", "c2")):
            put_post(api, ext, client_id=owner, title=f"Logo {ext}")
        with app.app_context(), session_scope() as s:  # pretend the scorer ran
            for post in s.exec(select(JobPost)):
                post.scores, post.model_version = {"scam": 0.1}, "v1"
                post.scored_at = post.created_at
                post.status = "removed" if post.external_id == "p3" else post.status
            s.commit()
        dispatched.clear()
        return {p.external_id: p for p in rows(app, JobPost)}

    def test_verification_change_rescores_the_clients_posts(self, api, app, dispatched, scored):
        r = put_client(api, payment_verified=False)
        assert r.status_code == 200 and r.json["result"] == "updated"
        after = {p.external_id: p for p in rows(app, JobPost)}
        assert [e for e, p in sorted(after.items()) if p.scored_at is None] == ["p1", "p2"]
        assert all(after[e].model_version is None and after[e].updated_at > scored[e].updated_at
                   for e in ("p1", "p2"))
        assert all(after[e].model_version == "v1" and after[e].updated_at == scored[e].updated_at
                   for e in ("p3", "p4"))  # removed; another client's
        [spec] = dispatched
        assert spec.func == "app.jobs.tasks.score_posts"
        assert spec.args == (sorted([scored["p1"].id, scored["p2"].id]),)
        # the same content as the first scoring jobs, but a new job id: it is not a duplicate
        first = enqueue.score_posts_spec(sorted((scored[e].id, scored[e].content_hash)
                                             for e in ("p1", "p2")))
        assert spec.job_id.startswith("score-posts-") and spec.job_id != first.job_id

    def test_account_age_change_rescores(self, api, app, dispatched, scored):
        put_client(api, joined_at="2026-11-30T09:00:00Z")
        [spec] = dispatched
        assert len(spec.args[0]) == 2

    def test_other_client_fields_do_not_rescore(self, api, app, dispatched, scored):
        r = put_client(api, name="Acme Bakery Ltd", phone_verified=True, country="Malta")
        assert r.json["result"] == "updated" and dispatched == []
        assert all(p.scored_at is not None for p in rows(app, JobPost))

    def test_a_batch_rescores_once_for_all_changed_clients(self, api, app, dispatched, scored):
        r = api.post("/api/v1/batch", json={"clients": [
            {**CLIENT, "external_id": "c1", "payment_verified": False},
            {**CLIENT, "external_id": "c2", "payment_verified": False}]})
        assert r.status_code == 200, r.json
        [spec] = [s for s in dispatched if s.func == "app.jobs.tasks.score_posts"]
        assert spec.args == (sorted(scored[e].id for e in ("p1", "p2", "p4")),)


class TestFeedback:
    def test_new_and_changed_feedback_rescore_the_client(self, api, app, dispatched):
        put_client(api)
        r = api.put("/api/v1/feedback/f1", json=FEEDBACK)
        assert r.status_code == 201 and r.json["result"] == "created"
        [client] = rows(app, Client)
        assert [(s.func, s.args) for s in dispatched] == [("app.jobs.tasks.score_client", (client.id,))]
        first_job = dispatched[0].job_id
        assert first_job.startswith(f"score-client-{client.id}-")

        dispatched.clear()
        r = api.put("/api/v1/feedback/f1", json=FEEDBACK)
        assert r.status_code == 200 and r.json["result"] == "unchanged" and dispatched == []

        r = api.put("/api/v1/feedback/f1", json={**FEEDBACK, "rating": 1, "comment": "Never paid."})
        assert r.status_code == 200 and r.json["result"] == "updated"
        assert len(dispatched) == 1 and dispatched[0].job_id != first_job
        [fb] = rows(app, Feedback)
        assert fb.rating == 1 and fb.negative is None and fb.freelancer_ref == "fl-1"

    def test_reference_only_change_does_not_rescore(self, api, dispatched):
        put_client(api)
        api.put("/api/v1/feedback/f1", json=FEEDBACK)
        dispatched.clear()
        r = api.put("/api/v1/feedback/f1", json={**FEEDBACK, "contract_ref": "ct-9"})
        assert r.json["result"] == "updated" and r.json["contract_ref"] == "ct-9"
        assert dispatched == []


# --- validation -----------------------------------------------------------------------------------

BAD_POSTS = [
    ({"rating": 3}, "rating", "is not a known field"),
    ({"title": ""}, "title", "must not be empty"),
    ({"title": 42}, "title", "must be a string"),
    ({"title": "x" * 301}, "title", "must be at most 300 characters"),
    ({"budget": "50"}, "budget", "must be a number"),
    ({"budget": -1}, "budget", "must be between 0 and 1000000000"),
    ({"skills": "logo"}, "skills", "must be a list"),
    ({"skills": ["ok", 3]}, "skills[1]", "must be a string"),
    ({"category": "graphic_design"}, "category", "must be one of"),
    ({"posted_at": "2024-05-01T12:00:00"}, "posted_at", "must include a timezone"),
    ({"posted_at": "yesterday"}, "posted_at", "must be an ISO 8601 datetime"),
    ({"posted_at": 1714557600}, "posted_at", "must be an ISO 8601 datetime string"),
    ({"posted_at": "0001-01-01T00:00:00+05:00"}, "posted_at", "must be between 1970 and 2100"),
    ({"description": "a\x00b"}, "description", "must not contain NUL characters"),
    ({"client_id": ["c1"]}, "client_id", "must be a string"),
]


@pytest.mark.parametrize("change,field,message", BAD_POSTS, ids=[f for _, f, _ in BAD_POSTS])
def test_bad_post_fields_are_422_per_field(api, app, dispatched, change, field, message):
    put_client(api)
    dispatched.clear()
    r = put_post(api, **change)
    assert r.status_code == 422, r.json
    assert r.json["error"] == "validation failed"
    assert r.json["fields"][field].startswith(message), r.json
    assert rows(app, JobPost) == [] and dispatched == []


@pytest.mark.parametrize("rating,message", [(0, "must be between 1 and 5"),
                                            (6, "must be between 1 and 5"),
                                            ("5", "must be an integer"),
                                            (4.5, "must be an integer"),
                                            (True, "must be an integer"),
                                            (None, "must be an integer")])
def test_feedback_rating_must_be_an_integer_from_1_to_5(api, app, rating, message):
    put_client(api)
    r = api.put("/api/v1/feedback/f1", json={**FEEDBACK, "rating": rating})
    assert r.status_code == 422 and r.json["fields"] == {"rating": message}
    assert rows(app, Feedback) == []


def test_missing_fields_and_wrong_boolean_type(api, app):
    r = api.put("/api/v1/clients/c1", json={"payment_verified": "yes", "country": None})
    assert r.status_code == 422
    assert r.json["fields"] == {"name": "is required", "payment_verified": "must be true or false"}
    r = api.put("/api/v1/posts/p1", json={})
    assert set(r.json["fields"]) == {"client_id", "title", "description", "posted_at"}
    assert rows(app, Client) == []


def test_bad_external_id_in_the_url_is_422_with_body_errors(api):
    r = api.put("/api/v1/clients/-bad!id", json={"name": 1})
    assert r.status_code == 422
    assert set(r.json["fields"]) == {"external_id", "name"}
    r = api.put("/api/v1/clients/" + "x" * 65, json=CLIENT)
    assert r.status_code == 422 and "external_id" in r.json["fields"]


@pytest.mark.parametrize("body", [b"{not json", b"", b"   ", b'{"name": NaN}',
                                  b'{"name": "a"', b"\xff\xfe{", b"[" * 100_000])
def test_malformed_json_is_400(api, app, body):
    r = api.put("/api/v1/clients/c1", data=body, content_type="application/json")
    assert r.status_code == 400 and r.is_json
    assert r.json["error"].startswith(("malformed JSON", "request body must be JSON"))
    assert rows(app, Client) == []


@pytest.mark.parametrize("body", [[], "a string", 3, None])
def test_json_that_is_not_an_object_is_422(api, body):
    r = api.put("/api/v1/clients/c1", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 422 and r.json["fields"] == {"body": "must be an object"}


def test_body_over_max_content_length_is_413_json(app, api):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = put_client(api, name="x" * 2000)
    assert r.status_code == 413 and r.json == {"error": "request too large"}
    assert rows(app, Client) == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_body_not_sent_as_json_is_415(api, app, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = api.put("/api/v1/clients/c1", data=json.dumps(CLIENT), headers=headers)
    assert r.status_code == 415 and r.is_json and "application/json" in r.json["error"]
    assert api.post("/api/v1/batch", data="{}", headers=headers).status_code == 415
    assert rows(app, Client) == []


def test_chunked_body_over_max_content_length_is_413(app, api):
    """A chunked body has no Content-Length: werkzeug stops reading at the limit (with
    ``wsgi.input_terminated``, which gunicorn sets) and the view must not take the cut
    body for the whole one (it was a 400, or a write of the truncated JSON)."""
    import io

    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = json.dumps({"name": "x" * 2000}).encode()
    r = api.put("/api/v1/clients/c1", input_stream=io.BytesIO(body),
                headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
                environ_base={"wsgi.input_terminated": True})
    assert r.status_code == 413 and r.json == {"error": "request too large"}
    small = json.dumps(CLIENT).encode()
    r = api.put("/api/v1/clients/c1", input_stream=io.BytesIO(small),
                headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
                environ_base={"wsgi.input_terminated": True})
    assert r.status_code == 201
    assert [c.external_id for c in rows(app, Client)] == ["c1"]


def test_get_with_a_malformed_path_id_is_422(api):
    for path in ("/api/v1/posts/a%00b", "/api/v1/clients/a%00b", "/api/v1/posts/-x"):
        r = api.get(path)
        assert r.status_code == 422 and "external_id" in r.json["fields"], path
    assert api.get("/api/v1/posts/nope").status_code == 404


# --- batch ----------------------------------------------------------------------------------------

def batch_body(n_posts=3):
    return {
        "clients": [{"external_id": "c1", **CLIENT}],
        "posts": [{"external_id": f"p{i}", **POST, "title": f"Post {i}"} for i in range(n_posts)],
        "feedback": [{"external_id": "f1", **FEEDBACK}],
    }


class TestBatch:
    def test_creates_clients_and_their_posts_together(self, api, app, dispatched):
        r = api.post("/api/v1/batch", json=batch_body())
        assert r.status_code == 200
        assert r.json == {"clients": {"created": 1, "updated": 0, "unchanged": 0},
                          "posts": {"created": 3, "updated": 0, "unchanged": 0},
                          "feedback": {"created": 1, "updated": 0, "unchanged": 0}}
        posts = rows(app, JobPost)
        assert len(posts) == 3
        score_posts = [s for s in dispatched if s.func == "app.jobs.tasks.score_posts"]
        assert len(score_posts) == 1  # one batch job: vectorised once
        assert sorted(score_posts[0].args[0]) == sorted(p.id for p in posts)
        assert score_posts[0].job_id.startswith("score-posts-")
        assert [s.func for s in dispatched].count("app.jobs.tasks.score_client") == 1
        [event] = [e for e in rows(app, AuditEvent) if e.action != "token.create"]
        assert event.actor == "api:marketplace" and event.action == "api.batch"
        assert event.after["posts"]["created"] == 3

    def test_second_identical_batch_changes_nothing(self, api, dispatched):
        api.post("/api/v1/batch", json=batch_body())
        dispatched.clear()
        r = api.post("/api/v1/batch", json=batch_body())
        assert r.json["posts"] == {"created": 0, "updated": 0, "unchanged": 3}
        assert dispatched == []

    def test_one_bad_item_means_nothing_is_written(self, api, app, dispatched):
        body = batch_body()
        body["posts"][1]["budget"] = "lots"
        body["feedback"][0]["rating"] = 9
        r = api.post("/api/v1/batch", json=body)
        assert r.status_code == 422
        assert r.json["fields"] == {"posts[1].budget": "must be a number",
                                    "feedback[0].rating": "must be between 1 and 5"}
        assert rows(app, Client) == [] and rows(app, JobPost) == [] and dispatched == []

    def test_unknown_client_rolls_back_the_clients_written_before(self, api, app, dispatched):
        body = batch_body()
        body["posts"][2]["client_id"] = "ghost"
        r = api.post("/api/v1/batch", json=body)
        assert r.status_code == 422
        assert r.json["fields"] == {"posts[2].client_id": "unknown client 'ghost'"}
        assert rows(app, Client) == [] and dispatched == []
        assert [e.action for e in rows(app, AuditEvent)] == ["token.create"]

    def test_duplicate_external_ids_are_rejected(self, api, app):
        body = batch_body()
        body["posts"][2]["external_id"] = "p0"
        r = api.post("/api/v1/batch", json=body)
        assert r.status_code == 422
        assert r.json["fields"] == {"posts[2].external_id": "duplicate external_id (also at posts[0])"}
        assert rows(app, JobPost) == []

    def test_more_items_than_the_limit_is_413(self, api, app):
        app.config["API_BATCH_MAX_ITEMS"] = 4
        r = api.post("/api/v1/batch", json=batch_body(n_posts=3))  # 5 items
        assert r.status_code == 413
        assert r.json == {"error": "a batch holds at most 4 items (got 5)", "max_items": 4}
        assert rows(app, Client) == []
        assert api.post("/api/v1/batch", json=batch_body(n_posts=2)).status_code == 200

    def test_batch_shape_errors(self, api):
        r = api.post("/api/v1/batch", json={"posts": {"p1": {}}, "extra": []})
        assert r.status_code == 422
        assert r.json["fields"] == {"posts": "must be a list", "extra": "is not a known field"}
        r = api.post("/api/v1/batch", json={"posts": [{"external_id": "p1"}]})
        assert r.json["fields"]["posts[0].title"] == "is required"


# --- reads ----------------------------------------------------------------------------------------

def add_flag(app, *, subject_type="post", reason="scam", status="open", score=0.9):
    with app.app_context(), session_scope() as s:
        client = s.exec(select(Client)).first()
        post = s.exec(select(JobPost)).first()
        flag = Flag(subject_type=subject_type, reason=reason, status=status, score=score,
                    client_id=client.id,
                    post_id=post.id if subject_type == "post" else None,
                    subject_id=post.id if subject_type == "post" else client.id,
                    evidence=[{"field": "description", "start": 0, "end": 4}])
        s.add(flag)
        s.commit()
        return flag.id


class TestReads:
    def test_post_with_scores_and_open_flags(self, api, app):
        put_client(api)
        put_post(api)
        with app.app_context(), session_scope() as s:
            post = s.exec(select(JobPost)).one()
            post.scores, post.model_version, post.scored_at = {"scam": 0.93}, "m-7", post.created_at
            s.commit()
        open_id = add_flag(app, reason="scam")
        add_flag(app, reason="policy", status="dismissed")
        r = api.get("/api/v1/posts/p1")
        assert r.status_code == 200
        body = r.json
        assert body["scores"] == {"scam": 0.93} and body["model_version"] == "m-7"
        assert body["scored_at"] is not None and "result" not in body
        assert [f["id"] for f in body["open_flags"]] == [open_id]
        flag = body["open_flags"][0]
        assert (flag["subject_type"], flag["subject_id"], flag["client_id"], flag["post_id"]) == \
            ("post", "p1", "c1", "p1")

    def test_client_with_negativity_score_and_open_flags(self, api, app):
        put_client(api)
        with app.app_context(), session_scope() as s:
            s.exec(select(Client)).one().negativity_score = 0.8
            s.commit()
        put_post(api)
        add_flag(app, subject_type="post", reason="scam")  # not a client-level flag
        flag_id = add_flag(app, subject_type="client", reason="negative_client")
        r = api.get("/api/v1/clients/c1")
        assert r.status_code == 200 and r.json["negativity_score"] == 0.8
        assert [(f["id"], f["subject_id"], f["post_id"]) for f in r.json["open_flags"]] == \
            [(flag_id, "c1", None)]

    def test_unknown_post_or_client_is_404_json(self, api):
        assert api.get("/api/v1/posts/nope").json == {"error": "no post 'nope'"}
        r = api.get("/api/v1/clients/nope")
        assert r.status_code == 404 and r.is_json


class TestFlagList:
    @pytest.fixture
    def flags(self, api, app):
        put_client(api)
        put_post(api)
        ids = [add_flag(app, reason="scam", status="resolved"),
               add_flag(app, reason="policy"),
               add_flag(app, reason="miscategorised", status="dismissed"),
               add_flag(app, subject_type="client", reason="negative_client"),
               add_flag(app, reason="scam")]
        return ids

    def test_keyset_pagination_visits_every_flag_once(self, api, flags):
        seen, cursor = [], None
        for _ in range(10):
            r = api.get("/api/v1/flags", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200
            seen += [f["id"] for f in r.json["items"]]
            cursor = r.json["next_cursor"]
            if cursor is None:
                break
        assert seen == flags

    @pytest.mark.parametrize("query,expected", [
        ({"status": "open"}, [1, 3, 4]), ({"reason": "scam"}, [0, 4]),
        ({"subject": "client"}, [3]), ({"subject": "post:p1", "status": "open"}, [1, 4]),
        ({"subject": "client:c1"}, [3]), ({"subject": "post:other"}, []),
    ])
    def test_filters(self, api, flags, query, expected):
        r = api.get("/api/v1/flags", query_string=query)
        assert [f["id"] for f in r.json["items"]] == [flags[i] for i in expected]

    @pytest.mark.parametrize("query,field", [({"status": "closed"}, "status"),
                                             ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                                             ({"cursor": "-1"}, "cursor"),
                                             ({"subject": "user"}, "subject"),
                                             ({"sort": "id"}, "sort")])
    def test_bad_query_is_422(self, api, query, field):
        r = api.get("/api/v1/flags", query_string=query)
        assert r.status_code == 422 and field in r.json["fields"]


# --- authentication and errors ---------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Bearer td_not-a-real-token", "Bearer garbage", "Token x",
                                    "Bearer " + "x" * 5000])
def test_missing_or_bad_token_is_401(client, app, header):
    headers = {} if header is None else {"Authorization": header}
    r = client.put("/api/v1/clients/c1", json=CLIENT, headers=headers)
    assert r.status_code == 401 and r.is_json
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert rows(app, Client) == []


def test_revoked_token_is_401(api, app, token):
    assert put_client(api).status_code == 201
    with app.app_context(), session_scope() as s:
        tokens.revoke_token(s, name="marketplace", actor=CLI)
    r = api.get("/api/v1/clients/c1")
    assert r.status_code == 401 and r.json == {"error": "invalid or revoked token"}
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_a_logged_in_console_user_without_a_token_is_401(logged_in):
    c = logged_in("admin")
    r = c.get("/api/v1/flags")
    assert r.status_code == 401 and r.is_json


def test_token_use_is_stamped(api, app):
    api.get("/api/v1/flags")
    with app.app_context(), session_scope() as s:
        from models import ApiToken
        assert s.exec(select(ApiToken)).one().last_used_at is not None


def test_unknown_api_path_and_wrong_method_are_json(api, client):
    r = api.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json == {"error": "not found"}
    r = api.delete("/api/v1/posts/p1")
    assert r.status_code == 405 and r.json == {"error": "method not allowed"}
    assert set(r.headers["Allow"].split(", ")) >= {"GET", "PUT"}
    # the console's own pages are still HTML
    r = client.get("/no-such-page")
    assert r.status_code in (302, 404) and not r.is_json


@pytest.mark.parametrize("path", ["/api/v1/clients//c1", "/api/v1//clients/c1", "/api/v1//flags"])
def test_doubled_slashes_are_a_json_error_not_a_redirect_to_another_id(api, path):
    """werkzeug redirects "a//b" to "a/b" by default, with an HTML body (found by the fuzz
    test): the client "/c1" would have been sent on to the client "c1". An API client gets
    a JSON error for such a path, and nothing is written."""
    r = api.put(path, json={"name": "Acme"})
    assert r.status_code in (404, 405) and r.is_json and "error" in r.json
    assert "Location" not in r.headers
    assert api.get("/api/v1/clients/c1").status_code == 404


def test_unexpected_error_is_500_json(api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database on fire")
    monkeypatch.setattr("app.api.queries.post", boom)
    r = api.get("/api/v1/posts/p1")
    assert r.status_code == 500 and r.json == {"error": "internal server error"}
    assert "fire" not in r.get_data(as_text=True)


# --- the OpenAPI contract --------------------------------------------------------------------------

def test_openapi_document_describes_exactly_the_api_routes(app, client):
    r = client.get("/api/v1/openapi.json")  # public: no token needed
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule.replace("<", "{").replace(">", "}")
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served
    assert ("/api/v1/posts/{external_id}", "PUT") in documented


def test_openapi_schemas_are_the_validation_models(client):
    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas
    post_in = schemas["PostIn"]
    assert set(post_in["required"]) == {"client_id", "title", "description", "posted_at"}
    assert post_in["additionalProperties"] is False
    assert schemas["FeedbackIn"]["properties"]["rating"]["minimum"] == 1
    assert schemas["FeedbackIn"]["properties"]["rating"]["maximum"] == 5
    put = doc["paths"]["/api/v1/posts/{external_id}"]["put"]
    assert put["security"] == [{"bearerAuth": []}]
    assert {"201", "200", "400", "401", "413", "422"} <= set(put["responses"])
    assert doc["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    params = {p["name"]: p for p in doc["paths"]["/api/v1/flags"]["get"]["parameters"]}
    assert set(params) == {"status", "reason", "subject", "cursor", "limit"}


def test_openapi_declares_what_the_api_refuses(client):
    """415 for a body not sent as JSON; 422 for an unknown client, a datetime outside its
    years, a malformed path id; the cursor's real range (the flag id column's)."""
    doc = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/posts/{external_id}", "/api/v1/feedback/{external_id}"):
        put = doc["paths"][path]["put"]["responses"]
        assert "415" in put and "unknown client" in put["422"]["description"]
    assert "415" in doc["paths"]["/api/v1/batch"]["post"]["responses"]
    for path in ("/api/v1/posts/{external_id}", "/api/v1/clients/{external_id}"):
        assert "422" in doc["paths"][path]["get"]["responses"]
    posted_at = doc["components"]["schemas"]["PostIn"]["properties"]["posted_at"]
    assert "1970-2100" in posted_at["description"]
    cursor = {p["name"]: p for p in doc["paths"]["/api/v1/flags"]["get"]["parameters"]}["cursor"]
    assert 2**31 - 1 in (cursor["schema"].get("maximum"),
                         *[s.get("maximum") for s in cursor["schema"].get("anyOf", [])])
