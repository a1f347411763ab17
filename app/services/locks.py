"""Row locks, in the one order every writer takes them: a client's row, then posts by id,
then flags by id (docs/concurrency.md). A use case takes all the locks it needs before it
reads what it checks; a writer that came second then finds the version it was given gone
(a 409, nothing written) instead of overwriting, and no two writers wait for each other.

``FOR NO KEY UPDATE`` (what an UPDATE of the row takes), so rows that reference a locked
one (a decision naming the client) can still be inserted meanwhile. SQLite ignores it: it
lets one writer at a time in anyway. These helpers add to the caller's transaction."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Client, Flag, FlagStatus, JobPost, Moderator, SubjectType
from models.flag_search import CLIENT_NAME_LOCK

from . import bulk


def _locked(stmt):  # noqa: ANN001, ANN202
    """FOR NO KEY UPDATE (what an UPDATE of the row takes): rows that reference the locked
    one (a decision naming the client) may still be inserted meanwhile."""
    return stmt.with_for_update(key_share=True).execution_options(populate_existing=True)


def hold_client_names(session: Session, client_ids: Any) -> None:
    """PostgreSQL: the shared advisory locks on these clients' names (``models.flag_search.
    CLIENT_NAME_LOCK``), in id order, until the commit: what the trigger of a flag written
    open takes before it reads the client's name, and a rename's trigger takes exclusively
    (migration 0023). Taken at the client level of the order, before the posts' locks, by a
    writer that opens flags on posts it locks (post scoring): taken in the trigger only,
    after the posts, it would wait for a rename whose transaction waits for those posts."""
    ids = sorted({i for i in client_ids if i is not None})
    if ids and session.get_bind().dialect.name == "postgresql":
        session.execute(_HOLD_NAMES, {"key": CLIENT_NAME_LOCK, "ids": ids}).all()


_HOLD_NAMES = sa.text("SELECT pg_advisory_xact_lock_shared(:key, id) "
                      "FROM unnest(CAST(:ids AS integer[])) WITH ORDINALITY AS u(id, n) ORDER BY n")


def lock_moderator(session: Session, moderator_id: int | None) -> None:
    """Lock a moderator's own row: taken only by a note submission (which takes no other lock),
    so two copies of one note form sent at once are checked for their token one after the other."""
    if moderator_id is not None:
        session.exec(_locked(select(Moderator.id).where(Moderator.id == moderator_id))).all()


def lock_clients(session: Session, client_ids: Any) -> list[Client]:
    """Lock these clients' rows, in id order, and read them afresh: taken first by a post
    decision that changes the clients' strikes (a removal, its undo, a correction), whose
    re-rank of the clients' other open flags (``flags.rerank``) must see every strike
    committed before it. ``client_ids``: ids, or a select of them (one statement then)."""
    if isinstance(client_ids, sa.Select):
        where = Client.id.in_(client_ids.scalar_subquery())
    else:
        ids = sorted({i for i in client_ids if i is not None})
        if not ids:
            return []
        where = Client.id.in_(ids)
    return list(session.exec(_locked(select(Client).where(where).order_by(Client.id))))


def lock_posts(session: Session, post_ids: Any) -> list[JobPost]:
    """Lock these posts' rows in id order and read them afresh."""
    ids = sorted({i for i in post_ids if i is not None})
    if not ids:
        return []
    return list(session.exec(_locked(select(JobPost).where(bulk.ids_in(session, JobPost.id, ids))
                                      .order_by(JobPost.id))))


def lock_flags(session: Session, condition: Any) -> list[Flag]:
    return list(session.exec(_locked(select(Flag).where(condition).order_by(Flag.id))))


def open_only(condition: Any) -> Any:
    return sa.and_(condition, Flag.status == FlagStatus.open)


def _or_ids(condition: Any, flag_ids: Any, session: Session | None = None) -> Any:
    ids = sorted({i for i in flag_ids if i is not None})
    if not ids:
        return condition
    return sa.or_(condition, bulk.ids_in(session, Flag.id, ids) if session is not None
                  else Flag.id.in_(ids))


def lock_post_case(session: Session, post_ids: Any, flag_ids: Any = ()) -> list[Flag]:
    """A decision on posts: their rows (by id), then their open flags and ``flag_ids`` (by
    id), read afresh. Returns the locked flags."""
    return lock_post_case_rows(session, post_ids, flag_ids)[1]


def lock_post_case_rows(session: Session, post_ids: Any,
                        flag_ids: Any = ()) -> tuple[list[JobPost], list[Flag]]:
    """``lock_post_case``, returning the locked posts as well (a caller that reads them
    holds them: the session keeps no row nobody references)."""
    posts = lock_posts(session, post_ids)
    if not posts:
        return [], []
    return posts, lock_flags(session, _or_ids(
        open_only(bulk.ids_in(session, Flag.post_id, [p.id for p in posts])), flag_ids, session))


def lock_client_case(session: Session, client_id: int, flag_ids: Any = (), *,
                     posts: bool = False) -> list[Flag]:
    """A decision on a client: its row, then (``posts``) its posts by id, then its open
    flags (the posts' too) and ``flag_ids`` by id, read afresh."""
    session.exec(_locked(select(Client).where(Client.id == client_id))).one_or_none()
    if posts:
        session.exec(_locked(select(JobPost).where(JobPost.client_id == client_id)
                             .order_by(JobPost.id))).all()
    return lock_flags(session, _or_ids(open_only(Flag.client_id == client_id), flag_ids))


def lock_clients_cases(session: Session, client_ids: Any) -> tuple[dict[int, str], list[Flag]]:
    """``lock_client_case`` for many clients at once: their rows (by id), then their open
    flags (by id), read afresh; returns the status of each client that exists (read under
    its lock) and the flags. Scoring a chunk of clients takes these."""
    ids = sorted({i for i in client_ids if i is not None})
    if not ids:
        return {}, []
    table = Client.__table__
    statuses = dict(session.execute(sa.select(table.c.id, table.c.status)
                                    .where(table.c.id.in_(ids)).order_by(table.c.id)
                                    .with_for_update(key_share=True)).all())
    return statuses, lock_flags(session, open_only(Flag.client_id.in_(ids)))


def lock_subject(session: Session, subject_type: str, subject_id: int) -> list[Flag]:
    """The locks of a post's or a client's case (its open flags, by id, are returned)."""
    if subject_type == SubjectType.post:
        return lock_post_case(session, [subject_id])
    return lock_client_case(session, subject_id)


def lock_case_of(session: Session, flag: Flag) -> None:
    """The locks of a decision on one flag (its post's case, or its client's)."""
    if flag.post_id is not None:
        lock_post_case(session, [flag.post_id], [flag.id])
    else:
        lock_client_case(session, flag.client_id, [flag.id])
