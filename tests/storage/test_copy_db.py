"""``copbot copy-db``: a SQLite community copied to another database (PostgreSQL in CI's
PostgreSQL run), every table's rows counted on both sides, new rows still insertable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from bot import audit, demo
from storage import Database, Idea, Member, Pulse, utcnow
from storage.copy import CopyError, copy_database
from storage.migrate import upgrade


@pytest.fixture
def source(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'small.db'}")
    upgrade(database)
    with database.session() as session:
        demo.seed(session)
        session.add(Idea(team_id=demo.TEAM_ID, title="Discharge lounge", themes=["Frailty"]))
        session.add(
            Pulse(
                team_id=demo.TEAM_ID,
                name="weekly",
                audience_kind="everyone",
                questions=[{"kind": "scale_1_5", "text": "How are you?"}],
            )
        )
        audit.record(session, team_id=demo.TEAM_ID, actor_id="U1", action="x", after={"a": 1})
    return database


def test_every_table_is_copied_and_verified(source: Database, database: Database) -> None:
    report = copy_database(source, database)
    counts = {c.table: c.target for c in report}
    assert counts["member"] == len(demo.PEOPLE) and counts["idea"] == 1
    assert all(c.ok for c in report)
    with database.session() as session:
        pulse = session.exec(select(Pulse)).one()
        assert pulse.questions[0]["text"] == "How are you?"  # JSON survived
        assert pulse.created_at.tzinfo is not None and pulse.created_at <= utcnow()
        session.add(Idea(team_id=demo.TEAM_ID, title="A new one after the move"))
    with database.session() as session:
        assert len(session.exec(select(Idea)).all()) == 2  # the ID sequence moved on
    with pytest.raises(CopyError, match="not empty"):
        copy_database(source, database)  # never onto a database in use


def test_the_command_prints_the_counts(source: Database, database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "copy-db", "--to", database_url],
        env={"DATABASE_URL": str(source.engine.url), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "every row count matches" in result.stdout
    member_line = next(line for line in result.stdout.splitlines() if line.startswith("member "))
    assert f"{len(demo.PEOPLE)} ->" in member_line
    with Database(database_url).session() as session:
        assert len(session.exec(select(Member)).all()) == len(demo.PEOPLE)
