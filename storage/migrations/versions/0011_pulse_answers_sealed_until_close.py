"""pulse answers are sealed ballots until close, then shuffled rows with random keys; a run
keeps the anonymity minimum it opened with

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:20:00.000000

``pulse_answer`` is rebuilt: random string keys instead of an increasing integer, no
``answered_at``, and ``respondent`` instead of ``answer_token_hash`` (existing rows keep
their value there, so an open run's members can still change their answers). Existing
rows are copied in random order with new random keys, so the old order does not survive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEEP = "run_id, question, value, text, staff_group, organisation_type, user_id"


def _random_key() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "md5(random()::text || clock_timestamp()::text)"
    return "lower(hex(randomblob(16)))"


def _answer_table(old: bool) -> None:
    key = (
        sa.Column("id", sa.Integer(), nullable=False)
        if old
        else sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False)
    )
    group = "answer_token_hash" if old else "respondent"
    columns = [
        key,
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=True),
        sa.Column(group, sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("staff_group", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("organisation_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    ]
    if old:
        columns.append(sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "pulse_answer",
        *columns,
        sa.ForeignKeyConstraint(["run_id"], ["pulse_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", group, "question"),
    )
    with op.batch_alter_table("pulse_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_answer_run_id"), ["run_id"], unique=False)


def _rebuild_answers(old: bool) -> None:
    """Copy out, drop, create the other shape, copy back (in random order on upgrade)."""
    source = "respondent" if old else "answer_token_hash"
    op.execute(
        f"CREATE TABLE pulse_answer_copy AS SELECT {source} AS respondent_key, {_KEEP} FROM pulse_answer"
    )
    with op.batch_alter_table("pulse_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_answer_run_id"))
    op.drop_table("pulse_answer")
    _answer_table(old)
    if old:
        op.execute(
            f"INSERT INTO pulse_answer (answer_token_hash, {_KEEP}) "
            f"SELECT respondent_key, {_KEEP} FROM pulse_answer_copy"
        )
    else:
        op.execute(
            f"INSERT INTO pulse_answer (id, respondent, {_KEEP}) "
            f"SELECT {_random_key()}, respondent_key, {_KEEP} FROM pulse_answer_copy ORDER BY random()"
        )
    op.drop_table("pulse_answer_copy")


def upgrade() -> None:
    _rebuild_answers(old=False)
    op.create_table(
        "pulse_ballot",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["pulse_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pulse_ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_ballot_run_id"), ["run_id"], unique=False)
    with op.batch_alter_table("pulse_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymity_min", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("comment_min", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("respondents", sa.Integer(), nullable=True))
    with op.batch_alter_table("pulse", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment_min", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pulse", schema=None) as batch_op:
        batch_op.drop_column("comment_min")
    with op.batch_alter_table("pulse_run", schema=None) as batch_op:
        batch_op.drop_column("respondents")
        batch_op.drop_column("comment_min")
        batch_op.drop_column("anonymity_min")
    with op.batch_alter_table("pulse_ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_ballot_run_id"))
    op.drop_table("pulse_ballot")  # answers still sealed are lost: they cannot be opened here
    _rebuild_answers(old=True)
