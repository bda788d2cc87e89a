"""a :memo: that arrives before its message waits for it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 15:42:10.197149
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_mark",
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("marked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", "ts"),
    )
    with op.batch_alter_table("learning_mark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_mark_marked_at"), ["marked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("learning_mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_mark_marked_at"))

    op.drop_table("learning_mark")
