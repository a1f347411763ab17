"""post similarity index: MinHash LSH band keys and contact-handle keys per post

Filled when posts are scored and by ``flask similar index`` (existing posts); the case
page's similar-posts panel looks candidates up here instead of scanning recent posts only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:38:19.618981

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate emits sqlmodel.sql.sqltypes.AutoString)


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('post_similarity_key',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['job_post.id'], name=op.f('fk_post_similarity_key_post_id_job_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'post_id', name=op.f('pk_post_similarity_key'))
    )
    with op.batch_alter_table('post_similarity_key', schema=None) as batch_op:
        batch_op.create_index('ix_post_similarity_key_post_id', ['post_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('post_similarity_key', schema=None) as batch_op:
        batch_op.drop_index('ix_post_similarity_key_post_id')

    op.drop_table('post_similarity_key')
