"""reviewer QA: qa_review (sampled decisions judged again, blind; adjudications) and
qa_scan (how far the sampler has read the decision table). Decisions are not changed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:39:08.918121

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate emits sqlmodel.sql.sqltypes.AutoString)


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('qa_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_decision_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_scan'))
    )
    op.create_table('qa_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('first_moderator_id', sa.Integer(), nullable=False),
    sa.Column('first_label', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sampled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('review_label', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('reviewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('adjudicator_id', sa.Integer(), nullable=True),
    sa.Column('adjudicated_label', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('adjudicated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('correction', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.CheckConstraint("adjudicated_label IS NULL OR adjudicated_label IN ('not_violation', 'remove', 'recategorise', 'contact', 'suspend')", name=op.f('ck_qa_review_adjudicated_label')),
    sa.CheckConstraint("first_label IN ('not_violation', 'remove', 'recategorise', 'contact', 'suspend')", name=op.f('ck_qa_review_first_label')),
    sa.CheckConstraint("review_label IS NULL OR review_label IN ('not_violation', 'remove', 'recategorise', 'contact', 'suspend')", name=op.f('ck_qa_review_review_label')),
    sa.CheckConstraint("status IN ('pending', 'agreed', 'disagreed', 'adjudicated')", name=op.f('ck_qa_review_status')),
    sa.ForeignKeyConstraint(['adjudicator_id'], ['moderator.id'], name=op.f('fk_qa_review_adjudicator_id_moderator'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_qa_review_client_id_client'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_qa_review_decision_id_decision'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['first_moderator_id'], ['moderator.id'], name=op.f('fk_qa_review_first_moderator_id_moderator'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_qa_review_flag_id_flag'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['post_id'], ['job_post.id'], name=op.f('fk_qa_review_post_id_job_post'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['moderator.id'], name=op.f('fk_qa_review_reviewer_id_moderator'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_review')),
    sa.UniqueConstraint('decision_id', name=op.f('uq_qa_review_decision_id'))
    )
    with op.batch_alter_table('qa_review', schema=None) as batch_op:
        batch_op.create_index('ix_qa_review_first_moderator', ['first_moderator_id'], unique=False)
        batch_op.create_index('ix_qa_review_reviewer', ['reviewer_id'], unique=False)
        batch_op.create_index('ix_qa_review_status', ['status', 'id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('qa_review', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_review_status')
        batch_op.drop_index('ix_qa_review_reviewer')
        batch_op.drop_index('ix_qa_review_first_moderator')

    op.drop_table('qa_review')
    op.drop_table('qa_scan')
