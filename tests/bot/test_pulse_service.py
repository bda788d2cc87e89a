"""Pulse design, audience, delivery, answers by token, and the one reminder."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.config import Settings
from bot.errors import NotAllowed, UserError
from bot.platform.rendering import render
from bot.pulse import closing, design, messages, runs
from bot.pulse.answers import record_answers
from bot.pulse.ballots import Ballot, Sealer
from bot.pulse.questions import STARTER_QUESTIONS, Answer
from bot.roles import Actor, Role
from bot.workspaces import ensure_workspace
from handlers.pulse import views
from storage import (
    Database,
    Member,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    PulseAnswer,
    PulseBallot,
    PulseParticipation,
    PulseRun,
)

TEAM, LEAD = "T0PULSE", "U0LEAD001"
LONDON = ZoneInfo("Europe/London")
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=LONDON).astimezone(UTC)
LEAD_ACTOR = Actor(TEAM, LEAD, "Lena", Role.LEAD)
MEMBER_ACTOR = Actor(TEAM, "U0MEMB001", "Max", Role.MEMBER)
SCALE = [{"kind": "scale_1_5", "text": "How are you feeling?"}]


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
        people = [
            ("U0NURSE01", "Nursing and midwifery", trust.id, "Europe/London"),
            ("U0NURSE02", "Nursing and midwifery", trust.id, "America/New_York"),
            ("U0PHARM01", "Pharmacy", None, "Asia/Kolkata"),
            ("U0GP00001", "Medical", None, None),
        ]
        for user_id, group, organisation, tz in people:
            session.add(
                Member(
                    team_id=TEAM,
                    slack_user_id=user_id,
                    staff_group=group,
                    organisation_id=organisation,
                    tz=tz,
                )
            )
        session.flush()
        yield session


def make(session: Session, settings: Settings, **overrides: object):
    values: dict[str, object] = {
        "name": "weekly",
        "audience_kind": "everyone",
        "questions": SCALE,
    }
    values.update(overrides)
    return design.create_pulse(session, LEAD_ACTOR, settings, **values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- design


def test_a_lead_designs_a_pulse_from_the_starter_bank(session, settings) -> None:
    pulse = make(session, settings, name="Feeling", questions=list(STARTER_QUESTIONS[:5]))
    assert (pulse.name, pulse.anonymous, pulse.open_days, pulse.schedule) == (
        "feeling",
        True,
        3,
        "one_off",
    )
    assert len(pulse.questions) == 5 and pulse.timezone == "Europe/London"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "two words"}, "name"),
        ({"name": ""}, "name"),
        ({"questions": []}, "questions"),
        ({"questions": SCALE * 6}, "questions"),
        ({"questions": [{"kind": "scale_1_5", "text": "   "}]}, "questions"),
        ({"questions": [{"kind": "essay", "text": "Why?"}]}, "questions"),
        (
            {"questions": [{"kind": "single_choice", "text": "Which?", "options": ["A"]}]},
            "questions",
        ),
        ({"open_days": 0}, "open_days"),
        ({"open_days": 15}, "open_days"),
        ({"schedule": "weekly", "weekday": 2, "local_time": "25:00"}, "schedule"),
        ({"schedule": "weekly", "local_time": "09:00"}, "schedule"),
        ({"timezone": "Mars/Olympus"}, "schedule"),
        ({"audience_kind": "channel"}, "audience"),
        ({"audience_kind": "organisation", "audience_value": "Nowhere"}, "audience"),
        ({"comment_min": 2}, "comment_min"),
        ({"comment_min": True}, "comment_min"),
    ],
)
def test_bad_designs_are_refused_with_the_field_to_fix(session, settings, overrides, field) -> None:
    with pytest.raises(UserError) as refused:
        make(session, settings, **overrides)
    assert refused.value.field == field


def test_only_leads_design_and_names_are_unique(session, settings) -> None:
    with pytest.raises(NotAllowed):
        design.create_pulse(
            session, MEMBER_ACTOR, settings, name="x", audience_kind="everyone", questions=SCALE
        )
    make(session, settings)
    with pytest.raises(UserError) as refused:
        make(session, settings, name="WEEKLY")
    assert refused.value.field == "name"


# ----------------------------------------------------------------------- audience


def test_audience_by_kind(session, settings) -> None:
    everyone = make(session, settings, name="all")
    nurses = make(
        session,
        settings,
        name="nurses",
        audience_kind="staff_group",
        audience_value="Nursing and midwifery",
    )
    trust = make(
        session,
        settings,
        name="trust",
        audience_kind="organisation",
        audience_value="hereford trust",
    )
    channel = make(session, settings, name="chan", audience_kind="channel", audience_value="C0X")
    assert design.audience(session, everyone) == [
        "U0GP00001",
        "U0NURSE01",
        "U0NURSE02",
        "U0PHARM01",
    ]
    assert design.audience(session, nurses) == ["U0NURSE01", "U0NURSE02"]
    assert design.audience(session, trust) == ["U0NURSE01", "U0NURSE02"]
    # Channel members come from the caller; unknown IDs (and bots, never members) drop out.
    assert design.audience(session, channel, ["U0PHARM01", "U0BOT0001", "U0GP00001"]) == [
        "U0GP00001",
        "U0PHARM01",
    ]


# ----------------------------------------------------------------------- delivery


def outbox(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.key)))


def test_a_run_queues_one_dm_per_member_at_their_local_time(session, settings) -> None:
    pulse = make(session, settings, schedule="weekly", weekday=2, local_time="09:00")
    early = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # before 09:00 in all three zones
    opened = runs.open_run(session, settings, pulse, now=early)
    again = runs.open_run(session, settings, pulse, now=early)  # a scheduler retry
    assert (opened.invited, opened.queued, again.queued) == (4, 4, 0)
    rows = {row.user_id: row for row in outbox(session)}
    assert len(outbox(session)) == 4
    assert all(row.kind == "pulse.delivery" and row.essential for row in rows.values())
    assert rows["U0NURSE01"].key == f"pulse:{opened.run.id}:U0NURSE01"
    local = {
        user: row.due_at.astimezone(ZoneInfo(tz))
        for user, row, tz in [
            ("U0NURSE01", rows["U0NURSE01"], "Europe/London"),
            ("U0NURSE02", rows["U0NURSE02"], "America/New_York"),
        ]
    }
    assert all((when.hour, when.minute) == (9, 0) for when in local.values())
    assert all(when.date().day == 25 for when in local.values())
    assert opened.run.closes_at == rows["U0NURSE02"].due_at + timedelta(days=3)
    text = json.dumps(rows["U0NURSE01"].blocks)
    assert "Nobody, including leads, can see your answers" in text
    assert "groups of 5 or more" in text


def test_dm_buttons_and_privacy_sentence() -> None:
    closes = datetime(2026, 11, 28, tzinfo=UTC)
    blocks = render(
        messages.PulseDM(
            run_id=7,
            pulse_name="weekly",
            questions=[{"kind": "scale_1_5", "text": "Q"}, {"kind": "free_text", "text": "Why?"}],
            anonymous=False,
            anonymity_min=5,
            closes_at=closes,
            token="tok",
        )
    ).blocks
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["1", "2", "3", "4", "5", "Answer"]
    assert views.parse_button_value(buttons[2]["value"]) == (7, 0, 3, "tok")
    assert "Your name is shown with your answers" in json.dumps(blocks)


def test_send_now_skips_quiet_hours_and_counts_those_outside_them(session, settings) -> None:
    make(session, settings)
    late = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # evening in London, 02:30 in Kolkata
    with pytest.raises(NotAllowed):
        runs.send_now(session, MEMBER_ACTOR, settings, "weekly", now=late)
    opened = runs.send_now(session, LEAD_ACTOR, settings, "weekly", now=late)
    assert opened.queued == 4 and opened.outside_working_hours == 3  # New York is at 16:00
    assert {row.due_at for row in outbox(session)} == {late}


# ------------------------------------------------------------------------ answers


@pytest.fixture
def run(session, settings):
    pulse = make(
        session,
        settings,
        questions=[
            {"kind": "scale_1_5", "text": "How are you feeling?"},
            {"kind": "free_text", "text": "What is getting in the way?"},
            {"kind": "single_choice", "text": "Which?", "options": ["A", "B"]},
        ],
    )
    return runs.open_run(session, settings, pulse, now=WEDNESDAY_NOON).run


def answers(session: Session, run_id: int) -> list[PulseAnswer]:
    return list(session.exec(select(PulseAnswer).where(PulseAnswer.run_id == run_id)))


def ballots(session: Session, settings: Settings, run) -> list[Ballot]:
    """What an open run holds, opened with the deployment's secret."""
    sealer = Sealer(settings, run.id, run.questions)
    rows = session.exec(select(PulseBallot).where(PulseBallot.run_id == run.id))
    return [sealer.open(row.id, row.sealed) for row in rows]


def test_changing_an_answer_counts_once(session, settings, run) -> None:
    first = record_answers(
        session,
        settings,
        run_id=run.id,
        user_id="U0NURSE01",
        token=None,
        answers=[Answer(0, 2)],
        now=WEDNESDAY_NOON,
    )
    assert not first.changed and first.chosen == {0: 2}
    second = record_answers(
        session,
        settings,
        run_id=run.id,
        user_id="U0NURSE01",
        token=first.token,
        answers=[Answer(0, 4)],
        now=WEDNESDAY_NOON,
    )
    assert second.changed and second.token == first.token and second.chosen == {0: 4}
    assert [b.answers for b in ballots(session, settings, run)] == [{0: (4, None)}]
    assert answers(session, run.id) == []  # nothing readable while the run is open
    # The full form replaces everything the token holds.
    record_answers(
        session,
        settings,
        run_id=run.id,
        user_id="U0NURSE01",
        token=first.token,
        answers=[Answer(1, text="Rotas"), Answer(2, 1)],
        replace_all=True,
        now=WEDNESDAY_NOON,
    )
    assert [b.answers for b in ballots(session, settings, run)] == [
        {1: (None, "Rotas"), 2: (1, None)}
    ]
    # A double tap on the first, tokenless message does not add a second set.
    with pytest.raises(UserError, match="already answered"):
        record_answers(
            session,
            settings,
            run_id=run.id,
            user_id="U0NURSE01",
            token=None,
            answers=[Answer(0, 1)],
            now=WEDNESDAY_NOON,
        )
    assert len(ballots(session, settings, run)) == 1
    closing.close_run(session, settings, run.id, now=WEDNESDAY_NOON)
    # One respondent, below the minimum of 5: only the count is kept.
    assert run.respondents == 1 and answers(session, run.id) == []
    assert ballots(session, settings, run) == []


@pytest.mark.parametrize(
    "answer",
    [Answer(0, 6), Answer(0, 0), Answer(2, 2), Answer(5, 1), Answer(0, text="x"), Answer(1, 3)],
)
def test_forged_values_are_refused(session, settings, run, answer) -> None:
    with pytest.raises(UserError):
        record_answers(
            session,
            settings,
            run_id=run.id,
            user_id="U0NURSE01",
            token=None,
            answers=[answer],
            now=WEDNESDAY_NOON,
        )
    assert ballots(session, settings, run) == []


def test_unknown_tokens_outsiders_other_runs_and_closed_runs_are_refused(
    session, settings, run
) -> None:
    receipt = record_answers(
        session,
        settings,
        run_id=run.id,
        user_id="U0NURSE01",
        token=None,
        answers=[Answer(0, 3)],
        now=WEDNESDAY_NOON,
    )
    other_pulse = make(session, settings, name="other")
    other = runs.open_run(session, settings, other_pulse, now=WEDNESDAY_NOON).run
    with pytest.raises(UserError, match="doesn't belong"):
        record_answers(
            session,
            settings,
            run_id=other.id,
            user_id="U0NURSE01",
            token=receipt.token,
            answers=[Answer(0, 1)],
            now=WEDNESDAY_NOON,
        )
    with pytest.raises(UserError, match="doesn't belong"):
        record_answers(
            session,
            settings,
            run_id=run.id,
            user_id="U0NURSE01",
            token="made-up",
            answers=[Answer(0, 1)],
            now=WEDNESDAY_NOON,
        )
    with pytest.raises(UserError, match="wasn't sent to you"):
        record_answers(
            session,
            settings,
            run_id=run.id,
            user_id="U0STRANGER",
            token=None,
            answers=[Answer(0, 1)],
            now=WEDNESDAY_NOON,
        )
    with pytest.raises(UserError, match="patient"):
        record_answers(
            session,
            settings,
            run_id=run.id,
            user_id="U0NURSE02",
            token=None,
            answers=[Answer(1, text="Patient 943 476 5919 waited")],
            now=WEDNESDAY_NOON,
        )
    closing.close_run(session, settings, run.id, now=WEDNESDAY_NOON)
    with pytest.raises(UserError, match="closed"):
        record_answers(
            session,
            settings,
            run_id=run.id,
            user_id="U0NURSE01",
            token=receipt.token,
            answers=[Answer(0, 1)],
            now=WEDNESDAY_NOON,
        )
    late = run.closes_at + timedelta(minutes=1)
    with pytest.raises(UserError, match="closed"):
        record_answers(
            session,
            settings,
            run_id=other.id,
            user_id="U0NURSE02",
            token=None,
            answers=[Answer(0, 1)],
            now=late,
        )
    assert run.respondents == 1


def test_closing_cancels_what_is_still_queued(session, settings) -> None:
    pulse = make(session, settings)
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # quiet weekend: all wait for Monday
    run = runs.open_run(session, settings, pulse, now=sunday).run
    closing.close_run(session, settings, run.id, now=sunday)
    assert {row.status for row in outbox(session)} == {OutboxStatus.CANCELLED}


# ---------------------------------------------------------------------- reminders


def test_one_reminder_only_to_non_responders(session, settings, run) -> None:
    record_answers(
        session,
        settings,
        run_id=run.id,
        user_id="U0NURSE01",
        token=None,
        answers=[Answer(0, 3)],
        now=WEDNESDAY_NOON,
    )
    later = WEDNESDAY_NOON + timedelta(days=2)  # Friday noon
    assert runs.send_reminders(session, settings, run.id, now=later) == 3
    assert runs.send_reminders(session, settings, run.id, now=later) == 0
    reminded = [row for row in outbox(session) if row.kind == "pulse.reminder"]
    assert sorted(row.user_id for row in reminded) == ["U0GP00001", "U0NURSE02", "U0PHARM01"]
    assert all(row.key.endswith(":reminder") for row in reminded)
    flags = session.exec(select(PulseParticipation.user_id, PulseParticipation.reminded)).all()
    assert dict(flags) == {
        "U0NURSE01": False,
        "U0NURSE02": True,
        "U0PHARM01": True,
        "U0GP00001": True,
    }


def test_a_reminder_that_would_land_after_close_is_dropped(session, settings, run) -> None:
    friday_night = run.closes_at - timedelta(hours=1)  # Saturday 11:00 London: quiet
    assert runs.send_reminders(session, settings, run.id, now=friday_night) == 0
    reminders = [row for row in outbox(session) if row.kind == "pulse.reminder"]
    assert reminders and all(row.status == OutboxStatus.CANCELLED for row in reminders)


def test_answers_racing_the_close_are_counted_once_or_refused(
    database: Database, session, settings
) -> None:
    """Answers in flight while the run closes: each is either sealed before the close and
    counted, or refused as closed; none is left behind in a ballot."""
    pulse = make(session, settings)
    run = runs.open_run(session, settings, pulse, now=WEDNESDAY_NOON).run
    session.commit()
    people = ["U0NURSE01", "U0NURSE02", "U0PHARM01", "U0GP00001"]
    accepted: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(len(people) + 1)

    def answer(user: str) -> None:
        start.wait()
        try:
            with database.session() as own:
                record_answers(
                    own,
                    settings,
                    run_id=run.id,
                    user_id=user,
                    token=None,
                    answers=[Answer(0, 3)],
                    now=WEDNESDAY_NOON,
                )
            accepted.append(user)
        except UserError:
            refused.append(user)
        except OperationalError:  # SQLite: a writer that lost the race; nothing stored
            refused.append(user)

    def close() -> None:
        start.wait()
        with database.session() as own:
            closing.close_run(own, settings, run.id, now=WEDNESDAY_NOON)

    threads = [threading.Thread(target=answer, args=(user,)) for user in people]
    threads.append(threading.Thread(target=close))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with database.session() as fresh:
        closed = fresh.get(PulseRun, run.id)
        assert closed.status == "closed" and closed.respondents == len(accepted)
        assert fresh.exec(select(PulseBallot)).all() == []
    assert len(accepted) + len(refused) == len(people)
