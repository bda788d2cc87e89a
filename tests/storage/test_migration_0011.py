"""Migration 0011 with data: answers stored as rows before ballots existed survive the
upgrade (random keys, no order, no time), can still be changed, and count at close."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.config import Settings
from bot.pulse import answers, closing, results
from bot.pulse.questions import Answer
from storage import Database, PulseAnswer, PulseRun
from storage.migrate import alembic_config, upgrade

TEAM = "T0MIGRATE"
OPENED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PEOPLE = ["U0OLD0001", "U0OLD0002", "U0OLD0003"]


def token_of(user: str) -> str:
    return f"token-of-{user}-0123456789abcdef0123456789abcdef"


def test_answers_of_an_open_run_survive_the_upgrade(database: Database) -> None:
    command.downgrade(alembic_config(database), "0010")
    assert "pulse_ballot" not in inspect(database.engine).get_table_names()
    with database.engine.begin() as connection:
        run = lambda sql, **values: connection.execute(text(sql), values)  # noqa: E731
        run(
            "INSERT INTO workspace (team_id, name, anonymity_min, installed_at) "
            "VALUES (:team, 'Old ICS', 3, :now)",
            team=TEAM,
            now=OPENED,
        )
        run(
            "INSERT INTO pulse (id, team_id, name, audience_kind, questions, schedule, "
            "open_days, anonymous, paused, created_at) VALUES (1, :team, 'old', 'everyone', "
            """'[{"kind": "scale_1_5", "text": "How are you?"}]', 'one_off', 3, :yes, :no, :now)""",
            team=TEAM,
            now=OPENED,
            yes=True,
            no=False,
        )
        run(
            "INSERT INTO pulse_run (id, pulse_id, questions, anonymous, opens_at, closes_at, "
            "status, invited) VALUES (1, 1, "
            """'[{"kind": "scale_1_5", "text": "How are you?"}]', :yes, :now, :closes, """
            "'open', 3)",
            now=OPENED,
            closes=OPENED + timedelta(days=3),
            yes=True,
        )
        for number, user in enumerate(PEOPLE, start=1):
            run(
                "INSERT INTO pulse_participation (run_id, user_id, answered, reminded) "
                "VALUES (1, :user, :yes, :no)",
                user=user,
                yes=True,
                no=False,
            )
            run(
                "INSERT INTO pulse_answer (id, run_id, question, value, answer_token_hash, "
                "staff_group, answered_at) VALUES (:id, 1, 0, :value, :hash, 'Nursing', :now)",
                id=number,
                value=number,
                hash=hashlib.sha256(token_of(user).encode()).hexdigest(),
                now=OPENED,
            )
    upgrade(database)

    columns = {c["name"] for c in inspect(database.engine).get_columns("pulse_answer")}
    assert "answered_at" not in columns and "answer_token_hash" not in columns
    with database.session() as session:
        keys = [row.id for row in session.exec(select(PulseAnswer))]
        assert len(keys) == 3 and all(len(key) == 32 and not key.isdigit() for key in keys)
    settings = Settings(_env_file=None, slack_signing_secret="s" * 32)  # type: ignore[call-arg]
    with database.session() as session:  # the first person changes their answer
        receipt = answers.record_answers(
            session,
            settings,
            run_id=1,
            user_id=PEOPLE[0],
            token=token_of(PEOPLE[0]),
            answers=[Answer(0, 5)],
            now=OPENED + timedelta(hours=1),
        )
        assert receipt.changed and receipt.chosen == {0: 5}
    with database.session() as session:
        closing.close_run(session, settings, 1, now=OPENED + timedelta(days=3))
    with database.session() as session:
        assert session.get(PulseRun, 1).respondents == 3
        shown = results.run_results(session, settings, 1)
        assert not shown.withheld and dict(shown.questions[0].distribution) == {
            "1": 0,
            "2": 1,
            "3": 1,
            "4": 0,
            "5": 1,
        }
