"""The audit log (admins and analysts): filters and CSV export; the audit events of one post
or client case (every role: everyone who can open the case)."""
from __future__ import annotations

from dataclasses import replace

from flask import Response, abort, request, stream_with_context

from ..db import get_session
from ..security import role_required
from ..services import NotFound, audit_log
from ..web.params import query_date, query_int
from ..web.ui import render
from . import bp

FRAGMENTS = {"audit-results": "audit/_results.html", "audit-more": "audit/_rows.html"}
CASE_FRAGMENTS = {"audit-more": "audit/_rows.html"}


def _filters() -> audit_log.AuditFilters:
    """The filters of the query string; a malformed or out-of-range date is a 400."""
    return replace(audit_log.AuditFilters.from_args(request.args),
                   date_from=query_date("date_from"), date_to=query_date("date_to"))


@bp.get("/")
@role_required("admin", "analyst")
def index():
    filters = _filters()
    rows, next_before = audit_log.page(get_session(), filters=filters,
                                       before_id=query_int("before"))
    return render("audit/index.html", FRAGMENTS, rows=rows, next_before=next_before,
                  filters=filters, actions=audit_log.actions(get_session()),
                  cases=audit_log.cases_of(get_session(), rows))


@bp.get("/export.csv")
@role_required("admin", "analyst")
def export():
    filters = _filters()
    body = stream_with_context(audit_log.export_csv(get_session(), filters=filters))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="trustdesk-audit.csv"'})


@bp.get("/posts/<int:post_id>")
@role_required("admin", "analyst", "moderator")
def post_case(post_id: int):
    return _case("post", post_id, "audit.post_case", {"post_id": post_id})


@bp.get("/clients/<int:client_id>")
@role_required("admin", "analyst", "moderator")
def client_case(client_id: int):
    return _case("client", client_id, "audit.client_case", {"client_id": client_id})


def _case(subject_type: str, subject_id: int, endpoint: str, args: dict[str, int]):
    try:
        rows, next_before = audit_log.case_events(get_session(), subject_type=subject_type,
                                                  subject_id=subject_id,
                                                  before_id=query_int("before"))
    except NotFound:
        abort(404)
    return render("audit/case.html", CASE_FRAGMENTS, rows=rows, next_before=next_before,
                  cases=audit_log.cases_of(get_session(), rows),
                  subject_type=subject_type, subject_id=subject_id, more_endpoint=endpoint,
                  more_args=args)
