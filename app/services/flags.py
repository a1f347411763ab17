"""Queue items: the idempotent flag upsert the worker uses, and how urgent a flag is.

At most one open flag exists per (subject, reason): the database's partial unique index
guarantees it, and ``upsert_open_flag`` is an ``INSERT ... ON CONFLICT DO UPDATE`` on
that index, so two workers scoring the same post at once leave exactly one flag.
These helpers add to the caller's transaction; they never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from models import Decision, DecisionAction, Flag, FlagReason, FlagStatus, PolicyType, SubjectType, utcnow
from models.moderation import queue_key
from models.taxonomy import NOT_A_JOB

from . import bulk, locks, rollups, strikes
from .audit import SYSTEM, record

#: how bad each reason is when the detector is certain (scam hurts freelancers most)
SEVERITY: dict[str, float] = {
    FlagReason.scam: 1.0,
    FlagReason.policy: 0.75,
    FlagReason.negative_client: 0.6,
    FlagReason.miscategorised: 0.3,
}
#: priority of a client whose follow-up window passed without improvement
SUSPEND_RECOMMENDED_PRIORITY = 1000.0
SUSPEND_RECOMMENDED = "suspend recommended"


def base_priority(reason: str, score: float, *, exposure: float = 0.0) -> float:
    """0-100: severity x risk (up to 80) plus exposure (0-1, e.g. live time and reach; up
    to 20). Age is applied when the queue is read, so waiting items rise over time."""
    exposure = min(max(exposure, 0.0), 1.0)
    return round(SEVERITY.get(reason, 0.5) * max(min(score, 1.0), 0.0) * 80 + exposure * 20, 3)


@dataclass(frozen=True)
class Detection:
    """One detector's verdict on one subject, ready to become (or refresh) a flag."""

    reason: str
    score: float
    model_version: str | None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    policy_types: list[str] = field(default_factory=list)
    suggested_category: str | None = None
    priority: float = 0.0
    #: shown on a NEW flag (an open one keeps its own note)
    note: str | None = None


_UPSERTS: dict[tuple[str, bool], sa.Insert] = {}
#: the columns of a new flag row (``_row``), in the order a set-based upsert sends them
ROW_COLUMNS = ("subject_type", "subject_id", "client_id", "post_id", "reason", "score",
               "model_version", "evidence", "policy_types", "suggested_category", "status",
               "priority", "system_note", "claimed_by", "claimed_until", "version",
               "created_at", "updated_at", "closed_at", "queue_key", "strike_boost")
OPEN_KEY = ("subject_type", "subject_id", "reason")


def _upsert_statement(dialect: str, *, from_rows: bool = False) -> sa.Insert:
    """INSERT ... ON CONFLICT (the open-flag partial index) DO UPDATE, built once per
    dialect. A conflicting row refreshes the detector's output and bumps the version; a
    flag escalated to "suspend recommended" keeps its priority. ``from_rows``: the rows come
    from one JSON parameter (``bulk.recordset``; PostgreSQL), not from VALUES."""
    if (dialect, from_rows) not in _UPSERTS:
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Flag.__table__)
        if from_rows:
            rows = bulk.recordset(Flag.__table__, ROW_COLUMNS)
            insert = insert.from_select(ROW_COLUMNS, sa.select(*[rows.c[n] for n in ROW_COLUMNS]))
        excluded = insert.excluded
        table = Flag.__table__.c
        refreshed = {name: getattr(excluded, name) for name in (
            "score", "model_version", "evidence", "policy_types", "suggested_category",
            "updated_at")}
        kept = table.priority >= SUSPEND_RECOMMENDED_PRIORITY
        refreshed["priority"] = sa.case((kept, table.priority), else_=excluded.priority)
        refreshed["strike_boost"] = sa.case((kept, table.strike_boost),
                                            else_=excluded.strike_boost)
        # the sort key moves with the priority (created_at, hence the age term, stays)
        refreshed["queue_key"] = table.queue_key + (refreshed["priority"] - table.priority)
        refreshed["version"] = table.version + 1
        _UPSERTS[(dialect, from_rows)] = insert.on_conflict_do_update(
            index_elements=list(OPEN_KEY),
            index_where=sa.text("status = 'open'"),
            set_=refreshed,
        )
    return _UPSERTS[(dialect, from_rows)]


def _row(subject: dict[str, Any], detection: Detection, now: datetime,
         boost: float = 0.0) -> dict[str, Any]:
    priority = round(detection.priority + boost, 3)
    return dict(
        **subject, reason=detection.reason, score=detection.score,
        model_version=detection.model_version, evidence=detection.evidence,
        policy_types=detection.policy_types, suggested_category=detection.suggested_category,
        status=FlagStatus.open, priority=priority, system_note=detection.note,
        claimed_by=None,
        claimed_until=None, version=1, created_at=now, updated_at=now, closed_at=None,
        queue_key=queue_key(priority, now), strike_boost=boost)


def upsert_open_flags(session: Session, detections: list[tuple[dict[str, Any], Detection]]) -> None:
    """Many upserts in one statement (PostgreSQL: one set, see ``bulk``; SQLite: one
    executemany); ``detections`` pairs a subject dict (subject_type, subject_id,
    client_id, post_id) with a Detection."""
    if not detections:
        return
    now = utcnow()
    # a client's strikes raise the priority of their flags (services.strikes)
    boost = strikes.priority_boost(session, {s["client_id"] for s, _ in detections}, now=now)
    rows = [_row(subject, detection, now, boost.get(subject["client_id"], 0.0))
            for subject, detection in detections]
    dialect = session.get_bind().dialect.name
    subjects = [(s["subject_type"], s["subject_id"]) for s, _ in detections]
    before = _touch_open(session, subjects)
    if bulk.set_based(session):  # PostgreSQL
        written = session.execute(
            _upsert_statement(dialect, from_rows=True).returning(*_INSERTED),
            bulk.payload(bulk.last_per_key(rows, OPEN_KEY), ROW_COLUMNS)).all()
        rollups.created(session, [i for i, inserted in written if inserted])
    else:
        session.execute(_upsert_statement(dialect), rows)
        rollups.created(session, _open_ids(session, subjects) - before)


def upsert_open_flag(session: Session, *, subject_type: str, subject_id: int, client_id: int,
                     post_id: int | None, detection: Detection) -> int:
    """Create the open flag for (subject, reason), or refresh the one that exists.
    Returns the flag id. Safe under concurrency (the database arbitrates)."""
    subject = {"subject_type": subject_type, "subject_id": subject_id, "client_id": client_id,
               "post_id": post_id}
    before = _touch_open(session, [(subject_type, subject_id)])
    dialect = session.get_bind().dialect.name
    returning = _INSERTED if dialect == "postgresql" else (Flag.__table__.c.id, sa.true())
    now = utcnow()
    boost = strikes.priority_boost(session, [client_id], now=now).get(client_id, 0.0)
    flag_id, inserted = session.execute(_upsert_statement(dialect).returning(*returning).values(
        **_row(subject, detection, now, boost))).one()
    if inserted and flag_id not in before:
        rollups.created(session, [flag_id])
    return flag_id


def rerank(session: Session, client_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """A decision added or took away a strike of these clients (a removal, a suspension,
    their undo, an overturn, a QA correction): their open flags get the priority boost of
    the clients' standing now (``strikes.priority_boost``), as a flag scored now would, in
    the caller's transaction. Set-based: one UPDATE per distinct boost (one, for a single
    client), ``priority`` and the queue's sort key moved by the difference from the boost
    each flag carries (``strike_boost``). The version is not bumped: a re-rank changes no
    state a moderator's form was rendered from, so a claimed case keeps working. Flags at
    "suspend recommended" or held (priority at or over ``SUSPEND_RECOMMENDED_PRIORITY``) keep
    their priority, as the scoring upsert keeps it. The caller holds the clients' row locks
    (taken first: ``locks``), so two decisions on one client re-rank one after the other,
    the second with the first's strike. Returns how many flags moved."""
    ids = sorted({i for i in client_ids if i is not None})
    if not ids:
        return 0
    boost = strikes.priority_boost(session, ids, now=now or utcnow())
    by_boost: dict[float, list[int]] = {}
    for client_id in ids:
        by_boost.setdefault(boost.get(client_id, 0.0), []).append(client_id)
    moved = 0
    for value, clients in sorted(by_boost.items()):
        delta = sa.literal(value, sa.Float) - Flag.strike_boost
        moved += session.execute(
            sa.update(Flag).where(Flag.client_id.in_(clients), Flag.status == FlagStatus.open,
                                  Flag.strike_boost != value,
                                  Flag.priority < SUSPEND_RECOMMENDED_PRIORITY)
            .values(priority=Flag.priority + delta, queue_key=Flag.queue_key + delta,
                    strike_boost=value)
            .execution_options(synchronize_session=False)).rowcount
    return moved


def rerank_expired(session: Session, *, now: datetime | None = None, batch: int = 500) -> int:
    """Strikes also end without a decision: they expire (``STRIKE_EXPIRY_DAYS``). The sweep
    re-ranks the open flags that still carry a strike boost (``strike_boost > 0``) to their
    clients' standing now, ``batch`` clients per transaction, each batch's client rows locked
    first like a decision's (so a decision on one of them meanwhile re-ranks after it, with
    what it changed). Commits its batches; returns how many flags moved."""
    now = now or utcnow()
    clients = sorted(session.execute(
        sa.select(Flag.client_id).where(Flag.status == FlagStatus.open, Flag.strike_boost > 0,
                                        Flag.client_id.is_not(None)).distinct()).scalars())
    session.rollback()  # the read ends here: each batch is its own transaction
    moved = 0
    for start in range(0, len(clients), batch):
        chunk = clients[start:start + batch]
        locks.lock_clients(session, chunk)
        moved += rerank(session, chunk, now=now)
        session.commit()
    return moved


#: RETURNING of an upsert on PostgreSQL: the id, and whether the row was inserted (a row
#: another transaction inserted meanwhile is updated, and was counted by that one)
_INSERTED = (Flag.__table__.c.id, sa.literal_column("xmax") == sa.literal_column("0"))


def _open_ids(session: Session, subjects: list[tuple[str, int]]) -> set[int]:
    ids: set[int] = set()
    for kind in {t for t, _ in subjects}:
        wanted = sorted({i for t, i in subjects if t == kind})
        for start in range(0, len(wanted), 5000):
            ids.update(session.execute(sa.select(Flag.id).where(
                Flag.status == FlagStatus.open, Flag.subject_type == kind,
                Flag.subject_id.in_(wanted[start:start + 5000]))).scalars())
    return ids


def _touch_open(session: Session, subjects: list[tuple[str, int]]) -> set[int]:
    """Before an upsert refreshes the open flags of these subjects (their policy types
    count on the dashboard): remember what they count; returns their ids."""
    ids = _open_ids(session, subjects)
    rollups.touch(session, ids)
    return ids


def open_flag(session: Session, subject_type: str, subject_id: int, reason: str) -> Flag | None:
    return session.exec(select(Flag).where(
        Flag.subject_type == subject_type, Flag.subject_id == subject_id,
        Flag.reason == reason, Flag.status == FlagStatus.open)).first()


def clear_below_threshold(session: Session, flag: Flag, *, score: float, model_version: str | None,
                          now: datetime | None = None) -> str:
    """The detector no longer fires for a flagged subject (e.g. the post was edited).

    An unclaimed flag is dismissed by the system (audited). A flag a moderator has claimed
    is never closed under them: it stays open with a note and the new score. Written only
    if the flag is still open at the version read (the version-checked path every flag
    write takes): a decision that got there first is kept, and this returns "changed"."""
    now = now or utcnow()
    claimed = flag.claimed_by is not None and (flag.claimed_until is None or flag.claimed_until > now)
    note = (f"Score fell to {score:.2f} (below threshold) with model {model_version} "
            f"at {now:%Y-%m-%d %H:%M} UTC")
    before = {"status": flag.status, "score": flag.score}
    values: dict[str, Any] = {"score": score, "model_version": model_version, "updated_at": now}
    if claimed:
        values["system_note"] = note + "; left open because a moderator has claimed it."
        outcome = "noted"
    else:
        values.update(status=FlagStatus.dismissed, closed_at=now,
                      system_note=note + "; dismissed automatically.")
        outcome = "dismissed"
    rollups.touch(session, [flag.id])
    result = session.execute(
        sa.update(Flag).where(Flag.id == flag.id, Flag.version == flag.version,
                              Flag.status == FlagStatus.open)
        .values(version=Flag.version + 1, **values)
        .execution_options(synchronize_session=False))
    session.expire(flag)
    if result.rowcount != 1:
        return "changed"
    record(session, actor=SYSTEM, action=f"flag.auto_{outcome}", subject_type="flag",
           subject_id=flag.id, before=before,
           after={"status": values.get("status", FlagStatus.open), "score": score})
    return outcome


def flag_edited_after_removal(session: Session, posts: list[tuple[int, int]]) -> None:
    """The marketplace edited removed posts (``(post id, client id)`` pairs): each gets an
    open flag for a moderator to look at again, instead of the new text silently replacing
    what was judged (the decision keeps that: its ``details["judged"]``, which the case
    page shows beside the live text). The reason is the removal's: a scam, or the policy
    type it was removed for, a self-ad (removed as not a job: miscategorised, suggesting "not a
    job"), or a scam (also a post taken down with its suspended client)."""
    if not posts:
        return
    ids = [post_id for post_id, _ in posts]
    latest: dict[int, Decision] = {}
    for decision in session.exec(
            select(Decision).where(bulk.among_ids(Decision.post_id, ids, bulk.set_based(session)),
                                   Decision.action == DecisionAction.remove,
                                   Decision.undone_at.is_(None))
            .order_by(Decision.id.desc())):
        latest.setdefault(decision.post_id, decision)
    detections = []
    for post_id, client_id in posts:
        decision = latest.get(post_id)
        code = (decision.details or {}).get("reason_code") if decision else None
        # a self-ad taken down from the jobs section is looked at again as one (not as a scam)
        reason = (FlagReason.policy if code in set(PolicyType) else
                  FlagReason.miscategorised if code == NOT_A_JOB else FlagReason.scam)
        when = f"decision {decision.id} on {decision.created_at:%Y-%m-%d %H:%M} UTC" \
            if decision else "its removal"
        detections.append(({"subject_type": SubjectType.post, "subject_id": post_id,
                            "client_id": client_id, "post_id": post_id}, Detection(
            reason=reason, score=1.0, model_version=None,
            policy_types=[code] if reason == FlagReason.policy else [],
            suggested_category=NOT_A_JOB if reason == FlagReason.miscategorised else None,
            note=(f"Edited by the marketplace after it was removed ({when}): the post stays "
                  "removed; compare what was judged with the new text."),
            priority=base_priority(reason, 1.0))))
    upsert_open_flags(session, detections)
