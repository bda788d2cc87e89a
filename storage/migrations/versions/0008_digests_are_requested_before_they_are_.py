"""digests are requested before they are prepared, so one cut short is finished later

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 14:28:26.002378
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="ready",
            )
        )
        batch_op.add_column(
            sa.Column("occasion", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("claimed_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_digest_status"), ["status"], unique=False)
        batch_op.create_index(
            "ux_digest_occasion", ["team_id", "requested_by", "occasion"], unique=True
        )
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("attempts", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_index("ux_digest_occasion")
        batch_op.drop_index(batch_op.f("ix_digest_status"))
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("attempts")
        batch_op.drop_column("occasion")
        batch_op.drop_column("status")
