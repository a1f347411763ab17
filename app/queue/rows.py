"""The queue's rows as HTML: each row is the pure macro ``queue_row`` (``queue/_row.html``;
see app/fragments.py) of its ``RowDisplay`` (services.queue: every value the row shows),
its case URL and whether the viewer may act.

A moderator reloads the queue after every decision, and everyone looking at the queue sees
the same urgent rows: 49 of the next page's 50 rows look exactly as they did a moment ago.
Rendering the rows (about 20 escaped values each) was the largest part of rendering the
queue page, so each row is rendered once per distinct input. A row whose text changed in
any way (a new claim, a waiting time that went from "12 min" to "13 min", a recategorised
post, an analyst looking instead of a moderator) is a different input and is rendered afresh.
"""
from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup

from ..web.fragments import pure_macro_each
from ..services.queue import RowDisplay

ROW_TEMPLATE = "queue/_row.html"


def render_rows(rows: Iterable[tuple[RowDisplay, str]], *, can_act: bool) -> Markup:
    """``rows``: (display, case URL) pairs, in queue order."""
    return pure_macro_each(ROW_TEMPLATE, "queue_row",
                           ((display, url, can_act) for display, url in rows))
