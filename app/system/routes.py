"""Admins: failed background jobs (requeue), the sweep's status, the training labels'
counts; a bare page for the latency benchmark's baseline."""
from __future__ import annotations

from flask import redirect, render_template, url_for

from ..jobs import enqueue
from ..jobs import failed as failed_registry
from ..db import get_session
from ..security import role_required
from ..services import jobs_admin, labels, mailer, sweep
from ..web.ui import actor, notify, render, target
from . import bp


def _redis_error() -> str | None:
    if not enqueue.redis_url():
        return None
    try:
        enqueue.get_connection().ping()
    except Exception as exc:  # noqa: BLE001 - shown to the admin
        return f"Redis is not reachable: {exc.__class__.__name__}"
    return None


@bp.get("/")
@role_required("admin")
def index():
    error = _redis_error()
    failed = failed_registry.failed_jobs() if enqueue.redis_url() and not error else []
    status = sweep.status(get_session())
    mail = mailer.status(get_session())
    return render("system/index.html", {"failed-jobs": "system/_failed.html"}, failed=failed,
                  sweep=status, mail=mail, inline=enqueue.redis_url() is None,
                  redis_error=error)


@bp.get("/labels")
@role_required("admin", "analyst")
def label_counts():
    """The training labels' counts: a panel the System and Models pages load after they
    are shown (deriving the labels reads every labelled decision when something was decided
    since the last count), or a page of its own without JavaScript."""
    return render("system/labels.html", {"labels": "system/_labels.html"},
                  labels=labels.summary(get_session()))


@bp.post("/jobs/<job_id>/requeue")
@role_required("admin")
def requeue(job_id: str):
    ok = jobs_admin.requeue(get_session(), job_id=job_id, actor=actor())
    message = f"Requeued {job_id}." if ok else f"{job_id} is not in a failed registry."
    if target() == "failed-jobs":
        return render("system/_failed.html", {}, status=200 if ok else 404,
                      failed=failed_registry.failed_jobs(), message=message, inline=False)
    notify(message, "success" if ok else "error")
    return redirect(url_for("system.index"), code=303)


@bp.get("/bare")
@role_required("admin")
def bare():
    """A minimal Jinja page behind the same login: the benchmark's baseline."""
    return render_template("system/bare.html")
