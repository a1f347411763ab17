"""flag.strike_boost: the part of a flag's priority its client's strikes add; a partial
index of the standing reinstatements

Revision ID: 0020
Revises: 0019

A decision that adds or removes a strike re-ranks the client's other open flags
(``services.flags.rerank``): their priority moves by the difference between the client's
boost now and the one each flag carries. Existing flags start at 0 (their boost, if any,
was not recorded; the next rescore or strike change sets it).

A plain ``ADD COLUMN`` with a default on both databases (no batch rebuild of ``flag`` on
SQLite, so its triggers stay).

``ix_decision_standing_reinstate`` (client_id, id) WHERE action = 'reinstate' AND undone_at
IS NULL: a strike ends when a standing reinstatement reverses it (``services.strikes``);
reinstatements are few, so the strikes' read looks them up here instead of reading every
decision of the client and its JSON details.

Create Date: 2026-12-07 23:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0020'
down_revision: Union[str, Sequence[str], None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


STANDING_REINSTATE = sa.text("action = 'reinstate' AND undone_at IS NULL")


def upgrade() -> None:
    op.add_column('flag', sa.Column('strike_boost', sa.Float(), nullable=False,
                                    server_default='0'))
    op.create_index('ix_decision_standing_reinstate', 'decision', ['client_id', 'id'],
                    sqlite_where=STANDING_REINSTATE, postgresql_where=STANDING_REINSTATE)


def downgrade() -> None:
    op.drop_index('ix_decision_standing_reinstate', table_name='decision',
                  sqlite_where=STANDING_REINSTATE, postgresql_where=STANDING_REINSTATE)
    # ALTER TABLE ... DROP COLUMN on both (SQLite >= 3.35): no batch rebuild, the triggers stay
    op.drop_column('flag', 'strike_boost')
