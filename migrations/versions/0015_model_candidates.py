"""model candidates and shadow scores: candidates trained on the labels, compared with the
active models, promoted through a gate; posts scored by a shadow candidate

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("versions", JSON, nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("progress", JSON, nullable=True),
        sa.Column("comparison", JSON, nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("promoted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("shadow_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_candidate")),
        sa.UniqueConstraint("version", name="uq_model_candidate_version"),
    )
    op.create_table(
        "shadow_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("active_flags", JSON, nullable=True),
        sa.Column("candidate_flags", JSON, nullable=True),
        sa.Column("disagree", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["model_candidate.id"],
                                name=op.f("fk_shadow_score_candidate_id_model_candidate")),
        sa.ForeignKeyConstraint(["post_id"], ["job_post.id"],
                                name=op.f("fk_shadow_score_post_id_job_post")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_score")),
        sa.UniqueConstraint("candidate_id", "post_id", name="uq_shadow_score_candidate_post"),
    )
    op.create_index("ix_shadow_score_candidate_disagree", "shadow_score",
                    ["candidate_id", "disagree"])
    op.create_index(op.f("ix_shadow_score_post_id"), "shadow_score", ["post_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_shadow_score_post_id"), table_name="shadow_score")
    op.drop_index("ix_shadow_score_candidate_disagree", table_name="shadow_score")
    op.drop_table("shadow_score")
    op.drop_table("model_candidate")
