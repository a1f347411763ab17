"""The queue's rows as display values: what one row of the list shows, built from one
result row of the list query (``services.queue``) at the time the queue is read."""
from __future__ import annotations

import dataclasses
import functools
import json
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from models import FlagReason
from models.moderation import QUEUE_AGE_WEIGHT
from models.taxonomy import category_label


#: priority points per hour of waiting
AGE_WEIGHT = QUEUE_AGE_WEIGHT
#: how long an item may wait before it is overdue (ageing badge)
TARGET_HOURS: dict[str, float] = {
    FlagReason.scam: 4, FlagReason.policy: 12, FlagReason.negative_client: 24,
    FlagReason.miscategorised: 48,
}


#: the flag columns a queue row shows (``Row.flag`` is a read-only tuple of these, not an
#: ORM object: no identity map, no change tracking for 50 rows nobody edits here)
ROW_FLAG_COLUMNS = ("id", "subject_type", "post_id", "client_id", "reason", "score",
                    "policy_types", "system_note", "priority", "version", "created_at")
QueueFlag = namedtuple("QueueFlag", ROW_FLAG_COLUMNS)


class RowDisplay(NamedTuple):
    """Everything one queue row shows, as display values computed once in ``page``. The
    console renders a row from these alone (plus its URL and the viewer's role), and keeps
    the HTML per distinct value (app/queue/rows.py), so nothing else may be shown."""
    flag_id: int
    reason: str
    policy_text: str         # "" without policy types
    subject_text: str | None  # the post's title, or "Client: <name>" for a client flag
    client_name: str
    claimed_by_email: str | None
    escalated: bool
    suspend_recommended: bool
    category_text: str
    score_text: str
    priority_text: str
    waiting_text: str
    overdue_text: str        # "" unless overdue
    post_badge: str          # the post's status unless it is live, else ""
    client_badge: str        # the client's status unless active, else ""
    #: the bulk form's value for this row: "<flag id>:<version>" of every open flag of the
    #: subject, this row's first, comma-separated; bulk acts on posts only
    item: str
    bulk_ok: bool
    #: the subject's other open reasons (one row per subject; a badge each)
    other_reasons: tuple[str, ...]


@dataclass(slots=True)
class Row:
    """One row of the queue: what the list knows about a flag, and what it shows."""
    flag: QueueFlag
    title: str | None
    client_name: str
    category: str | None
    post_status: str | None
    client_status: str
    claimed_by_email: str | None
    key: float
    effective_priority: float
    waiting: timedelta
    overdue: timedelta | None
    escalated: bool
    display: RowDisplay




_TARGETS = {reason: timedelta(hours=hours) for reason, hours in TARGET_HOURS.items()}
_DEFAULT_TARGET = timedelta(hours=24)
_ZERO = timedelta(0)
_N_FLAG = len(ROW_FLAG_COLUMNS)


_NO_POLICY_TYPES = frozenset({None, "", "[]", "null"})
_POLICY_AT = ROW_FLAG_COLUMNS.index("policy_types")


def _policy_types(raw: str | None) -> tuple[str, ...]:
    """``flag.policy_types`` from its JSON text (parsed only when there is something)."""
    return () if raw in _NO_POLICY_TYPES else tuple(json.loads(raw))


_REASON_ORDER = {reason.value: i for i, reason in enumerate(FlagReason)}


def _siblings(raw: str | None) -> list[tuple[str, int, int]]:
    """The ``others`` column of ``_list_select``: (reason, flag id, version) of the subject's
    other open flags, in the order of ``FlagReason``."""
    if not raw:
        return []
    out = []
    for part in raw.split(","):
        reason, flag_id, version = part.split(":")
        out.append((reason, int(flag_id), int(version)))
    return sorted(out, key=lambda s: (_REASON_ORDER.get(s[0], 99), s[1]))


@functools.lru_cache(maxsize=8192)
def _timeless(r: tuple) -> tuple[QueueFlag, tuple, tuple, tuple]:
    """What a result row of ``_list_select`` (as a tuple) shows that does not depend on
    when the queue is read: the flag, the row's other values, and the display values
    before and after the three that do (priority, waiting, overdue), in ``RowDisplay``'s
    order.

    Kept per distinct result row: everyone reloading the queue gets the same urgent rows
    back, value for value, and building these was most of building a row. The result row
    *is* the key (every column the list selects, the claim and escalation included), so a
    changed flag, post, client or claim is a different entry; everything returned is
    immutable (tuples), so a cached entry cannot be altered through a ``Row``."""
    flag = QueueFlag(*r[:_POLICY_AT], _policy_types(r[_POLICY_AT]), *r[_POLICY_AT + 1:_N_FLAG])
    (title, client_name, category, post_status, client_status, email, key, escalated,
     others) = r[_N_FLAG:]
    siblings = _siblings(others)
    is_post = flag.subject_type == "post"
    note = flag.system_note
    escalated = bool(escalated)
    head = (flag.id, flag.reason,
            ", ".join(flag.policy_types).replace("_", " ") if flag.policy_types else "",
            title if is_post else f"Client: {client_name}",
            client_name, email, escalated, bool(note) and "suspend recommended" in note,
            category_label(category) if category else "—", f"{flag.score:.2f}")
    tail = (post_status if post_status and post_status != "live" else "",
            client_status if client_status != "active" else "",
            ",".join([f"{flag.id}:{flag.version}"] + [f"{i}:{v}" for _, i, v in siblings]),
            is_post, tuple(reason for reason, _, _ in siblings))
    return flag, (title, client_name, category, post_status, client_status, email, key), \
        head, tail


#: ``_timeless`` and ``_row`` build ``RowDisplay`` and ``Row`` positionally (a third of the
#: cost of building them by keyword); this is the field order they rely on
_POSITIONAL = (RowDisplay._fields[10:13] == ("priority_text", "waiting_text", "overdue_text")
               and RowDisplay._fields[6] == "escalated" and len(RowDisplay._fields) == 18
               and [f.name for f in dataclasses.fields(Row)] == [
                   "flag", "title", "client_name", "category", "post_status", "client_status",
                   "claimed_by_email", "key", "effective_priority", "waiting", "overdue",
                   "escalated", "display"])
if not _POSITIONAL:
    raise RuntimeError("RowDisplay or Row changed: update _timeless and _row")


def _row(r: tuple, now: datetime) -> Row:
    """A ``Row`` from one result row of ``_list_select`` (a tuple: the cache compares its
    keys, and tuples compare in C), read at ``now``."""
    flag, values, head, tail = _timeless(r)
    waiting = max(now - flag.created_at, _ZERO)
    target = _TARGETS.get(flag.reason, _DEFAULT_TARGET)
    overdue = waiting - target if waiting > target else None
    priority = flag.priority + AGE_WEIGHT * waiting.total_seconds() / 3600
    # positional: RowDisplay(*head, priority_text, waiting_text, overdue_text, *tail)
    display = RowDisplay(*head, f"{priority:.0f}", format_waiting(waiting),
                         format_waiting(overdue), *tail)
    return Row(flag, *values, priority, waiting, overdue, head[6], display)




def format_waiting(delta: timedelta | None) -> str:
    """The waiting time as the queue shows it: 12 min, 5 h, 3 d ("" for None)."""
    if delta is None:
        return ""
    return _waiting_text(int(delta.total_seconds() // 60))


@functools.lru_cache(maxsize=4096)
def _waiting_text(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"


class JoinedText(sa.sql.functions.FunctionElement):
    """The aggregate of text values joined by commas: ``string_agg`` on PostgreSQL,
    ``group_concat`` on SQLite (``aggregate_strings`` binds the separator as a
    literal-execute parameter, which the statements that ``reads`` compiles once cannot
    carry)."""
    type = sa.Text()
    name = "joined_text"
    inherit_cache = True


@compiles(JoinedText)
def _group_concat(element, compiler, **kw) -> str:  # noqa: ANN001
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(JoinedText, "postgresql")
def _string_agg(element, compiler, **kw) -> str:  # noqa: ANN001
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"
