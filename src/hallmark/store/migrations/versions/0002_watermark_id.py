"""content records carry their watermark id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable and without a default: records written before this revision (and text, which
    # carries no watermark) have none, and adding the column rewrites no rows.
    with op.batch_alter_table("contents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("watermark_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_contents_watermark_id"), ["watermark_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contents_watermark_id"))
        batch_op.drop_column("watermark_id")
