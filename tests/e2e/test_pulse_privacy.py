"""Pulse anonymity tried as an attacker would (issue 13): a lowered minimum, database
snapshots taken around each answer, the staff-group join, and the logs of a failure."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.pulse.jobs import pulse_steps
from slacktwin import SlackDriver, SlackTwin
from storage import Database, Member, PulseAnswer, PulseBallot, PulseRun, utcnow
from tests.e2e.test_pulse import latest_dm, results_dm
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER

EXTRA = [f"U0ANON{n:02d}" for n in range(7)]
EVERYONE = [LEAD, MEMBER, OTHER, ADMIN, *EXTRA]
AHP = EXTRA[-1]  # the only allied health professional
GROUPS = {
    **{user: "Nursing and midwifery" for user in EVERYONE[:5]},
    **{user: "Medical" for user in EVERYONE[5:10]},
    AHP: "Allied health professionals",
}


@pytest.fixture
def people(twin: SlackTwin, driver: SlackDriver, database: Database) -> list[str]:
    """Eleven members: five nurses, five doctors and one AHP."""
    for user_id in EXTRA:
        twin.add_user(user_id, name=user_id.lower(), real_name=f"Person {user_id[-2:]}")
        twin.join(CHANNEL, user_id)
    for user_id in EVERYONE:
        driver.command(user_id, "/copbot", "help", channel=CHANNEL)
    with database.session() as session:  # their profiles, as each would set in App Home
        for member in session.exec(select(Member)):
            member.staff_group = GROUPS.get(member.slack_user_id)
            session.add(member)
    return EVERYONE


def design(driver: SlackDriver, twin: SlackTwin, name: str, questions: list[str]) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {"Name": name, "Questions": questions, "Schedule": "Weekly", "Day": "Friday"},
    )
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", f"send-now {name}", channel=CHANNEL)


def tap(driver: SlackDriver, twin: SlackTwin, user: str, label: str) -> None:
    driver.click(user, label, message=(twin.dm_channel(user), latest_dm(twin, user)["ts"]))


def close_now(database: Database) -> None:
    with database.session() as session:
        run = session.exec(select(PulseRun)).one()
        run.closes_at = utcnow() - timedelta(minutes=1)
        session.add(run)
    pulse_steps()


def snapshot(database: Database) -> dict[str, Counter[str]]:
    """Every row of every table, as a backup would hold it."""
    with database.engine.connect() as connection:
        return {
            table: Counter(
                json.dumps([str(value) for value in row])
                for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            )
            for table in inspect(database.engine).get_table_names()
        }


def changed(before: dict[str, Counter[str]], after: dict[str, Counter[str]]) -> dict[str, list]:
    """Rows that appeared or went away between two snapshots, by table."""
    found = {}
    for table in after:
        rows = list((after[table] - before.get(table, Counter())).elements())
        rows += list((before.get(table, Counter()) - after[table]).elements())
        if rows:
            found[table] = rows
    return found


def test_lowering_the_minimum_never_reveals_an_earlier_run(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str], job_context
) -> None:
    """Repro 2: three answer 1, 2 and 5 after being told "groups of 5 or more"; the run
    closes withheld; the lead sets the minimum to 3; the results stay withheld."""
    design(driver, twin, "small", ["I can raise a concern and be heard"])
    for user, value in zip(people[:3], ["1", "2", "5"], strict=True):
        twin.wait_for(lambda user=user: "groups of 5 or more" in json.dumps(twin.dms(user)))
        tap(driver, twin, user, value)
        twin.wait_for(lambda user=user: "answer is in" in latest_dm(twin, user)["text"])
    close_now(database)
    twin.wait_for(lambda: "Results of the small pulse" in json.dumps(twin.dms(LEAD)))
    assert "withheld" in json.dumps(results_dm(twin, "small"))

    driver.app_home_opened(LEAD)
    twin.wait_for(lambda: "Edit settings" in json.dumps(twin.home_view(LEAD) or {}))
    driver.click(LEAD, "Edit settings", home=True)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="settings")
    driver.fill(LEAD, {"Anonymity minimum": 3})
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "3 answers" in json.dumps(twin.home_view(LEAD) or {}))

    reply = json.dumps(driver.command(LEAD, "/pulse", "results small", channel=CHANNEL).json())
    assert "3 of 11 answered" in reply and "withheld" in reply
    assert "1: 1" not in reply and "Average" not in reply
    with database.session() as session:  # and nothing is kept that a later view could show
        assert session.exec(select(PulseAnswer)).all() == []
        assert session.exec(select(PulseRun)).one().respondents == 3
    assert not twin.files  # no chart either


def test_snapshots_around_each_answer_link_nobody(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str], job_context
) -> None:
    """Repro 4: a backup before and after each answer, and the staff-group join."""
    design(
        driver, twin, "safe", ["I can raise a concern and be heard", "What is getting in the way?"]
    )
    for user in people:
        twin.wait_for(lambda user=user: "Nobody" in json.dumps(twin.dms(user)), message=user)
    values = {user: str(1 + n % 5) for n, user in enumerate(people)}
    secret = "As the only AHP on the stroke unit I am never asked. " * 20
    sealed_sizes = set()
    for user in people:
        before = snapshot(database)
        tap(driver, twin, user, values[user])
        twin.wait_for(lambda user=user: "answer is in" in latest_dm(twin, user)["text"])
        after = snapshot(database)
        diff = changed(before, after)
        # Who answered shows (their participation flips, for the one reminder)...
        assert any(user in row for row in diff["pulse_participation"])
        # ...what they answered does not: no answer row, one sealed ballot of a fixed size.
        assert "pulse_answer" not in diff
        [ballot] = diff["pulse_ballot"]
        sealed_sizes.add(len(json.loads(ballot)[2]))
    # The AHP changes their mind and writes at length: their ballot is re-sealed, same size.
    before = snapshot(database)
    tap(driver, twin, AHP, "Answer")
    twin.wait_for(lambda: twin.current_modal(AHP) is not None, message="form")
    values[AHP] = "3"
    driver.fill(
        AHP,
        {"I can raise a concern and be heard": "3", "What is getting in the way?": secret.strip()},
    )
    assert not driver.submit(AHP).errors
    twin.wait_for(lambda: "answers are in" in latest_dm(twin, AHP)["text"], message="form")
    diff = changed(before, snapshot(database))
    assert "pulse_answer" not in diff and "stroke unit" not in json.dumps(diff)
    sealed_sizes |= {len(json.loads(row)[2]) for row in diff["pulse_ballot"]}
    assert len(sealed_sizes) == 1  # a long comment seals to the same size as a tap

    before = snapshot(database)
    close_now(database)
    twin.wait_for(lambda: "Results of the safe pulse" in json.dumps(twin.dms(LEAD)))
    diff = changed(before, snapshot(database))
    ballot_ids = {json.loads(row)[0] for row in diff["pulse_ballot"]}
    assert len(ballot_ids) == 11 and snapshot(database)["pulse_ballot"] == Counter()
    with database.session() as session:
        answers = session.exec(select(PulseAnswer)).all()
    # Every answer is counted once, the change included; nothing carries a ballot's key.
    assert sorted(int(a.value) for a in answers if a.question == 0) == sorted(
        int(v) for v in values.values()
    )
    assert all(a.user_id is None for a in answers)
    assert not {a.respondent for a in answers} & ballot_ids
    # One person's comment can never be shown, so it is not kept to point at them.
    assert not any(a.text for a in answers)
    shown = json.dumps(results_dm(twin, "safe"))
    assert "11 of 11 answered" in shown and "stroke unit" not in shown

    # The staff-group join finds no group of fewer than five who answered; the AHP's
    # group is not stored at all, nor one of the groups of five, which would leave the AHP
    # by subtraction: it is folded with them into Other.
    labels = Counter(a.staff_group for a in answers if a.question == 0)
    assert sorted(labels.values()) == [5, 6] and labels["Other (small groups)"] == 6
    with database.engine.connect() as connection:
        matches = connection.execute(
            text(
                "SELECT a.respondent, count(DISTINCT m.slack_user_id) FROM pulse_answer a "
                "JOIN member m ON m.staff_group = a.staff_group "
                "JOIN pulse_participation p ON p.user_id = m.slack_user_id "
                "AND p.run_id = a.run_id AND p.answered GROUP BY a.respondent"
            )
        ).all()
    assert matches and min(count for _, count in matches) >= 5


@pytest.fixture
def failing(database: Database) -> Iterator[Callable[[str], None]]:
    """Makes the database refuse every new row of a table, as a full disk would; the
    triggers go at the end (PostgreSQL keeps them across tests)."""
    tables: list[str] = []

    def fail(table: str) -> None:
        tables.append(table)
        _fail_inserts(database, table)

    yield fail
    with database.engine.begin() as connection:
        for table in tables:
            connection.execute(
                text(
                    f"DROP TRIGGER IF EXISTS fail_{table}"
                    + (f" ON {table}" if database.dialect == "postgresql" else "")
                )
            )


def _fail_inserts(database: Database, table: str) -> None:
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(
                text(
                    "CREATE OR REPLACE FUNCTION copbot_test_fail() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'could not extend file: no space left'; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION copbot_test_fail()"
                )
            )
        else:
            connection.execute(
                text(
                    f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
            )


def test_a_database_error_logs_what_failed_not_what_anyone_answered(
    driver: SlackDriver,
    twin: SlackTwin,
    database: Database,
    people: list[str],
    caplog: pytest.LogCaptureFixture,
    failing: Callable[[str], None],
) -> None:
    """Repro 5: during a database error the log said which button (its value in the
    action ID), the SQL parameters (the ballot's key) and, for a reflection, its text."""
    design(driver, twin, "logged", ["I can raise a concern and be heard", "What is working well?"])
    twin.wait_for(lambda: "Nobody" in json.dumps(twin.dms(MEMBER)), message="the pulse")
    failing("pulse_ballot")
    failing("reflection")
    caplog.set_level(logging.INFO)

    tap(driver, twin, MEMBER, "4")
    twin.wait_for(lambda: "went wrong" in json.dumps(twin.ephemerals(MEMBER)), message="apology")
    tap(driver, twin, OTHER, "Answer")
    twin.wait_for(lambda: twin.current_modal(OTHER) is not None, message="form")
    driver.fill(OTHER, {"What is working well?": "Huddles with the frailty team at 10:30"})
    assert "went wrong" in json.dumps(driver.submit(OTHER).json)
    reply = driver.command(ADMIN, "/copbot", "learned My manager shouted at me on ward 6")
    assert "went wrong" in json.dumps(reply.json())

    logged = caplog.text
    failures = [r for r in caplog.records if r.getMessage().startswith("handler failed on")]
    assert len(failures) == 3  # each failure is logged, with what failed
    assert "pulse_answer" in logged and "pulse_ballot" in logged and "reflection" in logged
    assert "pulse_answer_0_4" not in logged  # the action ID without the chosen value
    assert "frailty" not in logged and "shouted" not in logged  # nobody's text
    assert "[parameters:" not in logged  # no SQL parameters (ballot keys, sealed answers)
    with database.session() as session:
        keys = [row.id for row in session.exec(select(PulseBallot))]
    assert not keys  # nothing was stored either


def test_a_lead_asks_for_more_people_before_comments_show(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str], job_context
) -> None:
    """A comment minimum of 10 (as Glint uses): nine people writing is not enough."""
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "glint",
            "Questions": ["I can raise a concern and be heard", "What is getting in the way?"],
            "Schedule": "Weekly",
            "Day": "Friday",
            "Comment minimum": 10,
        },
    )
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now glint", channel=CHANNEL)
    for n, user in enumerate(people):
        twin.wait_for(lambda user=user: "Nobody" in json.dumps(twin.dms(user)), message=user)
        tap(driver, twin, user, "Answer")
        twin.wait_for(lambda user=user: twin.current_modal(user) is not None, message="form")
        answer = {"I can raise a concern and be heard": "4"}
        if n < 9:
            answer["What is getting in the way?"] = f"Discharge delays on ward {n}"
        driver.fill(user, answer)
        assert not driver.submit(user).errors
    close_now(database)
    twin.wait_for(lambda: "Results of the glint pulse" in json.dumps(twin.dms(LEAD)))
    shown = json.dumps(results_dm(twin, "glint"))
    assert "11 of 11 answered" in shown and "Average 4.00" in shown
    assert "discharge" not in shown.lower() and "Too few answers to show" in shown
    with database.session() as session:
        assert not any(a.text for a in session.exec(select(PulseAnswer)))
