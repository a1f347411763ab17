"""decision: indexes for a post's decisions and for live escalations

The post case page reads a post's newest decisions (``WHERE post_id = ? ORDER BY id DESC
LIMIT 50``) and, when it needs to, its newest standing one; the queue asks of every row
whether its flag carries a live escalation (``action = 'escalate' AND undone_at IS
NULL``). Without these indexes each was a scan of every decision ever taken (PostgreSQL
answered the queue's EXISTS with a hashed subplan over the whole table).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 15:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

LIVE_ESCALATION = sa.text("action = 'escalate' AND undone_at IS NULL")


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index('ix_decision_post', ['post_id', 'id'], unique=False)
        batch_op.create_index('ix_decision_live_escalation', ['flag_id'], unique=False,
                              sqlite_where=LIVE_ESCALATION, postgresql_where=LIVE_ESCALATION)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_live_escalation')
        batch_op.drop_index('ix_decision_post')
