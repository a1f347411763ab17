"""Reading the audit log: filters, keyset pages (newest first) and CSV export."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import AuditEvent, Client, Flag, JobPost, Outreach, QaReview, SubjectType

from . import NotFound

CSV_COLUMNS = ("id", "at", "actor", "action", "subject_type", "subject_id", "before", "after")
EXPORT_MAX = 100_000


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    subject_type: str = ""
    subject_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args: Any) -> AuditFilters:
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        return cls(actor=(args.get("actor") or "").strip()[:300],
                   action=(args.get("action") or "").strip()[:64],
                   subject_type=(args.get("subject_type") or "").strip()[:32],
                   subject_id=(args.get("subject_id") or "").strip()[:64],
                   date_from=day("date_from"), date_to=day("date_to"))

    def as_args(self) -> dict[str, str]:
        out = {"actor": self.actor, "action": self.action, "subject_type": self.subject_type,
               "subject_id": self.subject_id,
               "date_from": self.date_from.isoformat() if self.date_from else "",
               "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in out.items() if v}


def _filtered(f: AuditFilters):
    stmt = select(AuditEvent)
    if f.actor:
        escaped = f.actor.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(sa.func.lower(AuditEvent.actor).like(f"%{escaped}%", escape="\\"))
    if f.action:
        stmt = stmt.where(sa.or_(AuditEvent.action == f.action,
                                 AuditEvent.action.startswith(f.action + ".", autoescape=True)))
    if f.subject_type:
        stmt = stmt.where(AuditEvent.subject_type == f.subject_type)
    if f.subject_id:
        stmt = stmt.where(AuditEvent.subject_id == f.subject_id)
    if f.date_from:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(f.date_from, time.min, timezone.utc))
    if f.date_to:
        stmt = stmt.where(AuditEvent.at < datetime.combine(f.date_to + timedelta(days=1),
                                                           time.min, timezone.utc))
    return stmt


def page(session: Session, *, filters: AuditFilters, before_id: int | None = None,
         limit: int = 100) -> tuple[list[AuditEvent], int | None]:
    return _keyset(session, _filtered(filters), before_id, limit)


#: the cases whose audit events anyone who can open the case may read (every role opens
#: every post and client case page)
CASE_SUBJECTS = {SubjectType.post: JobPost, SubjectType.client: Client}


def case_events(session: Session, *, subject_type: str, subject_id: int,
                before_id: int | None = None, limit: int = 100,
                ) -> tuple[list[AuditEvent], int | None]:
    """The audit events of one post or client case, newest first: those about the subject
    itself and about its flags (and, for a client, its outreach messages). Nothing else:
    not QA reviews, other subjects, moderators or settings. ``NotFound`` for anything but
    an existing post or client."""
    model = CASE_SUBJECTS.get(subject_type)
    if model is None or session.get(model, subject_id) is None:
        raise NotFound(f"no {subject_type[:32]} case #{subject_id}")
    if subject_type == SubjectType.post:
        flags = sa.select(sa.cast(Flag.id, sa.String)).where(Flag.post_id == subject_id)
        related = [sa.and_(AuditEvent.subject_type == "flag", AuditEvent.subject_id.in_(flags))]
    else:
        flags = sa.select(sa.cast(Flag.id, sa.String)).where(
            Flag.subject_type == SubjectType.client, Flag.client_id == subject_id)
        outreach = sa.select(sa.cast(Outreach.id, sa.String)).where(
            Outreach.client_id == subject_id)
        related = [sa.and_(AuditEvent.subject_type == "flag", AuditEvent.subject_id.in_(flags)),
                   sa.and_(AuditEvent.subject_type == "outreach",
                           AuditEvent.subject_id.in_(outreach))]
    stmt = select(AuditEvent).where(sa.or_(
        sa.and_(AuditEvent.subject_type == subject_type,
                AuditEvent.subject_id == str(subject_id)), *related))
    return _keyset(session, stmt, before_id, limit)


def cases_of(session: Session, rows: list[AuditEvent]) -> dict[int, tuple[str, int]]:
    """``{event id: ("post" | "client", id)}``: the case page each event's subject belongs
    to - a post or a client itself, a flag's subject, an outreach message's client, a QA
    review's subject (three batched reads; other subjects have no case page)."""
    out: dict[int, tuple[str, int]] = {}
    wanted: dict[str, dict[int, list[int]]] = {"flag": {}, "outreach": {}, "qa_review": {}}
    for e in rows:
        if not e.subject_id.isdigit() or int(e.subject_id) > 2**31 - 1:
            continue
        if e.subject_type in CASE_SUBJECTS:
            out[e.id] = (e.subject_type, int(e.subject_id))
        elif e.subject_type in wanted:
            wanted[e.subject_type].setdefault(int(e.subject_id), []).append(e.id)
    reads = {"flag": (Flag.id, Flag.subject_type, Flag.subject_id),
             "outreach": (Outreach.id, sa.literal(SubjectType.client.value), Outreach.client_id),
             "qa_review": (QaReview.id, QaReview.subject_type,
                           sa.func.coalesce(QaReview.post_id, QaReview.client_id))}
    for kind, ids in wanted.items():
        if not ids:
            continue
        key, case_type, case_id = reads[kind]
        for i, t, c in session.execute(sa.select(key, case_type, case_id)
                                       .where(key.in_(list(ids)))):
            for event_id in ids[i]:
                out[event_id] = (t, c)
    return out


def _keyset(session: Session, stmt: Any, before_id: int | None,
            limit: int) -> tuple[list[AuditEvent], int | None]:
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    rows = list(session.exec(stmt.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = rows[limit].id if len(rows) > limit else None
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def actions(session: Session) -> list[str]:
    names = session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return list(names)


def _cell(value: Any) -> str:
    """Plain text for a CSV cell; formula-like cells are defused for spreadsheets."""
    if value is None:
        text = ""
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


#: rows per chunk of the CSV export (one keyset query each)
EXPORT_CHUNK = 1000


def export_csv(session: Session, *, filters: AuditFilters) -> Iterator[str]:
    """The filtered log as CSV, oldest first, streamed: the header at once, then one chunk
    per ``EXPORT_CHUNK`` rows, each read by a keyset query (``id > last``) of just the CSV's
    columns - no model objects, nothing kept between chunks, so memory stays flat however
    long the log. At most ``EXPORT_MAX`` rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    columns = [getattr(AuditEvent, c) for c in CSV_COLUMNS]
    rows_of = _filtered(filters).with_only_columns(*columns)
    last_id = 0
    sent = 0
    while sent < EXPORT_MAX:
        rows = session.execute(rows_of.where(AuditEvent.id > last_id)
                               .order_by(AuditEvent.id).limit(EXPORT_CHUNK)).all()
        if not rows:
            break
        buf.seek(0)
        buf.truncate()
        writer.writerows([_cell(value) for value in row] for row in rows)
        last_id = rows[-1][0]
        sent += len(rows)
        yield buf.getvalue()
    session.rollback()
