"""``PUT /api/v1/posts/{id}/contacts`` and the post payload's ``contacts``: idempotent,
validated (a clear 4xx, nothing written)."""
from __future__ import annotations

import pytest

from models import FreelancerContact
from tests.unit.test_api import (POST, api, dispatched, put_client, put_post,  # noqa: F401
                                 rows, token)

CONTACTS = [{"freelancer_id": "fl-1", "kind": "applicant", "email": "ana@example.org"},
            {"freelancer_id": "fl-2", "kind": "messaged"}]


@pytest.fixture
def post(api):
    assert put_client(api).status_code == 201
    assert put_post(api).status_code == 201
    return "p1"


def put_contacts(api, ext="p1", contacts=CONTACTS, **body):
    return api.put(f"/api/v1/posts/{ext}/contacts", json={"contacts": contacts, **body})


def stored(app):
    return sorted((c.freelancer_ref, c.kind, c.email) for c in rows(app, FreelancerContact))


def test_contacts_are_replaced_and_the_same_list_again_changes_nothing(app, api, post):
    r = put_contacts(api)
    assert r.status_code == 200 and r.json == {"post_id": "p1", "contacts": 2, "result": "updated"}
    assert put_contacts(api).json["result"] == "unchanged"
    assert stored(app) == [("fl-1", "applicant", "ana@example.org"), ("fl-2", "messaged", None)]
    assert put_contacts(api, contacts=CONTACTS[1:]).json == {"post_id": "p1", "contacts": 1,
                                                             "result": "updated"}
    assert stored(app) == [("fl-2", "messaged", None)]
    assert put_contacts(api, contacts=[]).json["result"] == "updated" and stored(app) == []


def test_the_post_payload_may_carry_contacts(app, api):
    put_client(api)
    assert put_post(api, contacts=CONTACTS).status_code == 201
    assert len(stored(app)) == 2
    assert put_post(api, contacts=CONTACTS).json["result"] == "unchanged"
    # only the contacts changed: the post is "updated"; omitted, they are left as they are
    assert put_post(api, contacts=CONTACTS[:1]).json["result"] == "updated"
    assert put_post(api).json["result"] == "unchanged" and len(stored(app)) == 1


def test_a_batch_carries_contacts_and_names_a_bad_one_by_its_path(app, api):
    put_client(api)
    item = {**POST, "external_id": "p9"}
    bad = {**item, "contacts": [{"freelancer_id": "fl-1", "kind": "friend"}]}
    r = api.post("/api/v1/batch", json={"posts": [bad]})
    assert r.status_code == 422 and "posts[0].contacts[0].kind" in r.json["fields"]
    assert stored(app) == []
    assert api.post("/api/v1/batch", json={"posts": [{**item, "contacts": CONTACTS}]}).status_code == 200
    assert len(stored(app)) == 2


def test_unknown_post_is_a_404(api, post):
    r = put_contacts(api, ext="nope")
    assert r.status_code == 404 and r.json["error"] == "no post 'nope'"


@pytest.mark.parametrize("contacts,path,message", [
    ([{"freelancer_id": "fl-1"}], "contacts[0].kind", "is required"),
    ([{"freelancer_id": "fl-1", "kind": "friend"}], "contacts[0].kind", "must be one of"),
    ([{"freelancer_id": "fl 1", "kind": "applicant"}], "contacts[0].freelancer_id", "must be 1-64"),
    ([{"freelancer_id": "fl-1", "kind": "applicant", "email": "not-an-address"}],
     "contacts[0].email", "must be an e-mail address"),
    ([{"freelancer_id": "fl-1", "kind": "applicant", "email": 7}], "contacts[0].email",
     "must be a string"),
    ([{"freelancer_id": "fl-1", "kind": "applicant", "phone": "1"}], "contacts[0].phone",
     "is not a known field"),
    ([CONTACTS[0], {**CONTACTS[1], "freelancer_id": "fl-1"}], "contacts", "lists freelancer fl-1 twice"),
    ([{"freelancer_id": f"fl-{i}", "kind": "applicant"} for i in range(1001)], "contacts",
     "must have at most 1000 items"),
    ("fl-1", "contacts", "must be a list"),
])
def test_bad_contacts_are_422_per_field_and_write_nothing(app, api, post, contacts, path, message):
    put_contacts(api, contacts=CONTACTS[:1])
    r = put_contacts(api, contacts=contacts)
    assert r.status_code == 422, r.json
    assert message in r.json["fields"][path], r.json
    assert stored(app) == [("fl-1", "applicant", "ana@example.org")]


def test_other_bad_requests(api, post):
    assert put_contacts(api, extra=1).json["fields"] == {"extra": "is not a known field"}
    assert api.put("/api/v1/posts/p1/contacts", json={}).json["fields"] == {"contacts": "is required"}
    r = api.put("/api/v1/posts/p1/contacts", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert api.put("/api/v1/posts/p1/contacts", data="x").status_code == 415
    assert api.put("/api/v1/posts/bad%20id/contacts", json={"contacts": []}).status_code == 422
    assert api.post("/api/v1/posts/p1/contacts", json={"contacts": []}).status_code == 405


def test_a_token_is_required(client, api, post):
    r = client.put("/api/v1/posts/p1/contacts", json={"contacts": CONTACTS})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_documents_the_operation(client):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/posts/{external_id}/contacts"]["put"]
    assert {"200", "404", "422", "401"} <= set(op["responses"])
    schemas = doc["components"]["schemas"]
    assert "ContactIn" in schemas and schemas["ContactIn"]["properties"]["kind"]["enum"] == [
        "applicant", "messaged"]
    assert "contacts" in schemas["PostIn"]["properties"]
