"""decision is append-only, as audit_event is: database triggers

A decision is the record of what a moderator judged. Triggers refuse DELETE (and TRUNCATE
on PostgreSQL) and every UPDATE but the undo's: ``undone_at`` set once, from NULL, with
every other column unchanged. The trigger SQL is copied here, frozen with the revision
(the model creates the same triggers with the table: models/moderation.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:30:00.000000

"""
from typing import Sequence, Union

from alembic import op

revision: str = "0011"
down_revision: Union[str, None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_FROZEN = ("id", "flag_id", "subject_type", "subject_id", "client_id", "post_id",
           "moderator_id", "action", "reason", "details", "created_at")
_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _FROZEN)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER decision_no_update BEFORE UPDATE ON decision "
    f"WHEN NOT (OLD.undone_at IS NULL AND NEW.undone_at IS NOT NULL AND {_SAME}) "
    "BEGIN SELECT RAISE(ABORT, 'decision is append-only (only undone_at may be set, "
    "once)'); END",
    "CREATE TRIGGER decision_no_delete BEFORE DELETE ON decision "
    "BEGIN SELECT RAISE(ABORT, 'decision is append-only'); END",
)
POSTGRES_TRIGGERS = (
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


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}.get(dialect, ()):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS decision_no_update")
        op.execute("DROP TRIGGER IF EXISTS decision_no_delete")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS decision_append_only() CASCADE")
