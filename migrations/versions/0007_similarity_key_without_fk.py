"""post_similarity_key: no foreign key to job_post

The similarity index is derived data (``flask similar index`` rebuilds it) and posts are
never deleted; its foreign key cost more than the key row itself on the scoring path:
PostgreSQL checks it per inserted row by locking the referenced post (``SELECT ... FOR
KEY SHARE``), ~7 us for each of a post's ~10 keys (measured: 100,868 keys inserted in
1.24 s with the constraint, 0.52 s without).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FK = 'fk_post_similarity_key_post_id_job_post'


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('post_similarity_key', schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')


def downgrade() -> None:
    """Downgrade schema: keys of posts that no longer exist go first."""
    op.execute("DELETE FROM post_similarity_key WHERE post_id NOT IN (SELECT id FROM job_post)")
    with op.batch_alter_table('post_similarity_key', schema=None) as batch_op:
        batch_op.create_foreign_key(FK, 'job_post', ['post_id'], ['id'], ondelete='CASCADE')
