"""appeal: one appeal per decision (uphold/overturn by a second decider); strikes are
derived from the decisions and these appeals, so they need no table

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 20:20:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        'appeal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('decision_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('appellant', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('entered_by', sa.Integer(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('outcome_reason', sa.Text(), nullable=False),
        sa.Column('reversal', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                  nullable=True),
        sa.CheckConstraint("status IN ('pending', 'upheld', 'overturned')",
                           name=op.f('ck_appeal_status')),
        sa.CheckConstraint("source IN ('api', 'console')", name=op.f('ck_appeal_source')),
        sa.ForeignKeyConstraint(['client_id'], ['client.id'],
                                name=op.f('fk_appeal_client_id_client'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['decided_by'], ['moderator.id'],
                                name=op.f('fk_appeal_decided_by_moderator'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['decision_id'], ['decision.id'],
                                name=op.f('fk_appeal_decision_id_decision'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['entered_by'], ['moderator.id'],
                                name=op.f('fk_appeal_entered_by_moderator'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['post_id'], ['job_post.id'],
                                name=op.f('fk_appeal_post_id_job_post'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal')),
        sa.UniqueConstraint('decision_id', name=op.f('uq_appeal_decision_id')),
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index('ix_appeal_client', ['client_id'], unique=False)
        batch_op.create_index('ix_appeal_decided', ['decided_at'], unique=False)
        batch_op.create_index('ix_appeal_pending', ['created_at', 'id'], unique=False,
                              sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade() -> None:
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index('ix_appeal_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index('ix_appeal_decided')
        batch_op.drop_index('ix_appeal_client')
    op.drop_table('appeal')
