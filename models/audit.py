"""The append-only audit log.

Append-only is enforced three times over: the ORM refuses to update or delete an
``AuditEvent`` (flush-time and bulk statements), and database triggers (created with the
table, and by the migration) reject UPDATE, DELETE and TRUNCATE from any client.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from .base import json_field, utcnow


class AuditLogImmutable(RuntimeError):
    """Raised when code tries to change or remove an audit event."""


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_subject", "subject_type", "subject_id"),
        sa.Index("ix_audit_event_actor_at", "actor_id", "at"),
        sa.Index("ix_audit_event_action_at", "action", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: "moderator:<email>", "system:worker", "api:<token name>", "cli"
    actor: str = Field(max_length=300)
    actor_id: int | None = Field(default=None, foreign_key="moderator.id", ondelete="RESTRICT")
    action: str = Field(max_length=64)
    subject_type: str = Field(max_length=32)
    subject_id: str = Field(max_length=64)
    before: dict[str, Any] | None = json_field()
    after: dict[str, Any] | None = json_field()
    at: datetime = Field(default_factory=utcnow, index=True)


# --- ORM guards -------------------------------------------------------------------

@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):  # noqa: ANN001
    raise AuditLogImmutable("audit events are append-only: cannot update")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):  # noqa: ANN001
    raise AuditLogImmutable("audit events are append-only: cannot delete")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):  # noqa: ANN001
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogImmutable("audit events are append-only: bulk update/delete refused")


# --- database triggers ----------------------------------------------------------------

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
)
POSTGRES_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)

for _stmt in SQLITE_TRIGGERS:
    event.listen(AuditEvent.__table__, "after_create", sa.DDL(_stmt).execute_if(dialect="sqlite"))
for _stmt in POSTGRES_TRIGGERS:
    event.listen(AuditEvent.__table__, "after_create", sa.DDL(_stmt).execute_if(dialect="postgresql"))
event.listen(
    AuditEvent.__table__,
    "before_drop",
    sa.DDL("DROP FUNCTION IF EXISTS audit_event_append_only() CASCADE").execute_if(dialect="postgresql"),
)
