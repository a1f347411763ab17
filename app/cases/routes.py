"""Post case pages: the evidence, the client, similar posts, and the post actions."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, redirect, request, url_for

from models import SubjectType
from models.taxonomy import CATEGORIES

from ..db import get_session
from ..security import role_required
from ..services import Conflict, NotFound, ServiceError, casefile, moderation, similar
from ..services import queue as queue_service
from ..services.moderation import REMOVE_REASONS, StaleCase
from ..web.params import query_int
from ..web.ui import actor, can_act, form_int, is_admin, notify, render, target
from . import bp

FRAGMENTS = {"case": "cases/_case.html"}
#: the option lists of the case forms, as the pure macros of cases/_options.html take them
#: (the categories a post can be moved to: "not a job" is a removal reason, not a category)
CATEGORY_CHOICES = tuple(CATEGORIES)
REMOVE_REASON_CHOICES = tuple(REMOVE_REASONS.items())


def _case(post_id: int, flag_id: int | None):
    try:
        return casefile.post_case(get_session(), post_id=post_id, flag_id=flag_id,
                                  actor=actor(), is_admin=is_admin())
    except NotFound:
        abort(404)


def _queue_filters() -> queue_service.Filters:
    """The queue filters the moderator came from: in the URL of a page (from the queue's
    row links), in the ``queue`` field (a query string) of the page's forms."""
    if request.method == "POST":
        return queue_service.Filters.from_args(dict(parse_qsl(request.form.get("queue", ""))))
    return queue_service.Filters.from_args(request.args)


def _render_case(post_id: int, flag_id: int | None, *, status: int = 200,
                 message: str | None = None, level: str = "success", decision=None):
    case = _case(post_id, flag_id)
    filters = _queue_filters()
    next_flag = None
    # the case asked for is closed and the page moved on to the post's next open flag: it
    # was decided since (also where a decision made without htmx lands, after its redirect)
    moved_on = flag_id is not None and case.flag is not None and case.flag.id != flag_id
    # after a decision, on a closed case, or moved on: the next case in the moderator's queue
    if decision is not None or moved_on or case.flag is None or case.flag.status != "open":
        next_flag = queue_service.next_case(get_session(), moderator_id=actor().moderator_id,
                                            filters=filters, skip=("post", post_id))
    queue_args = filters.as_args()
    return render("cases/page.html", FRAGMENTS, status=status, case=case, message=message,
                  level=level, decision=decision, next_flag=next_flag, moved_on=moved_on,
                  queue_args=queue_args,
                  queue_qs=urlencode(queue_args),
                  remove_reason_choices=REMOVE_REASON_CHOICES, can_act=can_act(),
                  is_admin=is_admin(), category_choices=CATEGORY_CHOICES)


@bp.get("/<int:post_id>")
def show(post_id: int):
    return _render_case(post_id, query_int("flag"))


def _act(post_id: int, do, done: str):
    """Run one action; answer with the fresh case (fragment for htmx, else redirect)."""
    flag_id = form_int("flag_id", required=False)
    try:
        decision = do(flag_id)
    except NotFound:
        abort(404)
    except StaleCase as exc:
        return _after(post_id, flag_id, str(exc), "conflict", 409)
    except (Conflict, ServiceError) as exc:
        return _after(post_id, flag_id, str(exc), "error", 422)
    return _after(post_id, flag_id, done, "success", 200, decision)


def _after(post_id, flag_id, message, level, status, decision=None):  # noqa: ANN001
    if target() == "case" or status != 200:
        return _render_case(post_id, flag_id, status=status, message=message, level=level,
                            decision=decision)
    notify(message, level)
    return redirect(url_for("cases.show", post_id=post_id, flag=flag_id,
                            **_queue_filters().as_args()), code=303)


def _version() -> int | None:
    return form_int("version", required=False)


def _comment() -> str:
    return request.form.get("comment", "")


@bp.post("/<int:post_id>/dismiss")
def dismiss(post_id: int):
    return _act(post_id, lambda fid: moderation.dismiss(
        get_session(), flag_id=fid, version=_version(), actor=actor(), comment=_comment()),
        "Dismissed: recorded as not a violation.")


@bp.post("/<int:post_id>/recategorise")
def recategorise(post_id: int):
    category = request.form.get("category", "")
    return _act(post_id, lambda fid: moderation.recategorise(
        get_session(), flag_id=fid, version=_version(), category=category, actor=actor(),
        comment=_comment()), "Recategorised; the client will be told.")


@bp.post("/<int:post_id>/remove")
def remove(post_id: int):
    return _act(post_id, lambda fid: moderation.remove(
        get_session(), flag_id=fid, version=_version(), reason_code=request.form.get("reason", ""),
        actor=actor(), comment=_comment()), "Post removed; the client will be told.")


@bp.post("/<int:post_id>/escalate")
def escalate(post_id: int):
    return _act(post_id, lambda fid: moderation.escalate(
        get_session(), flag_id=fid, version=_version(), actor=actor(), comment=_comment()),
        "Escalated to the admins.")


@bp.post("/<int:post_id>/note")
def note(post_id: int):
    return _act(post_id, lambda fid: moderation.add_note(
        get_session(), text=request.form.get("text", ""), actor=actor(),
        form_token=request.form.get("form_token", ""), flag_id=fid,
        post_id=None if fid else post_id), "Note added.")


@bp.post("/<int:post_id>/undo")
def undo(post_id: int):
    from models import Decision

    decision_id = form_int("decision_id")
    decision = get_session().get(Decision, decision_id)
    if decision is None or decision.post_id != post_id:
        abort(404)
    return _act(post_id, lambda _fid: moderation.undo(get_session(), decision_id=decision_id,
                                                      actor=actor()), "Undone.")


# --- claiming -------------------------------------------------------------------------

def _claim_fragment(post_id: int, state, status: int = 200, message: str | None = None):
    return render("cases/_claimed.html", {}, status=status, claim=state, post_id=post_id,
                  kind="post", message=message, moderators=casefile._moderators(
                      get_session(), {state.claimed_by}))


@bp.post("/<int:post_id>/claim")
def claim(post_id: int):
    state = moderation.claim(get_session(), subject_type=SubjectType.post, subject_id=post_id,
                             actor=actor())
    return _claim_fragment(post_id, state)


@bp.post("/<int:post_id>/release")
def release(post_id: int):
    moderation.release(get_session(), subject_type=SubjectType.post, subject_id=post_id,
                       actor=actor())
    if target() == "case":
        return _render_case(post_id, None, message="Released.")
    notify("Released; the case is back in the queue.", "info")
    return redirect(url_for("queue.index"), code=303)


@bp.post("/<int:post_id>/reassign")
@role_required("admin")
def reassign(post_id: int):
    try:
        moderation.reassign(get_session(), subject_type=SubjectType.post, subject_id=post_id,
                            to_moderator_id=form_int("moderator_id"), actor=actor())
    except ServiceError as exc:
        return _after(post_id, None, str(exc), "error", 422)
    return _after(post_id, None, "Reassigned.", "success", 200)


# --- similar posts and the cluster action ----------------------------------------------

def _post_or_404(post_id: int):
    from models import JobPost

    post = get_session().get(JobPost, post_id)
    if post is None:
        abort(404)
    return post


def _render_similar(post, cluster, *, status: int = 200, preview: dict | None = None,
                    **context):  # noqa: ANN001
    return render("cases/similar.html", {"similar": "cases/_similar.html"}, status=status,
                  post=post, cluster=cluster, preview=preview, remove_reasons=REMOVE_REASONS,
                  remove_reason_choices=REMOVE_REASON_CHOICES, can_act=can_act(),
                  cluster_reason=moderation.cluster_removal_reason(get_session(), post.id),
                  **context)


@bp.get("/<int:post_id>/similar")
def similar_posts(post_id: int):
    post = _post_or_404(post_id)
    return _render_similar(post, similar.find_similar(get_session(), post))


@bp.get("/<int:post_id>/cluster")
def cluster_preview(post_id: int):
    post = _post_or_404(post_id)
    cluster = similar.find_similar(get_session(), post)
    reason = request.args.get("reason", "")
    if reason not in REMOVE_REASONS:
        return _render_similar(post, cluster, status=422, level="error",
                               message="Choose why the similar posts should be taken down.")
    return _render_similar(post, cluster, preview={
        "posts": cluster.open_posts, "reason": reason,
        "accounts": len({p.client_id for p in cluster.open_posts})})


@bp.post("/<int:post_id>/cluster")
def cluster_remove(post_id: int):
    post = _post_or_404(post_id)
    ids = [int(v) for v in request.form.getlist("post_id") if v.isdigit()]
    try:
        done = moderation.cluster_remove(get_session(), source_post_id=post.id, post_ids=ids,
                                         reason_code=request.form.get("reason", ""),
                                         actor=actor(), expected=form_int("expected"))
        message, level, status = f"Removed {len(done)} similar posts.", "success", 200
    except StaleCase as exc:
        message, level, status = str(exc), "conflict", 409
    except ServiceError as exc:
        message, level, status = str(exc), "error", 422
    cluster = similar.find_similar(get_session(), post)
    if target() != "similar" and status == 200:
        notify(message, level)
        return redirect(url_for("cases.show", post_id=post_id), code=303)
    return _render_similar(post, cluster, status=status, message=message, level=level)
