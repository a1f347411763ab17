"""Reviewer QA: the blind second review (moderators and admins), the adjudication of
disagreements (admins), and a moderator's history (decisions, undo rate, QA agreement)."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from ..db import get_session
from ..security import role_required
from ..services import NotFound, qa
from ..services import history as moderator_history
from ..web.ui import actor, answer, is_admin, notify, render
from . import bp

FRAGMENTS: dict[str, str] = {}


@bp.get("/")
@role_required("admin", "moderator")
def index():
    case = qa.next_case(get_session(), actor=actor())
    return render("qa/index.html", FRAGMENTS, case=case)


@bp.post("/<int:review_id>")
@role_required("admin", "moderator")
def review(review_id: int):
    answer(lambda: qa.submit(get_session(), review_id=review_id,
                              label=request.form.get("label", ""),
                              comment=request.form.get("comment", ""), actor=actor()))
    notify("Thank you: your review is recorded.")
    return redirect(url_for("qa.index"), 303)


@bp.get("/adjudication")
@role_required("admin")
def adjudication():
    return render("qa/adjudication.html", FRAGMENTS, items=qa.disagreements(get_session()),
                  correction_for=qa.correction_for)


@bp.post("/<int:review_id>/adjudicate")
@role_required("admin")
def adjudicate(review_id: int):
    done = answer(lambda: qa.adjudicate(get_session(), review_id=review_id,
                                         label=request.form.get("label", ""), actor=actor(),
                                         apply_correction=request.form.get("correct") == "1"))
    subject = "post" if done.subject_type == "post" else "client"
    notify(f"Adjudicated: {done.adjudicated_label.replace('_', ' ')}"
           + (f"; the {subject} was {'reinstated' if done.correction == 'reinstate' else 'removed'}."
              if done.correction else "."))
    return redirect(url_for("qa.adjudication"), 303)


@bp.get("/moderators/<int:moderator_id>")
@role_required("admin", "analyst", "moderator")
def history(moderator_id: int):
    """A moderator's history: admins and analysts see anyone's, a moderator their own."""
    me = actor()
    if not (is_admin() or current_user.role == "analyst") and me.moderator_id != moderator_id:
        abort(403)
    try:
        h = moderator_history.of(get_session(), moderator_id)
    except NotFound as exc:
        abort(404, description=str(exc))
    return render("qa/history.html", FRAGMENTS, h=h)
