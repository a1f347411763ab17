"""job_post: scoring updates stay on their page (no index on scored_at, fillfactor 50)

Scoring writes ``scores``, ``scored_at`` and ``model_version`` of every post once. With an
index on ``scored_at`` - or with full pages - PostgreSQL wrote the row's new version
elsewhere and added an entry for it to every index of the table, two of them trigram
indexes over the post's title and description: ~140 us a post. With no index on those
columns and room left on each page (fillfactor 50), the update is "HOT" (heap-only):
~40 us a post (measured on 10,000 scored posts). The sweep, the only reader that looked
posts up by ``scored_at``, scans the table once a minute instead.

The fillfactor applies to pages written from now on; ``VACUUM FULL job_post`` (which locks
the table) repacks the existing ones.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:20:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('job_post', schema=None) as batch_op:
        batch_op.drop_index('ix_job_post_scored_at')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE job_post SET (fillfactor = 50)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE job_post RESET (fillfactor)")
    with op.batch_alter_table('job_post', schema=None) as batch_op:
        batch_op.create_index('ix_job_post_scored_at', ['scored_at'], unique=False)
