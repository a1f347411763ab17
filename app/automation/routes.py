"""The automation tiers page (``/models/tiers``): measured precision per reason and policy
type, the tier in force, and the admins' highest tier per key (docs/automation.md)."""
from __future__ import annotations

from flask import redirect, request, url_for

from ..db import get_session
from ..security import role_required
from ..services import automation
from ..web.ui import actor, answer, form_int, is_admin, notify, render
from . import bp

FRAGMENTS = {"tiers": "automation/_tiers.html"}


@bp.get("/models/tiers")
@role_required("admin", "analyst", "moderator")
def tiers():
    data = automation.page(get_session())
    return render("automation/tiers.html", FRAGMENTS, page=data, can_edit=is_admin(),
                  tier_names=list(automation.ORDER))


@bp.post("/models/tiers")
@role_required("admin")
def set_max_tier():
    row = answer(lambda: automation.set_max_tier(
        get_session(), key=request.form.get("key", ""),
        max_tier=request.form.get("max_tier", ""), version=form_int("version"), actor=actor()))
    notify(f"{automation.label(row.key)}: highest tier {row.max_tier}; in force: {row.tier}.")
    return redirect(url_for("automation.tiers"), 303)
