"""Chart specifications (JSON for app/static/js/metrics.js, drawn with Chart.js) from the
dashboard's aggregates. Every chart has its table beside it (``metrics.table``)."""
from __future__ import annotations

from typing import Any

from ..services.metrics import AGE_BUCKETS, Dashboard


def _spec(kind: str, labels: list[Any], datasets: dict[str, list[Any]], *,
          stacked: bool = False, y: str = "") -> dict[str, Any]:
    return {"type": kind, "labels": [str(x) for x in labels], "stacked": stacked, "y": y,
            "datasets": [{"label": k, "data": v} for k, v in datasets.items()]}


def model_timeline(d: Dashboard, width: int = 1000, lane: int = 34) -> dict[str, Any] | None:
    """The model versions on a time axis, one lane per detector (server-rendered SVG):
    x positions in [120, width - 20], the version as a label, the active one marked."""
    models = d.models
    if not models:
        return None
    times = [m.created_at.timestamp() for m in models]
    first, last = min(times), max(times)
    span = (last - first) or 1.0
    names = sorted({m.name for m in models})
    points = [{"x": round(120 + (t - first) / span * (width - 160), 1),
               "y": 24 + names.index(m.name) * lane, "label": m.version,
               "when": m.created_at.strftime("%Y-%m-%d %H:%M"), "active": m.active,
               "name": m.name} for m, t in zip(models, times)]
    return {"width": width, "height": 24 + len(names) * lane + 16, "points": points,
            "lanes": [{"name": n, "y": 24 + i * lane} for i, n in enumerate(names)],
            "start": models[0].created_at.strftime("%Y-%m-%d"),
            "end": max(models, key=lambda m: m.created_at).created_at.strftime("%Y-%m-%d")}


def charts(d: Dashboard) -> dict[str, dict[str, Any]]:
    days = [x.isoformat() for x in d.inbound.days]
    reasons = [q.reason for q in d.time_to_decision]
    return {
        "inbound": _spec("line", days, {r: d.inbound.lines[r] for r in reasons}, y="new flags"),
        "backlog_trend": _spec("line", days, d.backlog.trend.lines, y="open flags"),
        "backlog": _spec("bar", [b for b, _ in AGE_BUCKETS], d.backlog.ages, stacked=True,
                         y="open flags"),
        "time_to_decision": _spec("bar", reasons, {
            "p50 hours": [q.p50_hours for q in d.time_to_decision],
            "p90 hours": [q.p90_hours for q in d.time_to_decision]}, y="hours"),
        "precision": _spec("bar", reasons, {
            "precision": [p.precision for p in d.precision],
            "Wilson low": [p.low for p in d.precision],
            "Wilson high": [p.high for p in d.precision]}, y="share upheld"),
        "decisions": _spec("bar", [e for e, _ in d.by_moderator.rows], {
            a: [c[i] for _, c in d.by_moderator.rows]
            for i, a in enumerate(d.by_moderator.actions)}, stacked=True, y="decisions"),
        "automation": _spec("bar", ["human", "automated"], {
            "flags closed": [d.automation.human, d.automation.automated]}, y="flags"),
        "outcomes": _spec("bar", ["improved", "not improved", "pending"], {
            "clients": [d.outcomes.improved, d.outcomes.not_improved, d.outcomes.pending]},
            y="clients"),
        "agreement": _spec("bar", [a.group for a in d.agreement.get("reason", [])], {
            "raw agreement": [a.raw for a in d.agreement.get("reason", [])],
            "Cohen's kappa": [a.kappa for a in d.agreement.get("reason", [])]},
            y="agreement (per reason)"),
    }
