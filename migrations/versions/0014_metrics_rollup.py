"""metrics_rollup: the dashboard's counts per UTC quarter of an hour (kept in step by the
writes; run ``flask metrics rebuild`` once after upgrading); an index on the open flags' age.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 20:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'metrics_rollup',
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('quarter', sa.BigInteger(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('dim1', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('dim2', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'quarter', 'reason', 'dim1', 'dim2',
                                name=op.f('pk_metrics_rollup')))
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index('ix_flag_open_age', ['created_at', 'reason'], unique=False,
                              sqlite_where=sa.text("status = 'open'"),
                              postgresql_where=sa.text("status = 'open'"))
    # the table starts empty: ``flask metrics rebuild`` counts what is already there


def downgrade() -> None:
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_open_age', sqlite_where=sa.text("status = 'open'"),
                            postgresql_where=sa.text("status = 'open'"))
    op.drop_table('metrics_rollup')
