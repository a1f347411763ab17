"""queue search over flagged posts only; indexes for the claimed and policy-type filters

Revision ID: 0019
Revises: 0018

The queue's search matches post text, but only the text of posts with an open flag can
ever be listed. The trigram indexes of migration 0004 covered every post, so a term common
among all posts but rare in the queue made PostgreSQL read thousands of posts that the
queue does not hold (``q=logo``: 75 ms at 200k posts, 305 ms at 1M).

- ``job_post.flagged``: the post has had an open flag. Set by triggers on ``flag`` (on
  both databases) whenever a flag on a post is inserted open or reopened; never cleared,
  so no concurrent writer can leave an open-flagged post unmarked. Backfilled from every
  flag there is.
- PostgreSQL: the trigram indexes on ``lower(title)`` and ``lower(description)`` are
  replaced by the same indexes over flagged posts only (``WHERE flagged``), which the
  search's ``job_post.flagged`` predicate lets the planner use.
- ``ix_flag_open_claimed_queue``: open, claimed flags by holder and queue order (the
  queue's "claimed by me" and "claimed" filters walked every open flag to find a few).
- ``ix_flag_open_policy_<type>``: each policy type's open flags in queue order (the
  policy filter's LIKE on the JSON text was estimated at 2 rows, so PostgreSQL read every
  open flag and sorted: 330-500 ms at 200k posts).
- PostgreSQL: statistics on the expressions (``CREATE STATISTICS``): the policy filter's
  JSON text (without them the planner paired each flag with every flag of its type), and
  ``lower(title)``/``lower(description)`` of every post, which the dropped indexes gave.

Create Date: 2026-12-07 20:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: Union[str, Sequence[str], None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN_CLAIMED = sa.text("status = 'open' AND claimed_by IS NOT NULL")
#: models.enums.PolicyType at this revision
POLICY_TYPES = ("off_platform", "unpaid_work", "academic_dishonesty", "fake_reviews",
                "account_rental")


def _open_with_policy(value: str) -> sa.TextClause:
    return sa.text(f"""status = 'open' AND CAST(policy_types AS VARCHAR) LIKE '%"{value}"%'""")
#: (new partial index, the 0004 index it replaces, expression)
POST_TRIGRAM = (
    ("ix_job_post_flagged_title_trgm", "ix_job_post_title_trgm", "lower(title)"),
    ("ix_job_post_flagged_description_trgm", "ix_job_post_description_trgm",
     "lower(description)"),
)
#: as models.moderation.FLAGGED_POST_TRIGGERS was at this revision
TRIGGERS = {
    "postgresql": (
        """CREATE OR REPLACE FUNCTION flag_marks_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_post SET flagged = true WHERE id = NEW.post_id AND NOT flagged;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER flag_marks_post_on_insert AFTER INSERT ON flag FOR EACH ROW "
        "WHEN (NEW.status = 'open' AND NEW.post_id IS NOT NULL) "
        "EXECUTE FUNCTION flag_marks_post()",
        "CREATE TRIGGER flag_marks_post_on_update AFTER UPDATE OF status, post_id ON flag "
        "FOR EACH ROW WHEN (NEW.status = 'open' AND NEW.post_id IS NOT NULL) "
        "EXECUTE FUNCTION flag_marks_post()",
    ),
    "sqlite": tuple(
        f"CREATE TRIGGER flag_marks_post_on_{event} AFTER {clause} ON flag FOR EACH ROW "
        "WHEN NEW.status = 'open' AND NEW.post_id IS NOT NULL BEGIN "
        "UPDATE job_post SET flagged = 1 WHERE id = NEW.post_id AND NOT flagged; END"
        for event, clause in (("insert", "INSERT"), ("update", "UPDATE OF status, post_id"))),
}


#: as models.moderation.QUEUE_STATISTICS was at this revision
STATISTICS = {
    "flag_policy_types_text": "((policy_types)::varchar) FROM flag",
    "job_post_title_lower": "(lower(title)) FROM job_post",
    "job_post_description_lower": "(lower(description)) FROM job_post",
}


def upgrade() -> None:
    """Upgrade schema."""
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('job_post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute("UPDATE job_post SET flagged = true WHERE id IN "
               "(SELECT post_id FROM flag WHERE post_id IS NOT NULL)")
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index('ix_flag_open_claimed_queue', ['claimed_by', 'queue_key', 'id'],
                              unique=False, sqlite_where=OPEN_CLAIMED,
                              postgresql_where=OPEN_CLAIMED)
        for value in POLICY_TYPES:
            where = _open_with_policy(value)
            batch_op.create_index(f'ix_flag_open_policy_{value}', ['queue_key', 'id'],
                                  unique=False, sqlite_where=where, postgresql_where=where)
    # after the batch operations (a SQLite batch rebuild of flag would drop its triggers)
    for ddl in TRIGGERS.get(dialect, ()):
        op.execute(ddl)
    if dialect == "postgresql":
        for new, old, expression in POST_TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {old}")
            op.execute(f"CREATE INDEX {new} ON job_post USING gin ({expression} gin_trgm_ops) "
                       "WHERE flagged")
        for name, target in STATISTICS.items():
            op.execute(f"CREATE STATISTICS IF NOT EXISTS {name} ON {target}")
        op.execute("ANALYZE job_post")
        op.execute("ANALYZE flag")


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name in STATISTICS:
            op.execute(f"DROP STATISTICS IF EXISTS {name}")
        for new, old, expression in POST_TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {new}")
            op.execute(f"CREATE INDEX IF NOT EXISTS {old} ON job_post "
                       f"USING gin ({expression} gin_trgm_ops)")
        op.execute("DROP TRIGGER IF EXISTS flag_marks_post_on_insert ON flag")
        op.execute("DROP TRIGGER IF EXISTS flag_marks_post_on_update ON flag")
        op.execute("DROP FUNCTION IF EXISTS flag_marks_post()")
    else:
        op.execute("DROP TRIGGER IF EXISTS flag_marks_post_on_insert")
        op.execute("DROP TRIGGER IF EXISTS flag_marks_post_on_update")
    with op.batch_alter_table('flag', schema=None) as batch_op:
        for value in POLICY_TYPES:
            where = _open_with_policy(value)
            batch_op.drop_index(f'ix_flag_open_policy_{value}', sqlite_where=where,
                                postgresql_where=where)
        batch_op.drop_index('ix_flag_open_claimed_queue', sqlite_where=OPEN_CLAIMED,
                            postgresql_where=OPEN_CLAIMED)
    with op.batch_alter_table('job_post', schema=None) as batch_op:
        batch_op.drop_column('flagged')
