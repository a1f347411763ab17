"""The appeal queue, an appeal's page, its decision (uphold/overturn) and undo, and the
moderators' entry of an appeal that came by e-mail. Thin: one service call per request;
plain POSTs answered by a redirect (303) to the appeal with a notice, or the page again
with the refusal (409 changed meanwhile, 422 refused) and nothing written: the service
rolled its transaction back (``transactions.owns_transaction``); a view never does."""
from __future__ import annotations

from flask import abort, redirect, request, url_for

from models import AppealSource

from ..db import get_session
from ..security import role_required
from ..services import Conflict, NotFound, ServiceError, appeal_reads, appeals
from ..services.moderation import StaleCase
from ..web.params import query_int
from ..web.ui import actor, can_act, form_int, is_admin, notify, render
from . import bp

FRAGMENTS: dict[str, str] = {}


@bp.get("/")
@role_required("admin", "moderator", "analyst")
def index():
    return render("appeals/index.html", FRAGMENTS, q=appeal_reads.queue(get_session()))


def _page(appeal_id: int, *, status: int = 200, message: str | None = None,
          level: str = "success"):
    try:
        case = appeal_reads.case(get_session(), appeal_id=appeal_id, actor=actor(),
                                 is_admin=is_admin())
    except NotFound:
        abort(404)
    return render("appeals/page.html", FRAGMENTS, status=status, case=case, message=message,
                  level=level, can_act=can_act())


@bp.get("/<int:appeal_id>")
@role_required("admin", "moderator", "analyst")
def show(appeal_id: int):
    return _page(appeal_id)


def _act(appeal_id: int, call, done):  # noqa: ANN001
    """``done``: the notice, or a function of what ``call`` returned that makes it."""
    try:
        result = call()
    except NotFound:
        abort(404)
    except (StaleCase, Conflict) as exc:
        return _page(appeal_id, status=409, message=str(exc), level="conflict")
    except ServiceError as exc:
        return _page(appeal_id, status=422, message=str(exc), level="error")
    notify(done(result) if callable(done) else done)
    return redirect(url_for("appeals.show", appeal_id=appeal_id), 303)


@bp.post("/<int:appeal_id>/decide")
@role_required("admin", "moderator")
def decide(appeal_id: int):
    outcome = request.form.get("outcome", "")
    return _act(appeal_id, lambda: appeals.decide(
        get_session(), appeal_id=appeal_id, version=form_int("version"), outcome=outcome,
        reason=request.form.get("reason", ""), actor=actor()), _decided)


def _decided(appeal) -> str:  # noqa: ANN001
    if appeal.status == "upheld":
        return "Appeal upheld: the decision stands."
    later = (appeal.reversal or {}).get("superseded_by")
    if later:
        return (f"Appeal overturned on the record: the decision's label and strike are "
                f"corrected; a later decision, #{later}, stands and was not reversed.")
    return "Appeal overturned: the decision was reversed."


@bp.post("/<int:appeal_id>/undo")
@role_required("admin", "moderator")
def undo(appeal_id: int):
    return _act(appeal_id, lambda: appeals.undo(get_session(), appeal_id=appeal_id,
                                                actor=actor()),
                "Undone: the appeal is pending again.")


def _new_page(decision_id: int, *, status: int = 200, message: str | None = None,
              text: str = ""):
    try:
        form = appeal_reads.new_appeal(get_session(), decision_id=decision_id)
    except NotFound:
        abort(404)
    return render("appeals/new.html", FRAGMENTS, status=status, form=form, message=message,
                  level="error", text=text)


@bp.get("/new")
@role_required("admin", "moderator")
def new():
    """Enter an appeal that came by e-mail (linked from a decision on a case page)."""
    decision_id = query_int("decision")
    if decision_id is None:
        abort(400, description="The query parameter \u201cdecision\u201d is required: "
                               "open this form from a decision on a case page.")
    return _new_page(decision_id)


@bp.post("/new")
@role_required("admin", "moderator")
def create():
    decision_id = form_int("decision")
    text = request.form.get("text", "")
    try:
        appeal = appeals.file(get_session(), decision_id=decision_id, text=text, actor=actor(),
                              source=AppealSource.console)
    except NotFound:
        abort(404)
    except Conflict as exc:
        return _new_page(decision_id, status=409, message=str(exc), text=text)
    except ServiceError as exc:
        return _new_page(decision_id, status=422, message=str(exc), text=text)
    notify(f"Appeal #{appeal.id} recorded: it waits in the appeal queue.")
    return redirect(url_for("appeals.show", appeal_id=appeal.id), 303)
