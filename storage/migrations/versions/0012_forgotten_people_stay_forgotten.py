"""forgotten people stay forgotten: a suppression list of keyed hashes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:00:00.000000

``forgotten_person`` holds one HMAC of (team, user ID) per person who asked copbot to
forget them; the directory sync and profile events skip them (``bot.members``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forgotten_person",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("forgotten_person")
