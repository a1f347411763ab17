"""flag.category: the post's category on its flags, kept by triggers; the queue's category
filter through partial indexes in queue order

Revision ID: 0021
Revises: 0020

The queue filtered by category joined job_post and probed each walked open flag's post
for its category, so its cost followed how rare the category is among open flags (at 1M
posts, p95 668 ms). The category now travels with the flag:

- ``flag.category`` (nullable; NULL for client flags), backfilled set-based from the posts
  (one ``UPDATE ... FROM``).
- Triggers on both databases (``models.moderation.FLAG_CATEGORY_TRIGGERS``): a flag written
  with a post takes the post's category (whatever the writer gave); a change of
  ``job_post.category`` is copied to all the post's flags (open or closed), so that the
  column always equals the post's.
- ``ix_flag_open_category_queue`` (category, queue_key, id) and
  ``ix_flag_open_category_reason_queue`` (category, reason, queue_key, id), both WHERE
  status = 'open': a category's open flags in queue order (all reasons, or one), which the
  list walks and the capped counts per reason read.

A plain ``ADD COLUMN`` (no batch rebuild of ``flag`` on SQLite, so its triggers stay).

Create Date: 2026-12-08 01:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("status = 'open'")
INDEXES = {
    "ix_flag_open_category_queue": ["category", "queue_key", "id"],
    "ix_flag_open_category_reason_queue": ["category", "reason", "queue_key", "id"],
}
#: as models.moderation.FLAG_CATEGORY_TRIGGERS was at this revision
TRIGGERS = {
    "postgresql": (
        """CREATE OR REPLACE FUNCTION flag_takes_post_category() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.category := (SELECT category FROM job_post WHERE id = NEW.post_id);
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


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column('flag', sa.Column('category', sa.String(length=64), nullable=True))
    # set-based, before the triggers exist (both databases take UPDATE ... FROM)
    op.execute("UPDATE flag SET category = job_post.category FROM job_post "
               "WHERE job_post.id = flag.post_id AND job_post.category IS NOT NULL")
    for ddl in TRIGGERS.get(dialect, ()):
        op.execute(ddl)
    for name, columns in INDEXES.items():
        op.create_index(name, 'flag', columns, sqlite_where=OPEN, postgresql_where=OPEN)
    if dialect == "postgresql":
        op.execute("ANALYZE flag")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in INDEXES:
        op.drop_index(name, table_name='flag', sqlite_where=OPEN, postgresql_where=OPEN)
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS flag_takes_post_category ON flag")
        op.execute("DROP TRIGGER IF EXISTS post_category_to_flags ON job_post")
        op.execute("DROP FUNCTION IF EXISTS flag_takes_post_category()")
        op.execute("DROP FUNCTION IF EXISTS post_category_to_flags()")
    else:
        for name in ("flag_takes_post_category_on_insert", "flag_takes_post_category_on_update",
                     "post_category_to_flags"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    # ALTER TABLE ... DROP COLUMN on both (SQLite >= 3.35): no batch rebuild, the triggers stay
    op.drop_column('flag', 'category')
