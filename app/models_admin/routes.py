"""The Models page: the active versions, the candidates and their comparison with the active
models, training (admins; an RQ job whose progress fragment polls), promotion through the
gate (with an audited override), rollback, re-scoring progress and shadow mode. Analysts
read it; only admins act."""
from __future__ import annotations

from flask import abort, redirect, request, url_for

from ..db import get_session
from ..security import role_required
from ..services import candidates, shadow
from ..web.ui import actor, form_int, notify, render, target
from . import bp

FRAGMENTS = {"training-progress": "models_admin/_training.html",
             "rescore-progress": "models_admin/_rescore.html"}


def _page_context() -> dict:
    session = get_session()
    view = candidates.overview(session)
    current_shadow = shadow.current(session)
    context = {"view": view, "rescore": candidates.rescore_progress(session),
               "shadow": current_shadow,
               "shadow_report": shadow.report(session, current_shadow.id) if current_shadow else None}
    return context


@bp.get("/")
@role_required("admin", "analyst")
def index():
    return render("models_admin/index.html", FRAGMENTS, **_page_context())


@bp.get("/candidates/<int:candidate_id>")
@role_required("admin", "analyst")
def candidate(candidate_id: int):
    session = get_session()
    row = _answer(lambda: candidates.get(session, candidate_id))
    report = shadow.report(session, row.id)
    view = candidates.overview(session)
    return render("models_admin/candidate.html", {}, row=row, view=view, shadow_report=report)


@bp.post("/train")
@role_required("admin")
def train():
    row = _answer(lambda: candidates.request_training(get_session(), actor=actor()))
    if target() == "training-progress":
        return render("models_admin/index.html", FRAGMENTS, **_page_context())
    notify(f"Candidate {row.id}: training started.")
    return redirect(url_for("models_admin.index"), 303)


@bp.post("/candidates/<int:candidate_id>/promote")
@role_required("admin")
def promote(candidate_id: int):
    reason = request.form.get("override_reason", "")
    if len(reason) > 500:
        abort(422, description="The override reason is at most 500 characters.")
    out = _answer(lambda: candidates.promote(get_session(), candidate_id, actor=actor(),
                                             override_reason=reason))
    notify(f"{out['version']} is active" + (" (gate overridden)" if out["gate_failures"] else "")
           + "; re-scoring of live posts and clients is queued.")
    return redirect(url_for("models_admin.index"), 303)


@bp.post("/candidates/<int:candidate_id>/rollback")
@role_required("admin")
def rollback(candidate_id: int):
    out = _answer(lambda: candidates.rollback(get_session(), candidate_id, actor=actor()))
    notify(f"{out['version']} is active again; re-scoring is queued.")
    return redirect(url_for("models_admin.index"), 303)


@bp.post("/candidates/<int:candidate_id>/shadow")
@role_required("admin")
def shadow_start(candidate_id: int):
    days = form_int("days")
    row = _answer(lambda: shadow.start(get_session(), candidate_id, days=days, actor=actor()))
    notify(f"{row.version} shadow-scores new posts until {row.shadow_until:%Y-%m-%d %H:%M} UTC.")
    return redirect(url_for("models_admin.candidate", candidate_id=candidate_id), 303)


@bp.post("/candidates/<int:candidate_id>/shadow/stop")
@role_required("admin")
def shadow_stop(candidate_id: int):
    row = _answer(lambda: shadow.stop(get_session(), candidate_id, actor=actor()))
    notify(f"{row.version} no longer shadow-scores.")
    return redirect(url_for("models_admin.candidate", candidate_id=candidate_id), 303)


def _answer(call):  # noqa: ANN001, ANN202
    """Run one service call; its refusals are the HTTP answers (404, 409, 422). The service
    rolled its transaction back (``transactions.owns_transaction``)."""
    try:
        return call()
    except candidates.CandidateError as exc:
        abort(exc.status, description=str(exc))
