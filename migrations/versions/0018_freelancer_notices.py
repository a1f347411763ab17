"""freelancer notices: freelancer_contact (who applied to a post or messaged its client),
freelancer_notice (a notice per affected freelancer, written with a removal or suspension),
outbox_event.withdrawn_at (an event withdrawn before delivery: an undone decision's notices).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 20:14:55.769472

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate emits sqlmodel.sql.sqltypes.AutoString)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('freelancer_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('freelancer_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('applicant', 'messaged')", name=op.f('ck_freelancer_contact_kind')),
    sa.ForeignKeyConstraint(['post_id'], ['job_post.id'], name=op.f('fk_freelancer_contact_post_id_job_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_freelancer_contact')),
    sa.UniqueConstraint('post_id', 'freelancer_ref', name='uq_freelancer_contact_post_ref')
    )
    op.create_table('freelancer_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('post_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('freelancer_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('send_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('emailed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_freelancer_notice_client_id_client'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_freelancer_notice_decision_id_decision'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['post_id'], ['job_post.id'], name=op.f('fk_freelancer_notice_post_id_job_post'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_freelancer_notice')),
    sa.UniqueConstraint('decision_id', 'freelancer_ref', name='uq_freelancer_notice_decision_ref')
    )
    with op.batch_alter_table('freelancer_notice', schema=None) as batch_op:
        batch_op.create_index('ix_freelancer_notice_client', ['client_id'], unique=False)
        batch_op.create_index('ix_freelancer_notice_post', ['post_id'], unique=False)

    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')

    with op.batch_alter_table('freelancer_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_freelancer_notice_post')
        batch_op.drop_index('ix_freelancer_notice_client')

    op.drop_table('freelancer_notice')
    op.drop_table('freelancer_contact')
