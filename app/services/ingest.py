"""Ingest: the marketplace's clients, job posts and feedback, upserted by external id.

Every entry point (one API ``PUT``, an API batch, a chunk of a bulk import) goes through
the same three set-based writers, so a single item and 500 imported rows behave alike:

- one ``SELECT ... WHERE external_id IN (...)`` finds what exists; new rows are inserted
  with one executemany, changed rows updated with one executemany, unchanged rows are
  not touched at all;
- a post whose content hash (``post_content_hash``) changed, and every new post, is
  marked unscored (``scored_at``/``model_version`` cleared) and handed to
  ``enqueue.score_posts`` *once per call*, before the commit (dispatch happens after it);
- new or changed feedback rescored its client through ``enqueue.score_client`` (the
  clients of a chunk of many: one ``enqueue.score_clients`` job);
- a client whose scored facts changed (``CLIENT_SCORED``: payment verification and
  account age, which the scorer takes with every post) has its posts that are not removed
  marked unscored and rescored, in one batch job per call. (The shipped models leave these
  facts out - see docs/classifiers.md - but a model that reads them must never be left
  with the old ones.)

Ingest never changes a post's or client's moderation ``status``: a new post is ``live``,
an existing post keeps its status (so a ``removed`` post stays removed when edited), and a
post from a suspended client is stored like any other (the scorer decides). An edit to a
removed post is stored and opens a flag for review (``flags.flag_edited_after_removal``):
the removal decision keeps the content that was judged.

Callers pass *validated* fields (see ``app/api/schemas.py``; datetimes are UTC-aware)
as mappings, each keyed by the caller's own label for error messages: ``posts[3]`` for
an API batch, a line number for an import, ``""`` for a single ``PUT``. References
that cannot be resolved (an unknown client) are reported per item, never raised raw.

Audit: ingest is the marketplace's own data arriving, not a moderation decision, and a
bulk import writes 100k rows: one audit event per row would drown the log the
moderators read. So single ``PUT``s are not audited (the rows carry ``created_at``/
``updated_at`` and the token its ``last_used_at``); an API batch writes one coarse
``api.batch`` event with its counts, and a bulk import one ``import.<kind>`` event.
"""
from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import (Client, ClientStatus, Feedback, Flag, JobPost, PostSimilarityKey, PostStatus,
                    utcnow)

from ..jobs import enqueue
from . import ServiceError, bulk, flags, notices, statistics
from .audit import Actor, record
from .content import post_content_hash

Kind = Literal["clients", "posts", "feedback"]
KINDS: tuple[Kind, ...] = ("clients", "posts", "feedback")
Key = str | int
Record = tuple[Key, Mapping[str, Any]]
T = TypeVar("T")

CLIENT_FIELDS = ("name", "country", "joined_at", "payment_verified", "phone_verified",
                 "identity_verified")
#: client fields the scorer takes with each post: a change means rescoring the client's posts
CLIENT_SCORED = ("payment_verified", "joined_at")
POST_FIELDS = ("title", "description", "category", "skills", "budget", "posted_at")
FEEDBACK_FIELDS = ("rating", "comment", "created_at", "freelancer_ref", "contract_ref")
#: feedback fields the negativity model reads: a change means rescoring the client
FEEDBACK_SCORED = ("rating", "comment", "created_at")


class IngestRejected(ServiceError):
    """The input refers to things that do not exist (or repeats itself): nothing written."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("validation failed")
        self.fields = fields


@dataclass
class Written:
    """What happened to one item."""

    id: int
    result: Literal["created", "updated", "unchanged"]


@dataclass
class Outcome:
    """What happened to a set of items, keyed by the caller's labels."""

    written: dict[Key, Written] = field(default_factory=dict)
    rejected: dict[Key, dict[str, str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {"created": 0, "updated": 0, "unchanged": 0}
        for w in self.written.values():
            out[w.result] += 1
        return out

    def rejected_paths(self) -> dict[str, str]:
        """Flattened messages: ``{"posts[3].client_id": "unknown client 'c9'"}``."""
        return {(f"{key}.{name}" if key != "" else name): message
                for key, fields in self.rejected.items() for name, message in fields.items()}


# --- public use cases (each commits once) ------------------------------------------------

def upsert_client(session: Session, *, external_id: str, fields: Mapping[str, Any]) -> Written:
    """Create or update one client."""
    return _single(session, _write_clients, external_id, fields)


def upsert_post(session: Session, *, external_id: str, fields: Mapping[str, Any]) -> Written:
    """Create or update one post; rescored after the commit if its content changed."""
    return _single(session, _write_posts, external_id, fields)


def upsert_feedback(session: Session, *, external_id: str, fields: Mapping[str, Any]) -> Written:
    """Create or update one feedback; its client is rescored if it is new or changed."""
    return _single(session, _write_feedback, external_id, fields)


def ingest_batch(session: Session, *, clients: Sequence[Mapping[str, Any]] = (),
                 posts: Sequence[Mapping[str, Any]] = (),
                 feedback: Sequence[Mapping[str, Any]] = (),
                 actor: Actor) -> dict[Kind, dict[str, int]]:
    """Write clients, then posts, then feedback in ONE transaction: all or nothing.

    Posts and feedback may name clients created earlier in the same batch. Any rejected
    item rolls everything back and raises IngestRejected with every item's messages."""
    def attempt() -> dict[Kind, dict[str, int]]:
        outcomes: dict[Kind, Outcome] = {}
        for kind, items in (("clients", clients), ("posts", posts), ("feedback", feedback)):
            records = [(f"{kind}[{i}]", item) for i, item in enumerate(items)]
            outcomes[kind] = WRITERS[kind](session, records)
        errors = {k: v for o in outcomes.values() for k, v in o.rejected_paths().items()}
        if errors:
            session.rollback()
            raise IngestRejected(errors)
        counts = {kind: o.counts() for kind, o in outcomes.items()}
        record(session, actor=actor, action="api.batch", subject_type="batch",
               subject_id=uuid.uuid4().hex, after=counts)
        session.commit()
        return counts

    return _retry_on_race(session, attempt)


def import_chunk(session: Session, *, kind: Kind, records: Sequence[Record]) -> Outcome:
    """One chunk of a bulk import: the good rows are written and committed, the rest
    come back in ``Outcome.rejected`` (keyed by the caller's line numbers)."""
    outcome = _retry_on_race(session, lambda: WRITERS[kind](session, records))
    session.commit()
    return outcome


def record_import(session: Session, *, kind: Kind, source: str, counts: Mapping[str, int],
                  actor: Actor) -> None:
    """The one audit event of a finished bulk import."""
    record(session, actor=actor, action=f"import.{kind}", subject_type="import",
           subject_id=uuid.uuid4().hex, after={"source": source[:200], **counts})
    session.commit()


#: the tables an import of each kind writes, itself or by the scoring it starts
WRITTEN_TABLES: dict[Kind, tuple[sa.Table, ...]] = {
    "clients": (Client.__table__,),
    "posts": (JobPost.__table__, Flag.__table__, PostSimilarityKey.__table__),
    "feedback": (Feedback.__table__, Flag.__table__),
}


def refresh_statistics(session: Session, *, kind: Kind, written: int) -> bool:
    """After an import (and the scoring beside it) wrote ``written`` rows: refresh the
    planner statistics of the tables it wrote, if that many rows can change a plan (see
    ``statistics``). Commits. Returns whether it did."""
    if written < statistics.AFTER_ROWS:
        return False
    statistics.refresh(session, WRITTEN_TABLES[kind])
    return True


def has_clients(session: Session) -> bool:
    return session.exec(select(Client.id).limit(1)).first() is not None


# --- plumbing --------------------------------------------------------------------------------

def _single(session: Session, writer: Callable[[Session, Sequence[Record]], Outcome],
            external_id: str, fields: Mapping[str, Any]) -> Written:
    def attempt() -> Written:
        outcome = writer(session, [("", {**fields, "external_id": external_id})])
        if outcome.rejected:
            session.rollback()
            raise IngestRejected(outcome.rejected_paths())
        session.commit()
        return outcome.written[""]

    return _retry_on_race(session, attempt)


def _retry_on_race(session: Session, attempt: Callable[[], T]) -> T:
    """Two writers inserting the same new external id: the loser retries once, and then
    finds the row and updates it."""
    try:
        return attempt()
    except IntegrityError:
        session.rollback()
        return attempt()


def _duplicates(records: Sequence[Record]) -> dict[Key, dict[str, str]]:
    first: dict[str, Key] = {}
    rejected: dict[Key, dict[str, str]] = {}
    for key, item in records:
        ext = item["external_id"]
        if ext in first:
            where = f" (also at {first[ext]})" if isinstance(first[ext], str) else \
                f" (also on line {first[ext]})"
            rejected[key] = {"external_id": f"duplicate external_id{where}"}
        else:
            first[ext] = key
    return rejected


def _client_ids(session: Session, external_ids: set[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = session.execute(select(Client.external_id, Client.id).where(
        bulk.among(Client.external_id, sorted(external_ids), bulk.set_based(session))))
    return {ext: cid for ext, cid in rows}


def _existing(session: Session, model: type, columns: Sequence[str],
              external_ids: list[str]) -> dict[str, Any]:
    if not external_ids:
        return {}
    cols = [getattr(model, c) for c in ("id", "external_id", *columns)]
    rows = session.execute(select(*cols).where(
        bulk.among(model.external_id, external_ids, bulk.set_based(session))))
    return {row.external_id: row for row in rows}


def _insert(session: Session, model: type, rows: list[dict[str, Any]],
            shared: Mapping[str, Any]) -> dict[str, int]:
    """Insert many rows (all with the same keys, plus the ``shared`` values every row takes)
    with one statement; returns external_id -> new id. On PostgreSQL the rows go as one JSON
    parameter and the shared values once each (``bulk.insert_returning``)."""
    if not rows:
        return {}
    if bulk.set_based(session):
        names = tuple(rows[0])
        given, nulls, params = bulk.split_shared(shared)
        statement = bulk.insert_returning(model.__table__, names, ("id", "external_id"),
                                          given, nulls)
        result = session.execute(statement, {**bulk.payload(rows, names), **params})
    else:
        # the driver's executemany, then the new ids by external id (unique; this transaction's
        # rows): on SQLite an INSERT ... RETURNING of many rows goes through SQLAlchemy's
        # "insertmanyvalues", one multi-row statement rebuilt per chunk, ~2x the bare insert
        session.execute(model.__table__.insert(), [{**row, **shared} for row in rows])
        result = session.execute(select(model.id, model.external_id).where(
            model.external_id.in_([row["external_id"] for row in rows])))
    return {ext: new_id for new_id, ext in result}


def _update(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(update(model), rows)  # ORM bulk UPDATE by primary key


def _resolve_clients(session: Session, records: Sequence[Record],
                     rejected: dict[Key, dict[str, str]]) -> dict[str, int]:
    """External client ids -> ids; unknown ones are rejected per item."""
    ids = _client_ids(session, {item["client_id"] for key, item in records if key not in rejected})
    for key, item in records:
        if key not in rejected and item["client_id"] not in ids:
            rejected[key] = {"client_id": f"unknown client {item['client_id']!r}"}
    return ids


# --- writers: no commit; the use case above commits ---------------------------------------------

def _write_clients(session: Session, records: Sequence[Record]) -> Outcome:
    now = utcnow()
    out = Outcome(rejected=_duplicates(records))
    todo = [(k, item) for k, item in records if k not in out.rejected]
    existing = _existing(session, Client, CLIENT_FIELDS, [i["external_id"] for _, i in todo])
    inserts: list[tuple[Key, dict[str, Any]]] = []
    updates: list[dict[str, Any]] = []
    rescored: list[int] = []
    for key, item in todo:
        values = {f: item.get(f) for f in CLIENT_FIELDS}
        for flag in ("payment_verified", "phone_verified", "identity_verified"):
            values[flag] = bool(values[flag])
        old = existing.get(item["external_id"])
        if old is None:
            inserts.append((key, {**values, "external_id": item["external_id"]}))
        elif any(getattr(old, f) != v for f, v in values.items()):
            updates.append({"id": old.id, **values, "updated_at": now})
            out.written[key] = Written(old.id, "updated")
            if any(getattr(old, f) != values[f] for f in CLIENT_SCORED):
                rescored.append(old.id)
        else:
            out.written[key] = Written(old.id, "unchanged")
    new_ids = _insert(session, Client, [v for _, v in inserts], {
        "status": ClientStatus.active.value, "created_at": now, "updated_at": now})
    _update(session, Client, updates)
    _rescore_posts_of(session, rescored, now)
    for key, values in inserts:
        out.written[key] = Written(new_ids[values["external_id"]], "created")
    return out


def _write_posts(session: Session, records: Sequence[Record]) -> Outcome:
    now = utcnow()
    out = Outcome(rejected=_duplicates(records))
    clients = _resolve_clients(session, records, out.rejected)
    todo = [(k, item) for k, item in records if k not in out.rejected]
    existing = _existing(session, JobPost, ("client_id", "content_hash", "posted_at", "status"),
                         [i["external_id"] for _, i in todo])
    inserts: list[tuple[Key, dict[str, Any]]] = []
    updates: list[dict[str, Any]] = []
    rescore: list[tuple[int, str]] = []
    edited_removed: list[tuple[int, int]] = []
    for key, item in todo:
        values = {f: item.get(f) for f in POST_FIELDS}
        values["skills"] = list(values["skills"] or [])
        values["budget"] = None if values["budget"] is None else float(values["budget"])
        content_hash = post_content_hash(**{f: values[f] for f in
                                            ("title", "description", "category", "skills",
                                             "budget")})
        client_id = clients[item["client_id"]]
        old = existing.get(item["external_id"])
        if old is None:
            inserts.append((key, {**values, "external_id": item["external_id"],
                                  "client_id": client_id, "content_hash": content_hash}))
        elif old.content_hash != content_hash:
            updates.append({"id": old.id, **values, "client_id": client_id,
                            "content_hash": content_hash, "scored_at": None,
                            "model_version": None, "updated_at": now})
            rescore.append((old.id, content_hash))
            if old.status == PostStatus.removed:
                edited_removed.append((old.id, client_id))
            out.written[key] = Written(old.id, "updated")
        elif old.client_id != client_id or old.posted_at != values["posted_at"]:
            updates.append({"id": old.id, "client_id": client_id,
                            "posted_at": values["posted_at"], "updated_at": now})
            out.written[key] = Written(old.id, "updated")
        else:
            out.written[key] = Written(old.id, "unchanged")
    new_ids = _insert(session, JobPost, [v for _, v in inserts], {
        "status": PostStatus.live.value, "scores": None, "scored_at": None,
        "model_version": None, "created_at": now, "updated_at": now})
    _update(session, JobPost, updates)
    flags.flag_edited_after_removal(session, edited_removed)
    for key, values in inserts:
        post_id = new_ids[values["external_id"]]
        out.written[key] = Written(post_id, "created")
        rescore.append((post_id, values["content_hash"]))
    _write_contacts(session, todo, out)
    enqueue.score_posts(session, rescore)  # one job for the whole set (vectorised once)
    return out


def _write_contacts(session: Session, todo: Sequence[Record], out: Outcome) -> None:
    """Posts that came with a ``contacts`` list: it replaces their freelancer contacts
    (an otherwise unchanged post whose contacts changed is "updated")."""
    for key, item in todo:
        contacts = item.get("contacts")
        if contacts is None:
            continue
        written = out.written[key]
        if notices.replace_contacts(session, written.id, contacts) and written.result == "unchanged":
            out.written[key] = Written(written.id, "updated")


def _rescore_posts_of(session: Session, client_ids: list[int], now: datetime) -> None:
    """Mark these clients' posts unscored (a removed post is never flagged: left alone) and
    score them after the commit. ``updated_at`` moves too, so a scoring job that read such
    a post before this change does not write its now stale score (see scoring)."""
    if not client_ids:
        return
    table = JobPost.__table__
    posts = session.execute(
        table.update()
        .where(table.c.client_id.in_(client_ids), table.c.status != PostStatus.removed.value)
        .values(scored_at=None, model_version=None, updated_at=now)
        .returning(table.c.id, table.c.content_hash)).all()
    # the same content as an earlier job's: a marker of this change keeps the job id new
    enqueue.score_posts(session, sorted((row.id, row.content_hash) for row in posts),
                     marker=f"clients-{_digest(sorted(client_ids))}-{now.isoformat()}")


def _write_feedback(session: Session, records: Sequence[Record]) -> Outcome:
    """Feedback has no updated_at: its created_at is the marketplace's own timestamp."""
    out = Outcome(rejected=_duplicates(records))
    clients = _resolve_clients(session, records, out.rejected)
    todo = [(k, item) for k, item in records if k not in out.rejected]
    existing = _existing(session, Feedback, ("client_id", *FEEDBACK_FIELDS),
                         [i["external_id"] for _, i in todo])
    inserts: list[tuple[Key, dict[str, Any]]] = []
    updates: list[dict[str, Any]] = []
    touched: dict[int, list[tuple[str, str]]] = defaultdict(list)  # client id -> changes
    for key, item in todo:
        values = {f: item.get(f) for f in FEEDBACK_FIELDS}
        values["comment"] = values["comment"] or ""
        client_id = clients[item["client_id"]]
        digest = _digest(values[f] for f in FEEDBACK_SCORED)
        old = existing.get(item["external_id"])
        if old is None:
            inserts.append((key, {**values, "external_id": item["external_id"],
                                  "client_id": client_id}))
            touched[client_id].append((item["external_id"], digest))
            continue
        scored_change = (old.client_id != client_id
                         or any(getattr(old, f) != values[f] for f in FEEDBACK_SCORED))
        if scored_change:
            updates.append({"id": old.id, **values, "client_id": client_id,
                            "negative": None, "scored_at": None})
            touched[client_id].append((item["external_id"], digest))
            if old.client_id != client_id:
                touched[old.client_id].append((item["external_id"], "moved"))
            out.written[key] = Written(old.id, "updated")
        elif any(getattr(old, f) != values[f] for f in ("freelancer_ref", "contract_ref")):
            updates.append({"id": old.id, "freelancer_ref": values["freelancer_ref"],
                            "contract_ref": values["contract_ref"]})
            out.written[key] = Written(old.id, "updated")
        else:
            out.written[key] = Written(old.id, "unchanged")
    new_ids = _insert(session, Feedback, [v for _, v in inserts],
                      {"negative": None, "scored_at": None})
    _update(session, Feedback, updates)
    for key, values in inserts:
        out.written[key] = Written(new_ids[values["external_id"]], "created")
    if len(touched) == 1:
        [(client_id, changes)] = touched.items()
        enqueue.score_client(session, client_id, marker=_digest(sorted(changes)))
    elif touched:  # a chunk of an import or a batch: one job scores all its clients at once
        enqueue.score_clients(session, sorted(touched), marker=_digest(sorted(
            (client_id, change) for client_id, changes in touched.items() for change in changes)))
    return out


def _digest(parts: Any) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


WRITERS: dict[Kind, Callable[[Session, Sequence[Record]], Outcome]] = {
    "clients": _write_clients, "posts": _write_posts, "feedback": _write_feedback}
