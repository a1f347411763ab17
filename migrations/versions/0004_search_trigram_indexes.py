"""search trigram indexes

Revision ID: 0004
Revises: 0003
The queue's active search matches ``lower(column) LIKE '%term%'`` on post titles, post
descriptions and client names (app.services.queue). On PostgreSQL, GIN trigram indexes
on exactly those expressions let the planner find rare terms without reading every post,
and ANALYZE keeps statistics on the expressions, so it can tell a rare term from a common
one (a common term is found faster by walking the queue in order). SQLite: nothing to do
(search there stays a scan; the console's SQLite mode is for small local databases).

Create Date: 2026-11-26 08:00:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: (index name, table, expression): the expressions app.services.queue searches
TRIGRAM_INDEXES = (
    ("ix_job_post_title_trgm", "job_post", "lower(title)"),
    ("ix_job_post_description_trgm", "job_post", "lower(description)"),
    ("ix_client_name_trgm", "client", "lower(name)"),
)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    # needs CREATE privilege on the database (pg_trgm is a trusted extension since 13)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in TRIGRAM_INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                   f"USING gin ({expression} gin_trgm_ops)")
    for table in sorted({table for _name, table, _expression in TRIGRAM_INDEXES}):
        op.execute(f"ANALYZE {table}")  # statistics on the new expressions


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _table, _expression in TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    # the extension stays: objects outside this schema may use it; it holds no data
