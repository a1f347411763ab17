"""The marketplace API, ``/api/v1``: JSON in, JSON out, bearer-token authenticated.

Views are thin: parse and validate (``schemas``), call the ingest service (which owns
the transaction), serialise. Every route is declared with ``api_route`` so that the
OpenAPI document (``openapi.json``) lists exactly what is served.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for
from pydantic import BaseModel, ValidationError

from ..db import get_session
from ..services import Conflict, NotFound, ServiceError, appeals, ingest, notices
from ..services.audit import Actor
from . import bp, queries
from .http import ApiError, api_route, current_token, install, json_body, validate
from .schemas import (
    ITEM_MODELS,
    AppealIn,
    AppealOut,
    BatchIn,
    BatchOut,
    ClientIn,
    ClientOut,
    ContactsIn,
    ContactsOut,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    FlagPage,
    FlagQuery,
    PostIn,
    PostOut,
    field_errors,
)
from .schemas import ExternalId as _ExternalId

install(bp)

class _PathId(BaseModel):
    external_id: _ExternalId


def _path_errors(external_id: str) -> dict[str, str]:
    """The URL's external id checked like a body's (a NUL byte, say, is no id: 422)."""
    try:
        _PathId.model_validate({"external_id": external_id})
    except ValidationError as exc:
        return field_errors(exc)
    return {}


def _path_id(external_id: str) -> str:
    errors = _path_errors(external_id)
    if errors:
        raise ApiError(422, fields=errors)
    return external_id


def _body_with_id(model: type[BaseModel], external_id: str) -> dict[str, Any]:
    """Validate the URL's external id and the JSON body together (one 422 for both)."""
    data = json_body()
    errors = _path_errors(external_id)
    try:
        fields = model.model_validate(data).model_dump()
    except ValidationError as exc:
        errors.update(field_errors(exc))
    if errors:
        raise ApiError(422, fields=errors)
    return fields


def _write(use_case, **kwargs):  # noqa: ANN001, ANN202
    """Call an ingest use case; its IngestRejected becomes a 422."""
    try:
        return use_case(get_session(), **kwargs)
    except ingest.IngestRejected as exc:
        raise ApiError(422, fields=exc.fields) from None


def _written(model: BaseModel, written: ingest.Written, location: str | None = None):
    response = jsonify(model.model_dump(mode="json"))
    if written.result == "created":
        response.status_code = 201
        if location:
            response.headers["Location"] = location
    return response


def _post_out(external_id: str, result: str | None = None) -> PostOut:
    found = queries.post(get_session(), external_id)
    if found is None:
        raise ApiError(404, f"no post {external_id!r}")
    post, client_ext, flags, removal_reason = found
    hold = queries.post_hold(get_session(), post.id)
    return PostOut.model_validate({**post.model_dump(), "client_id": client_ext,
                                   "skills": post.skills or [], "open_flags": flags,
                                   "removal_reason": removal_reason, "held": hold is not None,
                                   "hold": hold, "result": result})


def _client_out(external_id: str, result: str | None = None) -> ClientOut:
    found = queries.client(get_session(), external_id)
    if found is None:
        raise ApiError(404, f"no client {external_id!r}")
    client, flags = found
    return ClientOut.model_validate({**client.model_dump(), "open_flags": flags,
                                     "result": result})


# --- clients -------------------------------------------------------------------------------

@api_route(bp, "/clients/<external_id>", "PUT", summary="Create or update a client",
           body=ClientIn, responses={201: ("Created", ClientOut),
                                     200: ("Updated or unchanged (see `result`)", ClientOut)})
def put_client(external_id: str):
    fields = _body_with_id(ClientIn, external_id)
    written = _write(ingest.upsert_client, external_id=external_id, fields=fields)
    return _written(_client_out(external_id, written.result), written,
                    url_for("api.get_client", external_id=external_id))


@api_route(bp, "/clients/<external_id>", "GET", summary="A client, its negativity score and open flags",
           responses={200: ("The client", ClientOut), 404: ("No such client", None),
                      422: ("Not an external id", ErrorOut)})
def get_client(external_id: str):
    return jsonify(_client_out(_path_id(external_id)).model_dump(mode="json", exclude={"result"}))


# --- posts -----------------------------------------------------------------------------------

@api_route(bp, "/posts/<external_id>", "PUT", summary="Create or update a job post",
           body=PostIn, responses={201: ("Created (scoring queued)", PostOut),
                                   200: ("Updated (rescoring queued if the content changed) "
                                         "or unchanged (see `result`)", PostOut)})
def put_post(external_id: str):
    """`client_id` is the client's external id; the client must exist (422 otherwise)."""
    fields = _body_with_id(PostIn, external_id)
    written = _write(ingest.upsert_post, external_id=external_id, fields=fields)
    return _written(_post_out(external_id, written.result), written,
                    url_for("api.get_post", external_id=external_id))


@api_route(bp, "/posts/<external_id>", "GET", summary="A post, its latest scores and open flags",
           responses={200: ("The post", PostOut), 404: ("No such post", None),
                      422: ("Not an external id", ErrorOut)})
def get_post(external_id: str):
    return jsonify(_post_out(_path_id(external_id)).model_dump(mode="json", exclude={"result"}))


@api_route(bp, "/posts/<external_id>/contacts", "PUT",
           summary="Set the freelancers who applied to a post or messaged its client",
           body=ContactsIn, responses={200: ("Written (`result`: updated or unchanged)", ContactsOut),
                                       404: ("No such post", ErrorOut)})
def put_contacts(external_id: str):
    """The whole list (it replaces the post's contacts; idempotent). When the post is removed
    for scam, off-platform contact or account rental, or its client is suspended for fraud,
    each of these freelancers gets a `freelancer.notice` webhook (and an e-mail where an
    address is given and SMTP is configured), once the decision's undo window has passed."""
    fields = _body_with_id(ContactsIn, external_id)
    try:
        written = notices.put_contacts(get_session(), post_external_id=external_id,
                                       contacts=fields["contacts"])
    except NotFound:
        raise ApiError(404, f"no post {external_id!r}") from None
    return jsonify(ContactsOut(post_id=external_id, contacts=written.count,
                               result=written.result).model_dump(mode="json"))


# --- feedback --------------------------------------------------------------------------------

@api_route(bp, "/feedback/<external_id>", "PUT", summary="Create or update a freelancer's feedback",
           body=FeedbackIn, responses={201: ("Created (client rescoring queued)", FeedbackOut),
                                       200: ("Updated or unchanged (see `result`)", FeedbackOut)})
def put_feedback(external_id: str):
    fields = _body_with_id(FeedbackIn, external_id)
    written = _write(ingest.upsert_feedback, external_id=external_id, fields=fields)
    feedback, client_ext = queries.feedback_client(get_session(), written.id)
    out = FeedbackOut.model_validate({**feedback.model_dump(), "client_id": client_ext,
                                      "result": written.result})
    return _written(out, written)


# --- batch -----------------------------------------------------------------------------------

@api_route(bp, "/batch", "POST", summary="Write clients, posts and feedback in one transaction",
           body=BatchIn, responses={200: ("Everything was written", BatchOut)})
def batch():
    """All or nothing: any invalid item (errors keyed like `posts[3].rating`) means nothing
    is written. At most API_BATCH_MAX_ITEMS items in all (413 beyond). Clients are written
    first, so posts and feedback may name clients created by the same batch."""
    data = json_body()
    limit = current_app.config["API_BATCH_MAX_ITEMS"]
    if isinstance(data, dict):
        count = sum(len(v) for k in ITEM_MODELS if isinstance(v := data.get(k), list))
        if count > limit:
            raise ApiError(413, f"a batch holds at most {limit} items (got {count})",
                           extra={"max_items": limit})
    payload: BatchIn = validate(BatchIn, data)  # type: ignore[assignment]
    counts = _write(ingest.ingest_batch,
                    clients=[i.model_dump() for i in payload.clients],
                    posts=[i.model_dump() for i in payload.posts],
                    feedback=[i.model_dump() for i in payload.feedback],
                    actor=Actor(label=f"api:{current_token().name}"))
    return jsonify(BatchOut.model_validate(counts).model_dump(mode="json"))


# --- flags -----------------------------------------------------------------------------------

@api_route(bp, "/flags", "GET", summary="Flags, oldest first, one page at a time",
           query=FlagQuery, responses={200: ("A page of flags", FlagPage)})
def list_flags():
    """Keyset pagination: pass `next_cursor` as `cursor` until it is null. Unknown query
    parameters are refused (422)."""
    query: FlagQuery = validate(FlagQuery, request.args.to_dict())  # type: ignore[assignment]
    items, next_cursor = queries.flags(get_session(), query)
    return jsonify(FlagPage(items=items, next_cursor=next_cursor).model_dump(mode="json"))


# --- appeals ---------------------------------------------------------------------------------

@api_route(bp, "/appeals", "POST", summary="Forward a client's appeal against a decision",
           body=AppealIn, responses={
               201: ("Filed: the appeal waits in the console's appeal queue", AppealOut),
               404: ("No such decision", ErrorOut),
               409: ("The decision already has an appeal (one per decision)", ErrorOut),
               422: ("Validation failed, or the appeal is refused: the window "
                     "(APPEAL_WINDOW_DAYS, 20 days from the decision) has passed, the decision "
                     "was undone or is no removal, recategorisation or suspension, or the "
                     "appellant is not the decision's client", ErrorOut)})
def file_appeal():
    """One appeal per decision. The outcome comes back as the `appeal.decided` webhook (with
    the reversal's own event, `post.reinstated` say, when the decision is overturned; none
    when a later decision that stands repeated it: `superseded_by` then names that one, and
    the overturn corrects the record only)."""
    payload: AppealIn = validate(AppealIn, json_body())  # type: ignore[assignment]
    session = get_session()
    try:
        appeal = appeals.file(session, decision_id=payload.decision, text=payload.text,
                              appellant=payload.appellant,
                              actor=Actor(label=f"api:{current_token().name}"))
    except NotFound as exc:
        raise ApiError(404, str(exc)) from None
    except Conflict as exc:
        raise ApiError(409, str(exc)) from None
    except ServiceError as exc:
        raise ApiError(422, str(exc)) from None
    out = AppealOut(id=appeal.id, decision=appeal.decision_id, appellant=appeal.appellant,
                    status=appeal.status, created_at=appeal.created_at,
                    decided_at=appeal.decided_at,
                    appeal_deadline=appeals.deadline(appeals.decision_of(session, appeal)))
    response = jsonify(out.model_dump(mode="json"))
    response.status_code = 201
    return response


# --- the contract itself ------------------------------------------------------------------------

@api_route(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3.1 document (public)",
           responses={200: ("The OpenAPI document", None)}, is_public=True)
def openapi_json():
    from .openapi import document

    return jsonify(document())
