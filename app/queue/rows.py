"""What one queue row displays (``RowView``), rendered by the pure macro ``queue_row``
(``queue/_row.html``; see app/fragments.py).

A moderator reloads the queue after every decision, and everyone looking at the queue sees
the same urgent rows: 49 of the next page's 50 rows look exactly as they did a moment ago.
Rendering the rows (about 20 escaped values each) was the largest part of rendering the
queue page, so each row is rendered once per distinct ``RowView``: every value the row
shows, and nothing else. A row whose text changed in any way (a new claim, a waiting time
that went from "12 min" to "13 min", a recategorised post) is a different ``RowView`` and
is rendered afresh.
"""
from __future__ import annotations

from typing import NamedTuple

from markupsafe import Markup

from ..fragments import pure_macro_each
from ..services.queue import Row

ROW_TEMPLATE = "queue/_row.html"


class RowView(NamedTuple):
    """What one queue row displays (``queue/_row.html`` reads these and nothing else)."""
    can_act: bool
    case_url: str
    item: str
    flag_id: int
    bulk_ok: bool
    reason: str
    reason_label: str
    policy_text: str
    subject_text: str | None
    suspend_recommended: bool
    escalated: bool
    post_badge: str
    client_name: str
    client_badge: str
    category_text: str
    score_text: str
    priority_text: str
    waiting_text: str
    overdue_text: str
    claimed_by_email: str | None


def row_view(row: Row, *, case_url: str, can_act: bool) -> RowView:
    return RowView(
        can_act=can_act, case_url=case_url, item=row.item, flag_id=row.flag.id,
        bulk_ok=row.bulk_ok, reason=row.flag.reason, reason_label=row.reason_label,
        policy_text=row.policy_text, subject_text=row.subject_text,
        suspend_recommended=row.suspend_recommended, escalated=row.escalated,
        post_badge=row.post_badge, client_name=row.client_name, client_badge=row.client_badge,
        category_text=row.category_text, score_text=row.score_text,
        priority_text=row.priority_text, waiting_text=row.waiting_text,
        overdue_text=row.overdue_text, claimed_by_email=row.claimed_by_email)


def render_rows(views: list[RowView]) -> Markup:
    return pure_macro_each(ROW_TEMPLATE, "queue_row", views)
