"""HTTP plumbing of the marketplace API: the route registry (which also feeds the
OpenAPI document), bearer-token authentication, JSON bodies and JSON errors.

Every API response is JSON, errors included: ``{"error": "...", "fields": {...}}``.
The console's error pages (``app/web/errors.py``) are HTML; the API blueprint registers its
own handlers, and app-wide 404/405 handlers that answer JSON for ``/api/`` URLs (those
routing errors happen before any blueprint is chosen) and hand every other URL to the
handler that was registered before.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..db import get_session
from ..security import public, token_auth
from ..services.tokens import verify_token
from ..services.transactions import lost_race
from .schemas import field_errors

log = logging.getLogger(__name__)

MESSAGES = {
    400: "bad request",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request too large",
    409: "changed by someone else at the same moment; nothing was written: send it again",
    415: "unsupported media type",
    422: "validation failed",
    500: "internal server error",
}


class ApiError(Exception):
    """Raised by views and helpers; rendered as a JSON error response."""

    def __init__(self, status: int, error: str | None = None, *,
                 fields: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(error or MESSAGES.get(status, "error"))
        self.status, self.error, self.fields = status, error or MESSAGES.get(status, "error"), fields
        self.extra, self.headers = extra or {}, headers or {}


def json_error(status: int, error: str | None = None, *, fields: dict[str, str] | None = None,
               extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
    body: dict[str, Any] = {"error": error or MESSAGES.get(status, "error")}
    if fields:
        body["fields"] = fields
    body.update(extra or {})
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


# --- the route registry -----------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    """One documented API operation (an OpenAPI path item method)."""

    rule: str
    method: str
    endpoint: str
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict[int, tuple[str, type[BaseModel] | None]] = field(default_factory=dict)
    public: bool = False
    description: str = ""


OPERATIONS: list[Operation] = []


def api_route(bp: Blueprint, rule: str, method: str, *, summary: str,
              responses: dict[int, tuple[str, type[BaseModel] | None]],
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              is_public: bool = False) -> Callable:
    """Register a view on ``bp`` AND describe it for the OpenAPI document.

    Views are token-authenticated unless ``is_public``."""
    def decorator(view: Callable) -> Callable:
        marked = public(view) if is_public else token_auth(view)
        # merge_slashes=False: "/api/v1/clients//x" is no route (a JSON 404), not an HTML
        # redirect to "/api/v1/clients/x" (werkzeug's default, found by the API fuzz test)
        bp.add_url_rule(rule, view_func=marked, methods=[method], merge_slashes=False)
        OPERATIONS.append(Operation(bp.url_prefix + rule, method, f"{bp.name}.{view.__name__}",
                                    summary, body, query, responses, is_public,
                                    (view.__doc__ or "").strip()))
        return marked

    return decorator


# --- request helpers --------------------------------------------------------------------------

def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_body() -> Any:
    """The request body parsed as JSON (415 if not sent as ``application/json``, 400 if it
    is not JSON, 413 if too large)."""
    if request.mimetype != "application/json":
        raise ApiError(415, "the body must be sent as Content-Type: application/json")
    raw = request.get_data(cache=False)  # raises 413 when Content-Length is over the limit
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # a chunked body: werkzeug stops reading at the limit and hands over the part it
        # read, which would be a 400 (cut JSON) or, worse, valid JSON that is not the body
        raise ApiError(413)
    if not raw.strip():
        raise ApiError(400, "request body must be JSON")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        message = str(exc) if isinstance(exc, json.JSONDecodeError) else "unparseable"
        raise ApiError(400, f"malformed JSON: {message}"[:300]) from None


def validate(model: type[BaseModel], data: Any, prefix: str = "") -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, fields=field_errors(exc, prefix)) from None


def current_token():
    return g.api_token


# --- authentication -------------------------------------------------------------------------

def _authenticate():
    """Bearer token for every token-auth view of the blueprint (401 otherwise)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, "_token_auth", False):
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return json_error(401, "missing bearer token",
                          headers={"WWW-Authenticate": 'Bearer realm="trustdesk"'})
    row = verify_token(get_session(), token) if len(token) <= 200 else None
    if row is None:
        return json_error(401, "invalid or revoked token", headers={
            "WWW-Authenticate": 'Bearer realm="trustdesk", error="invalid_token"'})
    g.api_token = row
    return None


# --- errors -----------------------------------------------------------------------------------

def _http_error(exc: HTTPException):
    code = exc.code or 500
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    custom = exc.description != type(exc).description
    message = exc.description if custom and code != 500 else MESSAGES.get(code, exc.name.lower())
    return json_error(code, message, headers=headers)


def _api_error(exc: ApiError):
    return json_error(exc.status, exc.error, fields=exc.fields, extra=exc.extra,
                      headers=exc.headers)


def _unexpected(exc: Exception):
    if lost_race(exc):  # another transaction wrote the same rows: rolled back, not a fault
        log.info("API request lost a race: %s %s: %s", request.method, request.path, exc.orig)
        return json_error(409)
    log.exception("API request failed: %s %s", request.method, request.path)
    return json_error(500)


def _is_api_path(bp: Blueprint) -> bool:
    return request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/")


def _previous_handler(app: Flask, exc_class: type[HTTPException]) -> Callable | None:
    """The app-wide handler Flask would have used for ``exc_class`` without ours."""
    spec = app.error_handler_spec[None]
    for code in (exc_class.code, None):
        for cls in exc_class.__mro__:
            handler = spec.get(code, {}).get(cls)
            if handler is not None:
                return handler
    return None


def install(bp: Blueprint) -> None:
    """Authentication and JSON error handling for the API blueprint."""
    bp.before_request(_authenticate)
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected)

    def routing_errors(state) -> None:  # noqa: ANN001 - BlueprintSetupState
        from werkzeug.exceptions import NotFound

        app: Flask = state.app
        for exc_class in (NotFound, MethodNotAllowed):
            previous = _previous_handler(app, exc_class)

            def handler(exc: HTTPException, previous=previous):
                if _is_api_path(bp):
                    return _http_error(exc)
                return previous(exc) if previous is not None else exc

            app.register_error_handler(exc_class, handler)

    bp.record_once(routing_errors)
