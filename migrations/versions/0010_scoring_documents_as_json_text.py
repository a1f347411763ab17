"""flag.evidence and job_post.scores: json (their text), not jsonb, on PostgreSQL

Scoring writes both for every post it scores: the post's scores (~200 bytes) and, for each
flag, its evidence (~1 KB of spans and terms). Both are read whole (case page, API) and
never searched or compared in SQL. As ``jsonb``, PostgreSQL parsed each into its binary
form on every write, and the scoring path's set-based writes (the rows as one JSON
parameter, see services.bulk) parsed them twice: once as part of the parameter, once more
into ``jsonb``. Measured, expanding the rows of one chunk:
- the flags of 500 stress-mix posts (83 rows, 89 KB): 3.5-4.0 ms as ``jsonb``, 1.9-2.1 ms
  as ``json``;
- the scores of 500 posts: 5.5-5.9 ms as ``jsonb``, 1.9 ms as ``json``.

``json`` keeps the text as sent; reads are unchanged (the driver parses either into the same
Python lists and dicts). SQLite stores JSON as text already: nothing to do there.

On PostgreSQL the change of type rewrites both tables and rebuilds their indexes (job_post's
include two trigram indexes) under an exclusive lock: on a large database, run it in a
quiet hour. The rewrite repacks job_post at its fillfactor, so score updates stay on their
page afterwards.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 06:00:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (("flag", "evidence"), ("job_post", "scores"))


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        for table, column in COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE json USING {column}::json")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        for table, column in COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb")
