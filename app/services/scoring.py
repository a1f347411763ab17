"""Scoring use cases: run the detectors over stored posts and clients and fill the queue.

Both are idempotent: a post already scored for its current content by the active models
is skipped, and flags are upserted (one open flag per subject and reason), so a job that
runs twice - a retry, a duplicate after a crash, two workers at once - changes nothing
the second time. Each call commits once.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from flask import current_app, has_app_context
from sqlmodel import Session, select

from classifiers import FeedbackInput, FeedbackPoint, PostInput, client_negativity
from classifiers.client_negativity import VERSION as NEGATIVITY_VERSION
from models import (Client, ClientStatus, Decision, DecisionAction, Feedback, Flag, FlagReason,
                    FlagStatus, JobPost, Outreach, OutreachOutcome, PostStatus, SubjectType,
                    utcnow)
from models.taxonomy import category_label

from . import bulk, holds, locks, shadow, similar
from . import flags as flag_service
from .flags import Detection

POST_REASONS = (FlagReason.scam, FlagReason.miscategorised, FlagReason.policy)
#: the feedback history a client's score looks at (the detector windows it further)
CLIENT_HISTORY_LIMIT = 200
CHUNK = 500
#: how far back from the newest post a job looks for other waiting posts (x its coalesce)
COALESCE_WINDOW = 4


def get_scorer():
    """The active trained models, loaded once per process (see classifiers.load_scorer;
    imported here, on first use: the scorer's libraries take seconds to import, which a
    console process that never scores should not pay at start-up)."""
    from classifiers.scorer import load_scorer

    model_dir = current_app.config.get("MODEL_DIR") if has_app_context() else None
    return load_scorer(model_dir)


def get_feedback_scorer():
    """The active feedback model alone (classifiers.feedback_scorer): what scoring clients'
    feedback reads. A feedback import, a client's rescoring or a follow-up re-check loads
    neither the post models nor their rule prefilter (a process that has the whole scorer
    shares its feedback bundle)."""
    from classifiers.feedback_scorer import load_feedback_scorer

    model_dir = current_app.config.get("MODEL_DIR") if has_app_context() else None
    return load_feedback_scorer(model_dir)


def combined_version(versions: dict[str, str], names: Sequence[str]) -> str:
    """One version label for several detectors (fits the 64-character column)."""
    parts = sorted({versions[n] for n in names})
    if len(parts) == 1:
        return parts[0][:64]
    # "<detector>-<stamp>": one training run shows as its stamp
    stamps = {versions[n].split("-", 1)[-1] for n in names}
    if len(stamps) == 1:
        return stamps.pop()[:64]
    return "mixed-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _exposure(post: sa.Row, now: datetime) -> float:
    """0-1: how much harm a live post can still do - time live (saturating at three
    days) and reach, approximated by budget (bigger budgets draw more applicants)."""
    if post.status != PostStatus.live:
        return 0.0
    hours_live = max((now - post.posted_at).total_seconds() / 3600, 0.0)
    reach = min((post.budget or 0.0) / 2000.0, 1.0)
    return 0.6 * min(hours_live / 72.0, 1.0) + 0.4 * reach


def _account_age_days(joined_at: datetime | None, now: datetime) -> float | None:
    return None if joined_at is None else max((now - joined_at).days, 0)


def score_posts(session: Session, post_ids: Sequence[int], *, coalesce: int = 0) -> dict[str, int]:
    """Score these posts (in chunks, vectorised per chunk) and upsert their flags.
    Commits each chunk; every chunk is idempotent, so a rerun redoes only the rest.

    ``coalesce``: also score up to that many other posts still waiting to be scored.
    Under load, single-post jobs pile up; the first one to run scores the waiting posts
    in one vectorised batch and their own jobs then find nothing left to do."""
    scorer = get_scorer()
    version = combined_version(scorer.versions, POST_REASONS)
    stats = {"scored": 0, "skipped": 0, "flagged": 0, "cleared": 0}
    ids = sorted(set(post_ids))
    if coalesce and len(ids) < CHUNK:
        ids = sorted({*ids, *_waiting(session, exclude=ids, limit=coalesce)})
    for start in range(0, len(ids), CHUNK):
        _score_chunk(session, scorer, version, ids[start:start + CHUNK], stats)
        session.commit()  # per chunk: a job killed mid-batch keeps what it finished
    return stats


def active_post_version() -> str:
    """The version label scoring writes on posts with the active models."""
    return combined_version(get_scorer().versions, POST_REASONS)


def active_client_version() -> str:
    """The version label scoring writes on clients with the active models."""
    return client_version(get_feedback_scorer())


def stale_posts(session: Session, version: str) -> list[tuple[int, str]]:
    """``(id, content hash)`` of the posts not scored by ``version`` (another model
    version's scores, or none yet), oldest first; removed posts are left alone (never
    flagged). A scan of job_post: for ``flask models rescore``, after new models."""
    return [tuple(row) for row in session.execute(
        select(JobPost.id, JobPost.content_hash)
        .where(JobPost.status != PostStatus.removed,
               sa.or_(JobPost.scored_at.is_(None), JobPost.model_version.is_(None),
                      JobPost.model_version != version))
        .order_by(JobPost.id))]


def _waiting(session: Session, *, exclude: list[int], limit: int) -> list[int]:
    """Up to ``limit`` unscored posts, oldest first, among the newest ``COALESCE_WINDOW``
    x ``limit`` posts: where a burst of new posts waits, read backwards along the primary
    key. (No index on scored_at - see models.marketplace.JOB_POST_FILLFACTOR - so not a
    search of the whole table; an older post waits for its own job or the sweep.)"""
    newest = (select(JobPost.id, JobPost.scored_at).order_by(JobPost.id.desc())
              .limit(COALESCE_WINDOW * limit).subquery())
    return list(session.exec(select(newest.c.id).where(newest.c.scored_at.is_(None),
                                                       newest.c.id.not_in(exclude))
                             .order_by(newest.c.id).limit(limit)).all())


_POST_COLUMNS = (JobPost.id, JobPost.client_id, JobPost.title, JobPost.description, JobPost.category,
                 JobPost.skills, JobPost.budget, JobPost.content_hash, JobPost.status,
                 JobPost.posted_at, JobPost.scored_at, JobPost.model_version, JobPost.updated_at)


def _client_fact(column: sa.Column) -> sa.Label:
    """``column`` of the post's client, looked up by its primary key (see ``chunk_read``)."""
    return (select(column).where(Client.id == JobPost.client_id)
            .scalar_subquery().label(column.key))


_CLIENT_FACTS = (_client_fact(Client.payment_verified), _client_fact(Client.joined_at))


def chunk_read(ids: list[int], set_based: bool) -> sa.Select:
    """The posts a scoring chunk reads, with their clients' facts: each fact a lookup of the
    post's client by primary key, not a join. Right after migrating, PostgreSQL has no
    statistics, and a bulk import scores its first chunks before autovacuum has analysed
    anything: the planner takes a chunk's posts for two rows and the clients for a few
    dozen, and a join became a scan of every client compared with every post of the chunk
    (500 x 1,000 comparisons, ~50 ms a chunk; growing with the clients)."""
    return select(*_POST_COLUMNS, *_CLIENT_FACTS).where(bulk.among_ids(JobPost.id, ids, set_based))


def _score_chunk(session: Session, scorer, version: str, ids: list[int], stats: dict) -> None:
    set_based = bulk.set_based(session)
    # plain column rows, read fresh from the database (no ORM objects to build or refresh):
    # scoring only reads them; what it writes goes through set-based statements below
    rows = session.execute(chunk_read(ids, set_based)).all()
    todo = [row for row in rows if row.scored_at is None or row.model_version != version]
    stats["skipped"] += len(ids) - len(todo)
    if not todo:
        return
    now = utcnow()
    inputs = [
        PostInput(id=str(post.id), title=post.title, description=post.description,
                  category=post.category, skills=post.skills, budget=post.budget,
                  client_payment_verified=post.payment_verified,
                  client_account_age_days=_account_age_days(post.joined_at, now))
        for post in todo
    ]
    results = scorer.score_posts(inputs)
    # before the first write (see similar.IndexRows): the similar-posts index rows
    index_rows = similar.index_rows([(post.id, post.title, post.description) for post in todo])
    # the client level of the lock order, before the posts' locks: the clients whose posts
    # may get a flag opened, for the flag's search text (locks.hold_client_names)
    locks.hold_client_names(session, [post.client_id for post, result in zip(todo, results)
                                      if result.flags and post.status != PostStatus.removed])
    written = _store_scores(session, todo, results, now, version)
    open_flags = {(flag.subject_id, flag.reason): flag for flag in session.exec(
        select(Flag).where(Flag.subject_type == SubjectType.post,
                           bulk.among_ids(Flag.subject_id, ids, set_based),
                           Flag.status == FlagStatus.open))}
    moved_back = _moved_back(session, [
        post for post, result in zip(todo, results, strict=True)
        if post.id in written and FlagReason.miscategorised in result.flags])
    detections = []
    for post, result in zip(todo, results, strict=True):
        if post.id not in written:
            stats["skipped"] += 1
            continue
        stats["scored"] += 1
        detections += _post_detections(session, post, result, now, open_flags, stats,
                                       note=moved_back.get(post.id))
    # the automation tiers: no new flag under ``shadow``, a hold under ``hold``
    detections, planned = holds.route(session, detections, {post.id: post for post in todo},
                                      set(open_flags), stats)
    flag_service.upsert_open_flags(session, detections)
    holds.hold_posts(session, planned, now=now)
    # a shadow candidate scores the same posts beside the active models (no flags)
    pairs = [(i, r) for i, r in zip(inputs, results, strict=True) if int(i.id) in written]
    shadow.score_beside(session, [i for i, _ in pairs], [r for _, r in pairs])
    # the similar-posts index follows the scored content
    similar.write_index(session, index_rows.only(written))


#: what a score write sends per post: the row it read (the guard) and the scores
SCORE_COLUMNS = ("id", "content_hash", "updated_at", "scores")


@functools.cache
def _score_update(set_based: bool) -> sa.Update:
    """The score write, guarded by the row the job read: a post edited while we scored it
    (content hash), or whose client's scored facts changed (updated_at, see ingest), keeps
    its new state unscored, for its own job (which has a new id). ``set_based``: all rows
    in one statement from ``bulk.recordset`` (PostgreSQL), returning the ids it wrote."""
    table = JobPost.__table__
    if set_based:
        rows = bulk.recordset(table, SCORE_COLUMNS)
        return (table.update()
                .where(table.c.id == rows.c.id, table.c.content_hash == rows.c.content_hash,
                       table.c.updated_at == rows.c.updated_at)
                .values(scores=rows.c.scores, scored_at=sa.bindparam("now"),
                        model_version=sa.bindparam("version"))
                .returning(table.c.id))
    return (table.update()
            .where(table.c.id == sa.bindparam("b_id"),
                   table.c.content_hash == sa.bindparam("b_hash"),
                   table.c.updated_at == sa.bindparam("b_updated"))
            .values(scores=sa.bindparam("b_scores"), scored_at=sa.bindparam("now"),
                    model_version=sa.bindparam("version")))


@functools.cache
def _lock_in_order() -> sa.Select:
    """``SELECT id FROM job_post WHERE id = ANY(:lock_ids) ORDER BY id FOR UPDATE``: the
    posts' row locks, taken in id order (the order of every writer: docs/concurrency.md)."""
    table = JobPost.__table__
    return (sa.select(table.c.id)
            .where(table.c.id == sa.any_(sa.bindparam("lock_ids", type_=postgresql.ARRAY(
                table.c.id.type))))
            .order_by(table.c.id).with_for_update(key_share=True))


def _store_scores(session: Session, todo: list, results: list, now: datetime,
                  version: str) -> set[int]:
    """Write each post's scores (see ``_score_update``); returns the ids written."""
    rows = [{"id": post.id, "content_hash": post.content_hash, "updated_at": post.updated_at,
             "scores": {**result.scores, "policy_types": result.policy_types,
                        "predicted_category": result.predicted_category}}
            for post, result in zip(todo, results, strict=True)]
    if bulk.set_based(session):
        # the rows' locks in id order first: the update takes them in its plan's order (a
        # hash join: the table's; a nested loop: the rows'), and two workers writing the
        # same posts in two orders deadlocked. (SQLite: one writer at a time anyway.)
        session.execute(_lock_in_order(), {"lock_ids": sorted(r["id"] for r in rows)})
        return set(session.execute(_score_update(True), {
            **bulk.payload(rows, SCORE_COLUMNS), "now": now, "version": version}).scalars())
    session.execute(_score_update(False), [
        {"b_id": r["id"], "b_hash": r["content_hash"], "b_updated": r["updated_at"],
         "b_scores": r["scores"], "now": now, "version": version} for r in rows])
    table = JobPost.__table__
    read = {r["id"]: (r["content_hash"], r["updated_at"]) for r in rows}
    return {row.id for row in session.execute(
        sa.select(table.c.id, table.c.content_hash, table.c.updated_at)
        .where(table.c.id.in_(list(read))))
        if read[row.id] == (row.content_hash, row.updated_at)}


def _moved_back(session: Session, posts: list) -> dict[int, str]:
    """For posts about to be flagged as miscategorised: a note where a moderator had moved
    the post out of the category it is in again (the marketplace sent the old category
    back - not synced yet, or the client moved it back), so the new flag says so."""
    if not posts:
        return {}
    latest: dict[int, Decision] = {}
    for decision in session.exec(
            select(Decision).where(bulk.among_ids(Decision.post_id, [p.id for p in posts],
                                                  bulk.set_based(session)),
                                   Decision.action == DecisionAction.recategorise,
                                   Decision.undone_at.is_(None))
            .order_by(Decision.id.desc())):
        latest.setdefault(decision.post_id, decision)
    notes = {}
    for post in posts:
        decision = latest.get(post.id)
        details = (decision.details or {}) if decision else {}
        # (a recategorisation always moves to another category: to != from)
        if decision and post.category and details.get("from") == post.category:
            notes[post.id] = (
                f"A moderator moved this post to {category_label(details.get('to'))} on "
                f"{decision.created_at:%Y-%m-%d %H:%M} UTC (decision {decision.id}); the "
                f"marketplace has it in {category_label(post.category)} again.")
    return notes


def _post_detections(session: Session, post: sa.Row, result, now: datetime,
                     open_flags: dict, stats: dict, *,
                     note: str | None = None) -> list[tuple[dict, Detection]]:
    """The flags this post's result asks for; clears open flags it no longer supports.
    ``note``: for a new miscategorised flag (see ``_moved_back``)."""
    exposure = _exposure(post, now)
    subject = {"subject_type": SubjectType.post, "subject_id": post.id,
               "client_id": post.client_id, "post_id": post.id}
    out = []
    for reason in POST_REASONS:
        score = float(result.scores[reason])
        model_version = result.model_versions.get(reason)
        if reason in result.flags and post.status != PostStatus.removed:
            out.append((subject, Detection(
                reason=reason, score=score, model_version=model_version,
                evidence=[e.to_json() for e in result.evidence if e.detector == reason],
                policy_types=list(result.policy_types) if reason == FlagReason.policy else [],
                suggested_category=(result.suggested_category
                                    if reason == FlagReason.miscategorised else None),
                note=note if reason == FlagReason.miscategorised else None,
                priority=flag_service.base_priority(reason, score, exposure=exposure))))
            stats["flagged"] += 1
        elif (post.id, reason) in open_flags and post.status != PostStatus.removed:
            # (a removed post's open flag is an edit after the removal, for a moderator to
            # judge: the scores neither raise nor clear it)
            flag = open_flags[(post.id, reason)]
            outcome = flag_service.clear_below_threshold(session, flag, score=score,
                                                         model_version=model_version, now=now)
            if outcome == "dismissed" and post.status == PostStatus.under_review:
                holds.release_cleared(session, post.id, flag.id, now=now)
            stats["cleared"] += 1
    return out


def score_client(session: Session, client_id: int, *, now: datetime | None = None) -> dict:
    """Score the client's unscored feedback, then their negativity pattern; flag a
    consistent pattern (never a single bad review). Commits once."""
    return score_clients(session, [client_id], now=now)[0]


def score_clients(session: Session, client_ids: Sequence[int], *,
                  now: datetime | None = None) -> list[dict]:
    """``score_client`` for many clients in one transaction (a chunk of imported feedback):
    their histories read by one query, their unscored feedback scored by one vectorised
    call and written by one statement, their rows and open flags locked by two statements
    (clients by id, then flags by id: docs/concurrency.md), their scores written by one
    statement, one commit. One result per client, in id order. Core reads and writes of
    the columns it needs: no Client or Feedback objects are built (the import's chunks)."""
    now = now or utcnow()
    ids = sorted(set(client_ids))
    table = Client.__table__
    versions = dict(session.execute(sa.select(table.c.id, table.c.model_version)
                                    .where(table.c.id.in_(ids))).all())
    if not versions:
        return [{"client": i, "missing": True} for i in ids]
    scorer = get_feedback_scorer()
    version = client_version(scorer)
    histories = _histories(session, sorted(versions))
    # feedback is scored once; a client last scored by other models has all of it scored
    # again (``flask models rescore`` after new models)
    stale = {i for i, v in versions.items() if v is not None and v != version}
    score_feedback_rows(session, scorer, [f for i in sorted(versions) for f in histories[i]
                                          if i in stale or f.scored_at is None], now)
    # the clients' locks before their flags are read (docs/concurrency.md)
    statuses, locked = locks.lock_clients_cases(session, sorted(versions))
    existing = {f.subject_id: f for f in locked
                if f.subject_type == SubjectType.client and f.reason == FlagReason.negative_client}
    waiting = _awaiting_follow_up(session, sorted(statuses))
    results = []
    for i in ids:
        if i not in statuses:  # gone since the first read
            results.append({"client": i, "missing": True})
            continue
        results.append(_score_one(session, i, statuses[i], histories[i], existing.get(i),
                                  i in waiting, now))
    bulk.update_rows(session, Client, [{"id": r["client"], "negativity_score": r["score"]}
                                      for r in results if not r.get("missing")],
                     shared={"scored_at": now, "model_version": version})
    session.commit()
    return results


@dataclass(slots=True)
class HistoryRow:
    """What scoring reads of a feedback: its text and rating in, its score out."""
    id: int
    client_id: int
    external_id: str
    created_at: datetime
    rating: int
    comment: str
    negative: float | None
    scored_at: datetime | None


_HISTORY_COLUMNS = tuple(Feedback.__table__.c[f.name] for f in dataclass_fields(HistoryRow))


def _histories(session: Session, client_ids: list[int]) -> dict[int, list[HistoryRow]]:
    """Each client's newest ``CLIENT_HISTORY_LIMIT`` feedbacks, newest first, in one query."""
    table = Feedback.__table__
    newest = sa.func.row_number().over(partition_by=table.c.client_id,
                                       order_by=(table.c.created_at.desc(), table.c.id.desc()))
    ranked = sa.select(table.c.id, newest.label("n")).where(
        table.c.client_id.in_(client_ids)).subquery()
    rows = session.execute(sa.select(*_HISTORY_COLUMNS).join(ranked, ranked.c.id == table.c.id)
                           .where(ranked.c.n <= CLIENT_HISTORY_LIMIT)
                           .order_by(table.c.client_id, table.c.created_at.desc(),
                                     table.c.id.desc()))
    out: dict[int, list[HistoryRow]] = {i: [] for i in client_ids}
    for row in rows:
        out[row.client_id].append(HistoryRow(*row))
    return out


def _score_one(session: Session, client_id: int, status: str, history: list[HistoryRow],
               existing: Flag | None, awaiting: bool, now: datetime) -> dict:
    """One client's pattern and flag (its feedback scored and its locks taken already; the
    caller writes its score)."""
    verdict = client_negativity(
        [FeedbackPoint(created_at=f.created_at, negative=f.negative, rating=f.rating,
                       ref=f.external_id) for f in history], now)
    outcome = "none"
    if verdict.flagged and status != ClientStatus.suspended:
        if existing is not None or not awaiting:
            evidence = [{"label": "negative_client", "why": e.why, "ref": e.ref,
                         "created_at": e.created_at, "rating": e.rating,
                         "negative": round(e.negative, 3), "kind": "feedback"}
                        for e in verdict.evidence]
            evidence.insert(0, {"label": "negative_client", "why": verdict.why, "kind": "pattern"})
            flag_service.upsert_open_flag(
                session, subject_type=SubjectType.client, subject_id=client_id,
                client_id=client_id, post_id=None,
                detection=Detection(reason=FlagReason.negative_client, score=verdict.score,
                                    model_version=verdict.version, evidence=evidence,
                                    priority=flag_service.base_priority(
                                        FlagReason.negative_client, verdict.score)))
            outcome = "flagged"
        else:
            outcome = "awaiting follow-up"
    elif existing is not None and not verdict.flagged:
        outcome = flag_service.clear_below_threshold(session, existing, score=verdict.score,
                                                     model_version=verdict.version, now=now)
    return {"client": client_id, "score": verdict.score, "flagged": verdict.flagged,
            "outcome": outcome}


def client_version(scorer) -> str:  # noqa: ANN001
    """The version label a client's negativity score carries: the pattern rule and the
    feedback model."""
    return f"{NEGATIVITY_VERSION}+{scorer.versions['feedback']}"[:64]


def stale_clients(session: Session, version: str) -> list[int]:
    """Clients with feedback whose negativity was scored by other models (or never),
    by id: for ``flask models rescore``."""
    has_feedback = sa.exists().where(Feedback.client_id == Client.id)
    return list(session.exec(
        select(Client.id).where(has_feedback, sa.or_(Client.model_version.is_(None),
                                                     Client.model_version != version))
        .order_by(Client.id)).all())


def score_feedback_rows(session: Session, scorer, rows: Sequence[HistoryRow | Feedback],
                        now: datetime) -> None:
    """Score ``rows`` with one vectorised call, write their scores with one statement and
    set them on the rows (on a loaded ``Feedback``, by ``bulk.update_rows``, as its
    committed state: nothing left for the session to flush)."""
    if not rows:
        return
    probabilities = [float(p) for p in scorer.score_feedback([
        FeedbackInput(id=str(f.id), text=f.comment or "", rating=f.rating) for f in rows])]
    bulk.update_rows(session, Feedback, [{"id": row.id, "negative": p}
                                         for row, p in zip(rows, probabilities, strict=True)],
                     shared={"scored_at": now})  # (a loaded Feedback row gets them too)
    for row, p in zip(rows, probabilities):
        if isinstance(row, HistoryRow):
            row.negative, row.scored_at = p, now


def _awaiting_follow_up(session: Session, client_ids: list[int]) -> set[int]:
    """Which of these clients were contacted and are inside their follow-up window: the
    re-check decides for them, not a fresh flag (the moderator already acted on this
    pattern)."""
    return set(session.exec(select(Outreach.client_id).where(
        Outreach.client_id.in_(client_ids),
        Outreach.outcome == OutreachOutcome.pending)).all())
