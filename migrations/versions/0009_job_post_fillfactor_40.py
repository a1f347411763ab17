"""job_post: fillfactor 40, so that nearly every score update stays on its page

Migration 0008 left half of each job_post page free for the row's scored version. On the
demo marketplace's posts (a row of ~460 bytes that scoring grows to ~630: the scores
document, the time and the model version) that half held the new versions of only ~69% of
a page's rows; the other ~31% were written on other pages, with an entry in every index of
the table - two of them trigram indexes over the text. With 40% of each page filled at
insert, 99.5% of the updates are heap-only (measured on 20,000 demo posts; 35% gave 100%
with a table as large as at 50%), and the table after scoring is ~13% smaller than at 50%
(the spilled versions took new pages).

As before, the setting applies to pages written from now on; ``VACUUM FULL job_post``
(which locks the table) repacks the existing ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 19:50:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE job_post SET (fillfactor = 40)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE job_post SET (fillfactor = 50)")
