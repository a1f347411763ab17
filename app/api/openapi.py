"""The OpenAPI 3.1 document, generated from the route registry (``http.OPERATIONS``) and
the pydantic models the views validate and serialise with: what is documented is what
runs. Served at ``GET /api/v1/openapi.json`` without authentication (it holds no data)."""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .http import OPERATIONS, Operation
from .schemas import EXTERNAL_ID_PATTERN, ErrorOut

TITLE = "TrustDesk marketplace API"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")

#: error responses every token-authenticated operation may give
COMMON_ERRORS = {
    401: "Missing, unknown or revoked bearer token (with WWW-Authenticate: Bearer)",
    500: "Unexpected server error",
}
BODY_ERRORS = {
    400: "Malformed JSON",
    413: "Body larger than MAX_CONTENT_LENGTH, chunked or not (or, for /batch, more than "
         "API_BATCH_MAX_ITEMS items)",
    415: "Body not sent as Content-Type: application/json",
    422: "Validation failed: per-field messages in `fields` (a bad field or path id, a datetime "
         "without a timezone or outside the years it allows, an unknown client in `client_id`)",
}


def openapi_path(rule: str) -> str:
    """Flask ``/posts/<external_id>`` -> OpenAPI ``/posts/{external_id}``."""
    return _PARAM.sub(r"{\1}", rule)


def _models() -> list[tuple[type[BaseModel], str]]:
    seen: dict[tuple[type[BaseModel], str], None] = {(ErrorOut, "serialization"): None}
    for op in OPERATIONS:
        if op.body is not None:
            seen[(op.body, "validation")] = None
        for _desc, model in op.responses.values():
            if model is not None:
                seen[(model, "serialization")] = None
    return list(seen)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel] | None) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(model)}}} if model else {}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "string", "pattern": EXTERNAL_ID_PATTERN}}
              for name in _PARAM.findall(op.rule)]
    if op.query is not None:
        schema = op.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            prop = dict(prop)
            description = prop.pop("description", None)
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if description:
                param["description"] = description
            params.append(param)
        if "$defs" in schema:  # enums referenced by the query model
            for p in params:
                _inline_refs(p["schema"], schema["$defs"])
    return params


def _inline_refs(node: Any, defs: dict[str, Any]) -> None:
    if isinstance(node, dict):
        ref = node.pop("$ref", None)
        if ref:
            node.update(defs[ref.rsplit("/", 1)[-1]])
        for value in node.values():
            _inline_refs(value, defs)
    elif isinstance(node, list):
        for value in node:
            _inline_refs(value, defs)


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for code, (description, model) in sorted(op.responses.items()):
        responses[str(code)] = {"description": description, **_json(model)}
    errors = {} if op.public else dict(COMMON_ERRORS)
    if op.body is not None:
        errors.update(BODY_ERRORS)
    if op.query is not None or _PARAM.search(op.rule):
        errors.setdefault(422, "Validation failed: per-field messages in `fields`")
    for code, description in errors.items():
        responses.setdefault(str(code), {"description": description, **_json(ErrorOut)})
    out: dict[str, Any] = {"operationId": op.endpoint.split(".")[-1], "summary": op.summary,
                           "responses": responses}
    if op.description:
        out["description"] = op.description
    params = _parameters(op)
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, **_json(op.body)}
    out["security"] = [] if op.public else [{"bearerAuth": []}]
    return out


@cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document (built once per process)."""
    _, schemas = models_json_schema(_models(), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(openapi_path(op.rule), {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "Clients, job posts and feedback in; scores and flags out. "
                                "Authenticate with `Authorization: Bearer <token>` "
                                "(`flask tokens create NAME`)."},
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
