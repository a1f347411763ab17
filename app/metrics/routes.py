"""The oversight dashboard (admins and analysts): charts, their tables, CSV exports."""
from __future__ import annotations

from flask import Response, abort, request

from ..db import get_session
from ..security import role_required
from ..services import ServiceError, metrics
from ..web.params import query_date
from ..web.ui import render
from . import bp
from .charts import charts, model_timeline

FRAGMENTS = {"metrics-results": "metrics/_results.html"}


def _filters() -> metrics.MetricsFilters:
    for name in ("date_from", "date_to"):  # dates are checked as every console query date is
        query_date(name)
    try:
        return metrics.MetricsFilters.from_args(request.args)
    except ServiceError as exc:
        abort(400, description=f"The query parameters do not make a valid view: {exc}.")


@bp.get("/")
@role_required("admin", "analyst")
def index():
    f = _filters()
    d = metrics.dashboard(get_session(), f)
    return render("metrics/index.html", FRAGMENTS, d=d, f=f, charts=charts(d),
                  timeline=model_timeline(d),
                  tables={name: metrics.table(d, name) for name in metrics.TABLES},
                  reasons=metrics.REASONS)


@bp.get("/export/<name>.csv")
@role_required("admin", "analyst")
def export(name: str):
    if name not in metrics.TABLES:
        abort(404)
    f = _filters()
    body = metrics.export_csv(metrics.dashboard(get_session(), f), name)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="trustdesk-{name}.csv"'})
