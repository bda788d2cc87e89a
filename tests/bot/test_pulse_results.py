"""Results on close: withheld below the minimum, suppressed breakdowns, change and trend;
and the data itself holds no link from an anonymous answer to a person."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from bot.config import Settings
from bot.errors import UserError
from bot.learning.summariser import Point, Source, Summariser
from bot.pulse import answers, closing, design, results, runs, themes
from bot.pulse.questions import Answer
from bot.roles import Actor, Role
from bot.workspaces import ensure_workspace
from storage import Database, Member, Organisation, PulseAnswer, PulseParticipation, Workspace

TEAM, LEAD = "T0PULSE", "U0LEAD001"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEAD_ACTOR = Actor(TEAM, LEAD, "Lena", Role.LEAD)
QUESTIONS = [
    {"kind": "scale_1_5", "text": "How are you feeling?"},
    {"kind": "free_text", "text": "What is getting in the way?"},
    {"kind": "yes_no", "text": "Did you connect?"},
]
# 6 nurses, 5 doctors, 1 pharmacist: the pharmacist must never be a group of their own.
PEOPLE = [(f"U0NURSE{i:02}", "Nursing and midwifery") for i in range(6)]
PEOPLE += [(f"U0MEDIC{i:02}", "Medical") for i in range(5)] + [("U0PHARM00", "Pharmacy")]


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, copbot_leads=LEAD, slack_signing_secret="s" * 32)  # type: ignore[call-arg]


@pytest.fixture
def session(database: Database):
    with database.session() as session:
        ensure_workspace(session, TEAM)
        trust = Organisation(team_id=TEAM, name="Hereford Trust", org_type="Acute trust")
        session.add(trust)
        session.flush()
        for user_id, group in PEOPLE:
            session.add(
                Member(
                    team_id=TEAM,
                    slack_user_id=user_id,
                    staff_group=group,
                    organisation_id=trust.id,
                    tz="Europe/London",
                )
            )
        session.flush()
        yield session


@pytest.fixture
def pulse(session, settings):
    return design.create_pulse(
        session, LEAD_ACTOR, settings, name="weekly", audience_kind="everyone", questions=QUESTIONS
    )


def answer_all(
    session: Session, settings: Settings, run_id: int, who: list[str], score: int = 4
) -> list[str]:
    tokens = []
    for user_id in who:
        receipt = answers.record_answers(
            session,
            settings,
            run_id=run_id,
            user_id=user_id,
            token=None,
            answers=[
                Answer(0, score),
                Answer(1, text="Rota gaps and staff shortages"),
                Answer(2, 1),
            ],
            replace_all=True,
            now=NOW,
        )
        tokens.append(receipt.token)
    return tokens


def closed_run(session, settings, pulse, who: list[str], when=NOW, score: int = 4):
    run = runs.open_run(session, settings, pulse, now=when, send_now=True).run
    answer_all(session, settings, run.id, who, score)
    closing.close_run(session, settings, run.id, now=when + timedelta(days=3))
    return run


def test_results_withheld_at_four_answers(session, settings, pulse) -> None:
    run = closed_run(session, settings, pulse, [user for user, _ in PEOPLE[:4]])
    shown = results.run_results(session, settings, run.id)
    assert shown.withheld and shown.respondents == 4 and shown.questions == ()
    assert not shown.breakdowns
    assert "at least 5" in (shown.notice or "")


def test_results_shown_at_five_answers(session, settings, pulse) -> None:
    run = closed_run(session, settings, pulse, [user for user, _ in PEOPLE[:5]])
    shown = results.run_results(session, settings, run.id)
    assert not shown.withheld and shown.respondents == 5 and shown.invited == 12
    feeling, way, connect = shown.questions
    assert feeling.mean == 4 and dict(feeling.distribution)["4"] == 5
    assert connect.mean == 1 and dict(connect.distribution) == {"Yes": 5, "No": 0}
    assert ("staff shortages", 5) in way.phrases and ("rota gaps", 5) in way.phrases


def test_no_results_while_a_run_is_open(session, settings, pulse) -> None:
    run = runs.open_run(session, settings, pulse, now=NOW, send_now=True).run
    with pytest.raises(UserError, match="closes"):
        results.run_results(session, settings, run.id)


def test_a_small_group_is_suppressed_with_its_complement(session, settings, pulse) -> None:
    run = closed_run(session, settings, pulse, [user for user, _ in PEOPLE])
    shown = results.run_results(session, settings, run.id)
    by_group = shown.breakdowns["staff_group"]
    # Medical (5) is folded with Pharmacy (1), or 12 - 6 - 5 would reveal the pharmacist.
    assert by_group.respondents.rows() == [
        ("Nursing and midwifery", 6),
        ("Other (small groups)", 6),
    ]
    assert dict(by_group.means[0]) == {"Nursing and midwifery": 4, "Other (small groups)": 4}
    assert "Pharmacy" not in json.dumps(by_group.means) and "Medical" not in str(by_group)
    # One organisation type holding everyone is shown whole.
    assert shown.breakdowns["organisation_type"].respondents.rows() == [("Acute trust", 12)]


def test_change_from_the_previous_run_and_the_trend(session, settings, pulse) -> None:
    everyone = [user for user, _ in PEOPLE]
    closed_run(session, settings, pulse, everyone[:4], when=NOW, score=5)  # withheld
    first = closed_run(session, settings, pulse, everyone, when=NOW + timedelta(days=7), score=2)
    second = closed_run(session, settings, pulse, everyone[:6], when=NOW + timedelta(days=14))
    shown = results.run_results(session, settings, second.id)
    assert shown.questions[0].change == pytest.approx(2.0)
    assert shown.response_rate_change == pytest.approx(6 / 12 - 1)
    assert results.run_results(session, settings, first.id).questions[0].change is None
    points = results.trend(session, settings, pulse.id)
    assert [(p.respondents, p.means[0]) for p in points] == [(4, None), (12, 2.0), (6, 4.0)]
    assert results.latest_results(session, settings, TEAM, "Weekly").run_id == second.id


def test_no_row_links_an_anonymous_answer_to_a_user(session, settings, pulse, database) -> None:
    everyone = [user for user, _ in PEOPLE]
    run = runs.open_run(session, settings, pulse, now=NOW, send_now=True).run
    tokens = answer_all(session, settings, run.id, everyone)
    runs.send_reminders(session, settings, run.id, now=NOW)
    closing.close_run(session, settings, run.id, now=NOW + timedelta(days=3))
    session.commit()
    user_ids = set(everyone) | {LEAD}
    derived = {hashlib.sha256(user.encode()).hexdigest() for user in user_ids}
    answer_columns = [column.name for column in PulseAnswer.__table__.columns]
    rows = session.exec(select(PulseAnswer)).all()
    assert len(rows) == 36
    for row in rows:
        for name in answer_columns:
            value = getattr(row, name)
            assert value not in user_ids and value not in derived, name
            assert not (isinstance(value, str) and any(user in value for user in user_ids))
        assert row.user_id is None
    # The answer table's only link is to its run; participation shares nothing else.
    foreign = {
        (fk["referred_table"], tuple(fk["referred_columns"]))
        for fk in inspect(database.engine).get_foreign_keys("pulse_answer")
    }
    assert foreign == {("pulse_run", ("id",))}
    shared = set(answer_columns) & {c.name for c in PulseParticipation.__table__.columns}
    assert shared == {"id", "run_id", "user_id"}  # user_id: attributed runs only
    # Groups smaller than the minimum are stored folded, so no join picks anyone out.
    assert {row.staff_group for row in rows} == {"Nursing and midwifery", "Other (small groups)"}
    # Joining on the run matches every answer to every participant alike: no link.
    with database.engine.connect() as connection:
        pairs = connection.execute(
            text(
                "SELECT a.id, count(p.id) FROM pulse_answer a JOIN pulse_participation p "
                "ON p.run_id = a.run_id GROUP BY a.id"
            )
        ).all()
        assert {count for _, count in pairs} == {len(everyone)}
        by_user = connection.execute(
            text(
                "SELECT count(*) FROM pulse_answer a JOIN pulse_participation p "
                "ON p.user_id = a.user_id"
            )
        ).scalar()
        assert by_user == 0
        # Nothing stored anywhere holds a member's token (the outbox keeps what it sends).
        for table in inspect(database.engine).get_table_names():
            for stored in connection.execute(text(f'SELECT * FROM "{table}"')):
                dumped = json.dumps([str(value) for value in stored])
                assert not any(token in dumped for token in tokens), table


ONLY_ONE = "As the only pharmacist on the night rota I feel unsafe"
WRITTEN = [
    "Discharge delays every afternoon",
    "Waiting for transport, discharge delays",
    "discharge delays and no beds",
    "Discharge delays again on Friday",
    "Long discharge delays on the ward",
    ONLY_ONE,
    "Rota gaps on nights",
]


def test_a_theme_needs_enough_people_and_quotes_nobody() -> None:
    many = tuple(range(5))
    assert themes.safe_theme(Point("Discharge delays (5 people)", many), WRITTEN, 5)
    assert not themes.safe_theme(Point("Discharge delays", (0, 1, 2, 3)), WRITTEN, 5)
    # A model citing many sources may still quote one person: that is never shown.
    quoted = Point(f"Staff say: {ONLY_ONE.lower()}", tuple(range(7)))
    assert not themes.safe_theme(quoted, WRITTEN, 5)


def test_offline_themes_for_comments_are_terms_from_enough_people() -> None:
    summary = Summariser(None).digest(
        [Source(text, kind="pulse_comment") for text in WRITTEN], min_sources=5
    )
    texts = [point.text for point in summary.key_themes]
    assert "Discharge (mentioned in 5 of 7)" in texts
    assert all(len(point.sources) >= 5 for point in summary.key_themes)
    assert not summary.whats_working and not summary.challenges  # sentences: never
    assert "pharmacist" not in json.dumps(texts).lower() and "rota" not in json.dumps(texts)


def test_the_run_keeps_its_minimum_and_a_rise_applies(session, settings, pulse) -> None:
    run = closed_run(session, settings, pulse, [user for user, _ in PEOPLE[:6]])
    assert run.anonymity_min == 5
    workspace = session.get(Workspace, TEAM)
    workspace.anonymity_min = 3  # lowered later: the run still needs 5
    session.add(workspace)
    assert runs.minimum_for(session, settings, run, TEAM) == 5
    assert not results.run_results(session, settings, run.id).withheld
    workspace.anonymity_min = 7  # raised later: the run is held to 7
    session.add(workspace)
    assert results.run_results(session, settings, run.id).withheld
