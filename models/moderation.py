"""The moderation workflow: queue items (flags), decisions, outreach to clients, and
the outbox of events for the marketplace."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import enum_check, json_field, utcnow
from .enums import (DecisionAction, FlagReason, FlagStatus, OutreachOutcome, PolicyType,
                    SubjectType)

OPEN = sa.text("status = 'open'")
OPEN_CLAIMED = sa.text("status = 'open' AND claimed_by IS NOT NULL")
LIVE_ESCALATION = sa.text("action = 'escalate' AND undone_at IS NULL")
STANDING_REINSTATE = sa.text("action = 'reinstate' AND undone_at IS NULL")
#: queue order: every hour a flag waits is worth this many priority points
QUEUE_AGE_WEIGHT = 0.5


def queue_key(priority: float, created_at: datetime) -> float:
    """The stored sort key of the review queue, most urgent = largest.

    ``priority + QUEUE_AGE_WEIGHT * hours waiting`` grows with ``now`` at the same rate for
    every flag, so it orders exactly like this time-free key; stored and indexed, the
    first page of the queue is an index scan."""
    return priority - QUEUE_AGE_WEIGHT * created_at.timestamp() / 3600.0


def policy_type_pattern(value: str) -> str:
    """The SQL string literal ``'%"<value>"%'``: what ``CAST(policy_types AS VARCHAR)`` is
    LIKE when the flag's policy types include ``value`` (one of ``PolicyType``). Written
    into the SQL, not bound, so that the partial index on it serves the queue's filter."""
    if value not in set(PolicyType):
        raise ValueError(f"not a policy type: {value!r}")
    return f"""'%"{value}"%'"""


def open_with_policy(value: str) -> sa.TextClause:
    return sa.text(f"status = 'open' AND CAST(policy_types AS VARCHAR) LIKE "
                   f"{policy_type_pattern(value)}")


class Flag(SQLModel, table=True):
    """One item in the review queue: a reason to look at one post or one client."""

    __tablename__ = "flag"
    __table_args__ = (
        enum_check("subject_type", SubjectType),
        enum_check("reason", FlagReason),
        enum_check("status", FlagStatus),
        # the subject columns agree with each other
        sa.CheckConstraint(
            "(subject_type = 'post' AND post_id IS NOT NULL AND subject_id = post_id)"
            " OR (subject_type = 'client' AND post_id IS NULL AND subject_id = client_id)",
            name="subject",
        ),
        # at most one open flag per (subject, reason): enforced by the database
        sa.Index(
            "uq_flag_open_subject_reason",
            "subject_type",
            "subject_id",
            "reason",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        # the queue: open flags by their stored sort key (all reasons, or one reason);
        # the reason index also serves the counts per reason
        sa.Index("ix_flag_open_queue", "queue_key", "id", sqlite_where=OPEN, postgresql_where=OPEN),
        sa.Index("ix_flag_open_reason_queue", "reason", "queue_key", "id",
                 sqlite_where=OPEN, postgresql_where=OPEN),
        sa.Index("ix_flag_client", "client_id"),
        sa.Index("ix_flag_post", "post_id"),
        # "claimed by me" / "claimed": the few held open flags, in queue order
        sa.Index("ix_flag_open_claimed_queue", "claimed_by", "queue_key", "id",
                 sqlite_where=OPEN_CLAIMED, postgresql_where=OPEN_CLAIMED),
        # the queue filtered by one policy type: that type's open flags, in queue order
        *(sa.Index(f"ix_flag_open_policy_{p.value}", "queue_key", "id",
                   sqlite_where=open_with_policy(p.value),
                   postgresql_where=open_with_policy(p.value)) for p in PolicyType),
        # and per reason: the capped counts beside the policy filter read each reason's
        # flags of the type (only policy flags carry types, so the other reasons' reads,
        # which walked all the type's flags to find none, end at once)
        *(sa.Index(f"ix_flag_open_policy_{p.value}_reason", "reason", "queue_key", "id",
                   sqlite_where=open_with_policy(p.value),
                   postgresql_where=open_with_policy(p.value)) for p in PolicyType),
        # the queue filtered by a post category (flag.category, kept by triggers): that
        # category's open flags in queue order, and per reason (the list under a reason
        # filter too, and the capped counts per reason)
        sa.Index("ix_flag_open_category_queue", "category", "queue_key", "id",
                 sqlite_where=OPEN, postgresql_where=OPEN),
        sa.Index("ix_flag_open_category_reason_queue", "category", "reason", "queue_key", "id",
                 sqlite_where=OPEN, postgresql_where=OPEN),
        # the dashboard's backlog: open flags created in a quarter of an hour (by reason)
        sa.Index("ix_flag_open_age", "created_at", "reason", sqlite_where=OPEN,
                 postgresql_where=OPEN),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=16)
    subject_id: int
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT")
    post_id: int | None = Field(default=None, foreign_key="job_post.id", ondelete="RESTRICT")
    reason: str = Field(max_length=32)
    score: float
    model_version: str | None = Field(default=None, max_length=64)
    #: what the detector saw (spans, terms): written by every scoring, read whole by the case
    #: page, never queried - so kept as text on PostgreSQL (see base.JSONTextType)
    evidence: list[dict[str, Any]] | None = json_field(as_text=True)
    policy_types: list[str] | None = json_field()
    suggested_category: str | None = Field(default=None, max_length=64)
    #: the post's category (``job_post.category``), copied by the database: set when the flag
    #: is written with its post (whatever value the writer gave), and re-set on every flag
    #: of a post whose category changes (FLAG_CATEGORY_TRIGGERS); None for client flags.
    #: The queue filters by it through ``ix_flag_open_category_*``; what a row shows is
    #: still the post's own category
    category: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16, default=FlagStatus.open)
    priority: float = Field(default=0.0)
    #: queue_key(priority, created_at), kept in step by the events below and the upsert
    queue_key: float = Field(default=0.0)
    #: the part of ``priority`` that the client's strikes add (services.strikes): set when the
    #: flag is scored, and re-set on the client's open flags when a decision adds or removes
    #: a strike (services.flags.rerank), so the priority follows the client's standing
    strike_boost: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    #: free-text notes the system attaches (e.g. "score dropped below threshold while claimed")
    system_note: str | None = Field(default=None, sa_type=sa.Text)
    claimed_by: int | None = Field(default=None, foreign_key="moderator.id", ondelete="SET NULL")
    claimed_until: datetime | None = Field(default=None)
    #: optimistic locking: every change increments it; a write names the version it read
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = Field(default=None)



#: ``flag.category`` equals its post's ``job_post.category``, always, for every flag (open or
#: closed: a reopened flag needs no refresh), kept by the database whatever writes either
#: table: a flag written with a post_id (or a new post_id, or any category of its own) takes
#: the post's; a change of a post's category is copied to all its flags in the same
#: statement. Created with the table and by migration 0021; a SQLite batch migration that
#: rebuilds ``flag`` drops them and must create them again. PostgreSQL, two transactions
#: (READ COMMITTED; migration 0023): the flag's trigger reads the post ``FOR SHARE``, so a
#: flag written while another transaction changes its post's category waits for that
#: commit and takes the new category, and a change that comes second waits for the flag's
#: commit and its own trigger then sees the flag; whoever writes them (the services hold
#: the post's lock already: docs/concurrency.md).
FLAG_CATEGORY_TRIGGERS: dict[str, tuple[str, ...]] = {
    "postgresql": (
        """CREATE OR REPLACE FUNCTION flag_takes_post_category() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.post_id IS NULL THEN
        NEW.category := NULL;
    ELSE
        SELECT category INTO NEW.category FROM job_post WHERE id = NEW.post_id FOR SHARE;
    END IF;
    RETURN NEW;
END $$""",
        "CREATE TRIGGER flag_takes_post_category BEFORE INSERT OR UPDATE OF post_id, category "
        "ON flag FOR EACH ROW EXECUTE FUNCTION flag_takes_post_category()",
        """CREATE OR REPLACE FUNCTION post_category_to_flags() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE flag SET category = NEW.category WHERE post_id = NEW.id;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER post_category_to_flags AFTER UPDATE OF category ON job_post "
        "FOR EACH ROW WHEN (NEW.category IS DISTINCT FROM OLD.category) "
        "EXECUTE FUNCTION post_category_to_flags()",
    ),
    "sqlite": (
        *(f"CREATE TRIGGER flag_takes_post_category_on_{event} AFTER {clause} ON flag "
          "FOR EACH ROW WHEN NEW.category IS NOT "
          "(SELECT category FROM job_post WHERE id = NEW.post_id) BEGIN "
          "UPDATE flag SET category = (SELECT category FROM job_post WHERE id = NEW.post_id) "
          "WHERE id = NEW.id; END"
          for event, clause in (("insert", "INSERT"), ("update", "UPDATE OF post_id, category"))),
        "CREATE TRIGGER post_category_to_flags AFTER UPDATE OF category ON job_post "
        "FOR EACH ROW WHEN NEW.category IS NOT OLD.category BEGIN "
        "UPDATE flag SET category = NEW.category WHERE post_id = NEW.id; END",
    ),
}
#: PostgreSQL statistics on the expressions the queue filters by (ANALYZE fills them): the
#: policy filter's LIKE on the JSON text, estimated at a few rows without them, made the
#: planner pair each flag with every flag of its type (300 ms at 200k posts, 2 ms with);
#: the search's lower(text), which the full trigram indexes of 0004 used to provide
QUEUE_STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS flag_policy_types_text ON ((policy_types)::varchar) "
    "FROM flag",
    "CREATE STATISTICS IF NOT EXISTS job_post_title_lower ON (lower(title)) FROM job_post",
    "CREATE STATISTICS IF NOT EXISTS job_post_description_lower ON (lower(description)) "
    "FROM job_post",
)
for _ddl in QUEUE_STATISTICS:  # flag is created after job_post (its foreign key)
    sa.event.listen(Flag.__table__, "after_create", sa.DDL(_ddl).execute_if(dialect="postgresql"))
for _dialect in ("postgresql", "sqlite"):
    for _ddl in FLAG_CATEGORY_TRIGGERS[_dialect]:
        sa.event.listen(Flag.__table__, "after_create", sa.DDL(_ddl).execute_if(dialect=_dialect))

class Decision(SQLModel, table=True):
    """What a moderator (or the system) decided about a flag or a subject."""

    __tablename__ = "decision"
    __table_args__ = (
        enum_check("action", DecisionAction),
        enum_check("subject_type", SubjectType),
        sa.Index("ix_decision_subject", "subject_type", "subject_id"),
        sa.Index("ix_decision_client", "client_id"),
        # a post's case page: its newest decisions (WHERE post_id = ? ORDER BY id DESC)
        sa.Index("ix_decision_post", "post_id", "id"),
        # live escalations (the queue asks for every row): few, so a small index; without
        # it PostgreSQL answered the queue's EXISTS by scanning every decision ever taken
        sa.Index("ix_decision_live_escalation", "flag_id", sqlite_where=LIVE_ESCALATION,
                 postgresql_where=LIVE_ESCALATION),
        # a client's standing reinstatements (few): what ends a strike (services.strikes)
        sa.Index("ix_decision_standing_reinstate", "client_id", "id",
                 sqlite_where=STANDING_REINSTATE, postgresql_where=STANDING_REINSTATE),
    )

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int | None = Field(default=None, foreign_key="flag.id", ondelete="RESTRICT", index=True)
    subject_type: str = Field(max_length=16)
    subject_id: int
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT")
    post_id: int | None = Field(default=None, foreign_key="job_post.id", ondelete="RESTRICT")
    #: None for decisions the system takes (e.g. a follow-up re-check)
    moderator_id: int | None = Field(default=None, foreign_key="moderator.id", ondelete="RESTRICT")
    action: str = Field(max_length=32)
    reason: str = Field(default="", sa_type=sa.Text)
    details: dict[str, Any] | None = json_field()
    created_at: datetime = Field(default_factory=utcnow, index=True)
    undone_at: datetime | None = Field(default=None)


class Outreach(SQLModel, table=True):
    """A message to a client, with the follow-up window it opens."""

    __tablename__ = "outreach"
    __table_args__ = (
        enum_check("outcome", OutreachOutcome),
        sa.Index("ix_outreach_due", "outcome", "follow_up_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", ondelete="RESTRICT", index=True)
    flag_id: int | None = Field(default=None, foreign_key="flag.id", ondelete="RESTRICT")
    moderator_id: int | None = Field(default=None, foreign_key="moderator.id", ondelete="RESTRICT")
    template: str = Field(max_length=64)
    subject: str = Field(default="", max_length=300)
    body: str = Field(sa_type=sa.Text)
    channel: str = Field(max_length=16, default="email")
    sent_at: datetime | None = Field(default=None)
    follow_up_due_at: datetime
    outcome: str = Field(max_length=16, default=OutreachOutcome.pending)
    outcome_at: datetime | None = Field(default=None)
    #: when the follow-up re-check ran (it runs once; "not improved" leaves the outcome
    #: pending until a moderator suspends the client)
    rechecked_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class OutboxEvent(SQLModel, table=True):
    """An event for the marketplace, written in the same transaction as the decision
    and delivered (signed webhook) after the commit, in order per subject."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        sa.Index("ix_outbox_pending", "delivered_at", "id"),
        sa.Index("ix_outbox_subject", "subject_type", "subject_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(max_length=64)
    subject_type: str = Field(max_length=16)
    subject_id: int
    payload: dict[str, Any] = json_field(nullable=False, default=dict)
    idempotency_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    delivered_at: datetime | None = Field(default=None)
    #: never to be delivered: withdrawn before it went out (an undone decision's notices)
    withdrawn_at: datetime | None = Field(default=None)


@sa.event.listens_for(Flag, "before_insert")
@sa.event.listens_for(Flag, "before_update")
def _keep_queue_key(_mapper, _connection, flag: Flag) -> None:  # noqa: ANN001
    if flag.created_at is None:
        flag.created_at = utcnow()
    flag.queue_key = queue_key(flag.priority, flag.created_at)


# --- decisions are append-only ---------------------------------------------------------------
# A decision is the record of what a moderator judged: never deleted, never rewritten. The one
# change allowed is the undo's stamp: ``undone_at`` set once, from NULL, every other column
# as it was. Enforced by the ORM (flush-time) and by database triggers against any client
# (created with the table, and by migration 0011); see docs/concurrency.md for the
# database role that must not own the tables in production.

class DecisionImmutable(RuntimeError):
    """Raised when code tries to rewrite or remove a decision."""


#: the columns an undo leaves as they were (all but ``undone_at``), for SQLite's trigger
DECISION_FROZEN = ("id", "flag_id", "subject_type", "subject_id", "client_id", "post_id",
                   "moderator_id", "action", "reason", "details", "created_at")


def decision_sqlite_triggers(columns: tuple[str, ...] = DECISION_FROZEN) -> tuple[str, ...]:
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns)
    return (
        "CREATE TRIGGER decision_no_update BEFORE UPDATE ON decision "
        f"WHEN NOT (OLD.undone_at IS NULL AND NEW.undone_at IS NOT NULL AND {same}) "
        "BEGIN SELECT RAISE(ABORT, 'decision is append-only (only undone_at may be set, "
        "once)'); END",
        "CREATE TRIGGER decision_no_delete BEFORE DELETE ON decision "
        "BEGIN SELECT RAISE(ABORT, 'decision is append-only'); END",
    )


DECISION_POSTGRES_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION decision_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.undone_at IS NULL AND NEW.undone_at IS NOT NULL "
    "AND (to_jsonb(NEW) - 'undone_at') = (to_jsonb(OLD) - 'undone_at') THEN RETURN NEW; "
    "END IF; "
    "RAISE EXCEPTION 'decision is append-only (only undone_at may be set, once)'; "
    "END $$",
    "CREATE TRIGGER decision_no_change BEFORE UPDATE OR DELETE ON decision "
    "FOR EACH ROW EXECUTE FUNCTION decision_append_only()",
    "CREATE TRIGGER decision_no_truncate BEFORE TRUNCATE ON decision "
    "FOR EACH STATEMENT EXECUTE FUNCTION decision_append_only()",
)

for _stmt in decision_sqlite_triggers():
    sa.event.listen(Decision.__table__, "after_create", sa.DDL(_stmt).execute_if(dialect="sqlite"))
for _stmt in DECISION_POSTGRES_TRIGGERS:
    sa.event.listen(Decision.__table__, "after_create",
                    sa.DDL(_stmt).execute_if(dialect="postgresql"))
sa.event.listen(Decision.__table__, "before_drop", sa.DDL(
    "DROP FUNCTION IF EXISTS decision_append_only() CASCADE").execute_if(dialect="postgresql"))


@sa.event.listens_for(Decision, "before_update")
def _refuse_rewrite(_mapper, _connection, decision: Decision) -> None:  # noqa: ANN001
    state = sa.inspect(decision)
    changed = {a.key for a in state.attrs if a.key != "undone_at" and a.history.has_changes()}
    undone = state.attrs.undone_at.history
    unstamped = undone.has_changes() and (decision.undone_at is None
                                           or any(v is not None for v in undone.deleted))
    if changed or unstamped:
        raise DecisionImmutable("decisions are append-only: only undone_at may be set, once")


@sa.event.listens_for(Decision, "before_delete")
def _refuse_delete(_mapper, _connection, _decision: Decision) -> None:  # noqa: ANN001
    raise DecisionImmutable("decisions are append-only: cannot delete")
