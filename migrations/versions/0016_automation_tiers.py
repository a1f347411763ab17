"""automation tiers: automation_tier (per reason and policy type: the admin's highest tier,
the tier in force and its measured precision) and post_hold (posts hidden automatically,
with the precision that allowed it). A held post's status is ``under_review``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 20:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TIERS = "'shadow', 'review', 'hold'"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('automation_tier',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('max_tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('upheld', sa.Integer(), nullable=False),
    sa.Column('precision', sa.Float(), nullable=True),
    sa.Column('lower_bound', sa.Float(), nullable=True),
    sa.Column('measured_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('notice', sa.Text(), nullable=True),
    sa.Column('notice_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint(f"max_tier IN ({TIERS})", name=op.f('ck_automation_tier_max_tier')),
    sa.CheckConstraint(f"tier IN ({TIERS})", name=op.f('ck_automation_tier_tier')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_automation_tier'))
    )
    op.create_table('post_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('tier_key', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('upheld', sa.Integer(), nullable=False),
    sa.Column('precision', sa.Float(), nullable=False),
    sa.Column('lower_bound', sa.Float(), nullable=False),
    sa.Column('held_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('settled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IN ('held', 'released', 'removed')", name=op.f('ck_post_hold_outcome')),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_post_hold_decision_id_decision'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_post_hold_flag_id_flag'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['post_id'], ['job_post.id'], name=op.f('fk_post_hold_post_id_job_post'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_hold'))
    )
    with op.batch_alter_table('post_hold', schema=None) as batch_op:
        batch_op.create_index('ix_post_hold_post', ['post_id', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('post_hold', schema=None) as batch_op:
        batch_op.drop_index('ix_post_hold_post')
    op.drop_table('post_hold')
    op.drop_table('automation_tier')
