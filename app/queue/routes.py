"""The review queue: filters, active search, infinite scroll, bulk actions."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, redirect, request, url_for
from flask_login import current_user

from models import PolicyType
from models.taxonomy import CATEGORY_LABELS

from ..db import get_session
from ..services import ServiceError, moderation
from ..services import queue as queue_service
from ..services.moderation import REMOVE_REASONS, StaleCase
from ..web.params import query_keyset
from ..web.ui import actor, can_act, notify, render, target, url_builder
from . import bp
from .rows import render_rows

POLICY_TYPES = tuple(p.value for p in PolicyType)
FRAGMENTS = {
    "queue-results": "queue/_results.html",
    "queue-more": "queue/_rows.html",
    "queue-main": "queue/_main.html",
}


def _page(*, cursor: str | None = None, filters=None):  # noqa: ANN001
    filters = filters or queue_service.Filters.from_args(request.args)
    page = queue_service.page(get_session(), filters=filters, moderator_id=current_user.id,
                              limit=current_app.config["QUEUE_PAGE_SIZE"], cursor=cursor,
                              with_counts=target() != "queue-more",
                              counts_max_age=current_app.config["QUEUE_COUNTS_MAX_AGE"])
    return page


def _rows_html(page):  # noqa: ANN001, ANN202
    post_url = url_builder("cases.show", "post_id", "flag")
    client_url = url_builder("clients.show", "client_id", "flag")
    # the filters go along to the case page, for its "next case" and its way back
    args = page.filters.as_args()
    tail = "&" + urlencode(args) if args else ""
    return render_rows(
        ((row.display, (post_url(row.flag.post_id, row.flag.id)
                        if row.flag.subject_type == "post"
                        else client_url(row.flag.client_id, row.flag.id)) + tail)
         for row in page.rows), can_act=can_act())


def _context(page, **extra):  # noqa: ANN001
    return dict(page=page, filters=page.filters, reasons=list(page.counts) or None,
                policy_types=POLICY_TYPES, categories=CATEGORY_LABELS,
                claim_filters=queue_service.CLAIM_FILTERS, remove_reasons=REMOVE_REASONS,
                can_act=can_act(), rows_html=_rows_html(page),
                counts=tuple(page.counts.items()), **extra)


@bp.route("/")
def index():
    query_keyset("cursor")  # a malformed or out-of-range cursor is a 400
    page = _page(cursor=request.args.get("cursor"))
    return render("queue/index.html", FRAGMENTS, **_context(page))


def _items() -> tuple[list[str], list[tuple[int, int]]]:
    """The selected rows (each "<flag id>:<version>,..." of the subject's open flags, the
    row's own first) and the flags they name. A row that is not of that form is left out."""
    rows, items = [], []
    for raw in request.form.getlist("item"):
        pairs = [part.partition(":") for part in raw.split(",")]
        if all(i.isdigit() and sep and v.isdigit() for i, sep, v in pairs):
            rows.append(raw)
            items.extend((int(i), int(v)) for i, _, v in pairs)
    return rows, items


@bp.post("/bulk")
def bulk():
    """Step 1 (no ``confirm``): a confirmation stating the count. Step 2: do it."""
    action = request.form.get("action", "")
    rows, items = _items()
    reason = request.form.get("remove_reason", "")
    filters = queue_service.Filters.from_args(request.form)
    error = None
    if action not in moderation.BULK_ACTIONS:
        error = "Choose dismiss or remove."
    elif not items:
        error = "Select at least one item first (x, or the checkboxes)."
    elif action == "remove" and reason not in REMOVE_REASONS:
        error = "Choose a reason for removing the selected posts."
    if request.form.get("confirm") != "1" or error:
        return render("queue/bulk_confirm.html", {"bulk-panel": "queue/_bulk_confirm.html"},
                      status=422 if error else 200, action=action, rows=rows, reason=reason,
                      remove_reasons=REMOVE_REASONS, error=error, filters=filters)
    try:
        done = moderation.bulk(get_session(), action=action, items=items, actor=actor(),
                               reason_code=reason or None)
        n = len({(d.post_id, d.client_id) for d in done})
        message, level, status = (f"{'Dismissed' if action == 'dismiss' else 'Removed'} "
                                  f"{n} item{'s' if n != 1 else ''}."), \
            "success", 200
    except StaleCase as exc:
        message, level, status = str(exc), "conflict", 409
    except ServiceError as exc:
        message, level, status = str(exc), "error", 422
    if target() is None and status == 200:
        notify(message, level)
        return redirect(url_for("queue.index", **filters.as_args()), code=303)
    page = _page(filters=filters)
    return render("queue/index.html", {"queue-main": "queue/_main.html"}, status=status,
                  headers={"HX-Retarget": "#queue-main", "HX-Reswap": "outerHTML"},
                  **_context(page, message=message, level=level))
