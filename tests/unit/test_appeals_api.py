"""POST /api/v1/appeals: creation, duplicates, late appeals, unknown decisions, auth, and
its place in the OpenAPI document."""
from __future__ import annotations

import pytest
from sqlmodel import select

from app.db import session_scope
from app.services import moderation
from models import Appeal, AuditEvent
from tests.unit.console_fixtures import db, scam_case, staff  # noqa: F401
from tests.unit.test_api import api, dispatched, token  # noqa: F401


@pytest.fixture
def removal(db, staff):
    """A removed scam post: (the decision's id, the client's external id)."""
    client, _post, flag = scam_case(db)
    db.commit()
    decision = moderation.remove(db, flag_id=flag.id, version=flag.version,
                                 reason_code="scam", actor=staff["moderator"])
    return decision.id, client.external_id


def appeals(app):
    with app.app_context(), session_scope() as s:
        return list(s.exec(select(Appeal)))


def test_an_appeal_is_filed_once(api, app, removal):
    decision_id, client = removal
    body = {"decision": decision_id, "appellant": client, "text": "It is a real job."}
    r = api.post("/api/v1/appeals", json=body)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "pending" and r.json["decision"] == decision_id
    assert r.json["appellant"] == client and r.json["appeal_deadline"]
    again = api.post("/api/v1/appeals", json=body)
    assert again.status_code == 409 and "already has an appeal" in again.json["error"]
    assert len(appeals(app)) == 1
    with app.app_context(), session_scope() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "appeal.file")).one()
        assert event.actor == "api:marketplace"


def test_late_unknown_and_foreign_appeals(api, app, removal):
    decision_id, client = removal
    app.config["APPEAL_WINDOW_DAYS"] = 0
    r = api.post("/api/v1/appeals", json={"decision": decision_id, "appellant": client,
                                          "text": "late"})
    assert r.status_code == 422 and "appeal window of 0 days" in r.json["error"], r.json
    app.config["APPEAL_WINDOW_DAYS"] = 20
    r = api.post("/api/v1/appeals", json={"decision": 999999, "appellant": client, "text": "x"})
    assert r.status_code == 404 and r.json["error"] == "no decision 999999"
    r = api.post("/api/v1/appeals", json={"decision": decision_id, "appellant": "not-them",
                                          "text": "x"})
    assert r.status_code == 422 and "not the client" in r.json["error"]
    assert appeals(app) == []


@pytest.mark.parametrize("body, field", [
    ({"appellant": "c1", "text": "x"}, "decision"),
    ({"decision": "1", "appellant": "c1", "text": "x"}, "decision"),
    ({"decision": 0, "appellant": "c1", "text": "x"}, "decision"),
    ({"decision": 2**31, "appellant": "c1", "text": "x"}, "decision"),
    ({"decision": 1, "appellant": "c 1", "text": "x"}, "appellant"),
    ({"decision": 1, "appellant": "c1", "text": ""}, "text"),
    ({"decision": 1, "appellant": "c1", "text": "a\x00b"}, "text"),
    ({"decision": 1, "appellant": "c1", "text": "x", "extra": 1}, "extra"),
])
def test_bad_bodies_are_422_per_field(api, app, body, field):
    r = api.post("/api/v1/appeals", json=body)
    assert r.status_code == 422 and field in r.json["fields"], r.json
    assert appeals(app) == []


def test_blank_text_is_refused(api, app, removal):
    decision_id, client = removal
    r = api.post("/api/v1/appeals", json={"decision": decision_id, "appellant": client,
                                          "text": "   "})
    assert r.status_code == 422 and "text is required" in r.json["error"]


def test_appeals_need_a_token(client, removal):
    r = client.post("/api/v1/appeals", json={"decision": removal[0], "appellant": removal[1],
                                             "text": "x"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_documents_the_appeal_operation(client):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/appeals"]["post"]
    assert {"201", "401", "404", "409", "415", "422"} <= set(op["responses"])
    schema = doc["components"]["schemas"]["AppealIn"]
    assert set(schema["required"]) == {"decision", "appellant", "text"}
    assert schema["additionalProperties"] is False
