"""A pulse end to end through the twin: designed by a lead, sent now, answered in one tap
from DMs, closed by the scheduled job, results to the lead only above the minimum."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.platform.outbox import Deliverer
from bot.platform.scheduling import running_for
from bot.pulse.ballots import Sealer
from bot.pulse.jobs import pulse_open, pulse_steps
from bot.slack import make_web_client
from slacktwin import SlackDriver, SlackTwin
from storage import (
    Challenge,
    Database,
    OutboxMessage,
    Pulse,
    PulseAnswer,
    PulseBallot,
    PulseRun,
    utcnow,
)
from tests.support import ADMIN, BOT_TOKEN, CHANNEL, LEAD, MEMBER, OTHER

EXTRA = [f"U0PULSE{n:02d}" for n in range(3)]


@pytest.fixture
def people(twin: SlackTwin, driver: SlackDriver) -> list[str]:
    """Seven members copbot has met (first contact makes them members)."""
    for user_id in EXTRA:
        twin.add_user(user_id, name=user_id.lower(), real_name=f"Person {user_id[-2:]}")
        twin.join(CHANNEL, user_id)
    everyone = [LEAD, MEMBER, OTHER, ADMIN, *EXTRA]
    for user_id in everyone:
        driver.command(user_id, "/copbot", "help", channel=CHANNEL)
    return everyone


def latest_dm(twin: SlackTwin, user: str) -> dict:
    return twin.dms(user)[-1]


def results_dm(twin: SlackTwin, pulse: str) -> dict:
    """The lead's results message (the trend chart may arrive beside it, as a file)."""
    return next(m for m in reversed(twin.dms(LEAD)) if f"Results of the {pulse} pulse" in m["text"])


def test_design_send_answer_close_and_results(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str], job_context: object
) -> None:
    driver.command(MEMBER, "/pulse", "new", channel=CHANNEL)
    assert "Only leads" in json.dumps(twin.ephemerals(MEMBER)[-1])
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "weekly",
            "Audience": "Everyone",
            "Questions": ["How are you feeling about improvement work this week?"],
            "Your own questions": "What would help most?",
            "Schedule": "Weekly",
            "Day": "Monday",
            "Time": "09:30",
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "every week" in json.dumps(twin.dms(LEAD)), message="scheduled")

    driver.command(LEAD, "/pulse", "send-now weekly", channel=CHANNEL)
    twin.wait_for(lambda: "Sent the weekly pulse to 7 people" in json.dumps(twin.ephemerals(LEAD)))
    for user in people:
        twin.wait_for(lambda user=user: "Nobody, including leads" in json.dumps(twin.dms(user)))
    dm = latest_dm(twin, MEMBER)
    assert all(str(n) in json.dumps(dm["blocks"]) for n in range(1, 6))  # one-tap 1 to 5
    assert "Answer" in json.dumps(dm["blocks"])

    # Five people answer in one tap; one changes their mind (it counts once).
    channel_of = {user: twin.dm_channel(user) for user in people}
    for user, value in zip(people[:5], ["4", "5", "3", "4", "2"], strict=True):
        driver.click(user, value, message=(channel_of[user], latest_dm(twin, user)["ts"]))
    # Each DM is redrawn with the member's choice and a token for changes.
    for user in people[:5]:
        twin.wait_for(
            lambda user=user: "answer is in" in latest_dm(twin, user)["text"], message=user
        )
    driver.click(people[4], "5", message=(channel_of[people[4]], latest_dm(twin, people[4])["ts"]))
    with database.session() as session:
        assert session.exec(select(PulseAnswer)).all() == []  # sealed until close
        assert len(session.exec(select(PulseBallot)).all()) == 5
        run = session.exec(select(PulseRun)).one()
        run.closes_at = utcnow() - timedelta(minutes=1)
        session.add(run)

    pulse_steps()
    twin.wait_for(lambda: "Results of the weekly pulse" in json.dumps(twin.dms(LEAD)))
    results = json.dumps(results_dm(twin, "weekly"))
    assert "5 of 7 answered" in results
    assert "Average 4.20" in results  # 4, 5, 3, 4 and the changed 5
    with database.session() as session:
        answers = session.exec(select(PulseAnswer)).all()
        assert sorted(answer.value for answer in answers) == [3, 4, 4, 5, 5]
        assert all(answer.user_id is None for answer in answers)
        assert session.exec(select(PulseBallot)).all() == []
    twin.wait_for(lambda: twin.files, message="the trend chart")
    chart = twin.files[-1]
    assert chart["ims"] == [twin.dm_channel(LEAD)]
    assert chart["content"].startswith(b"\x89PNG\r\n\x1a\n")  # a real PNG
    driver.click(OTHER, "4", message=(channel_of[OTHER], latest_dm(twin, OTHER)["ts"]))
    twin.wait_for(lambda: "closed" in json.dumps(twin.ephemerals(OTHER)).lower())
    reply = driver.command(LEAD, "/pulse", "results weekly", channel=CHANNEL).json()
    assert "5 of 7 answered" in json.dumps(reply)
    # The lead closes the loop: everyone who answered hears what happens next.
    driver.click(
        LEAD,
        "What we are doing about it",
        message=(channel_of[LEAD], results_dm(twin, "weekly")["ts"]),
    )
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="response modal")
    driver.fill(LEAD, {"What we are doing about it": "Protected QI time from January."})
    assert not driver.submit(LEAD).errors
    for user in people[:5]:
        twin.wait_for(
            lambda user=user: "Protected QI time from January." in json.dumps(twin.dms(user)),
            message=user,
        )
    assert "Protected QI time" not in json.dumps(twin.dms(people[5]))  # did not answer


def test_results_are_withheld_below_the_minimum(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str], job_context: object
) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(
        LEAD,
        {
            "Name": "quick",
            "Questions": ["I can raise a concern and be heard"],
            "Schedule": "Weekly",
            "Day": "Friday",
        },
    )
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now quick", channel=CHANNEL)
    for user in people[:4]:
        twin.wait_for(lambda user=user: twin.dms(user) and "Nobody" in json.dumps(twin.dms(user)))
        driver.click(user, "2", message=(twin.dm_channel(user), latest_dm(twin, user)["ts"]))
    for user in people[:4]:
        twin.wait_for(lambda user=user: "answer is in" in latest_dm(twin, user)["text"])
    with database.session() as session:
        run = session.exec(select(PulseRun)).one()
        run.closes_at = utcnow() - timedelta(minutes=1)
        session.add(run)
    pulse_steps()
    twin.wait_for(lambda: "Results of the quick pulse" in json.dumps(twin.dms(LEAD)))
    results = json.dumps(results_dm(twin, "quick"))
    assert "4 of 7 answered" in results
    assert "Average" not in results and "2: 4" not in results
    assert not twin.files  # no trend chart either: nothing is safe to draw


def test_a_member_stops_one_pulse_from_app_home(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str]
) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "checkin", "Questions": ["What is working well?"]})
    driver.fill(LEAD, {"Schedule": "Weekly", "Day": "Tuesday"})
    assert not driver.submit(LEAD).errors
    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Stop sending me this" in json.dumps(twin.home_view(MEMBER) or {}))
    driver.click(MEMBER, "Stop sending me this", home=True)
    twin.wait_for(lambda: "Send me this again" in json.dumps(twin.home_view(MEMBER) or {}))
    driver.command(LEAD, "/pulse", "send-now checkin", channel=CHANNEL)
    twin.wait_for(lambda: "to 6 people" in json.dumps(twin.ephemerals(LEAD)), message="6 of 7")
    twin.wait_for(lambda: "Nobody" in json.dumps(twin.dms(OTHER)), message="others get it")
    assert "Nobody" not in json.dumps(twin.dms(MEMBER))


def sealed_values(database: Database, settings: Settings) -> list[int]:
    """The values held in an open run's ballots, opened as the closing job would."""
    with database.session() as session:
        run = session.exec(select(PulseRun)).one()
        sealer = Sealer(settings, run.id, run.questions)
        rows = session.exec(select(PulseBallot)).all()
        opened = [sealer.open(row.id, row.sealed) for row in rows]
    return sorted(value for ballot in opened for value in ballot.chosen().values())


def test_a_restart_during_an_open_run_loses_nothing(
    driver: SlackDriver,
    twin: SlackTwin,
    database: Database,
    settings: Settings,
    people: list[str],
    copbot,
) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "steady", "Questions": ["I can raise a concern and be heard"]})
    driver.fill(LEAD, {"Schedule": "Weekly", "Day": "Wednesday"})
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now steady", channel=CHANNEL)
    for user in (MEMBER, OTHER):
        twin.wait_for(lambda user=user: "Nobody" in json.dumps(twin.dms(user)), message=user)
    driver.click(OTHER, "3", message=(twin.dm_channel(OTHER), latest_dm(twin, OTHER)["ts"]))
    twin.wait_for(lambda: "answer is in" in latest_dm(twin, OTHER)["text"])
    copbot.restart()
    driver.app_url = f"{copbot.url}/slack/events"
    driver.click(MEMBER, "4", message=(twin.dm_channel(MEMBER), latest_dm(twin, MEMBER)["ts"]))
    twin.wait_for(lambda: "answer is in" in latest_dm(twin, MEMBER)["text"])
    driver.click(OTHER, "5", message=(twin.dm_channel(OTHER), latest_dm(twin, OTHER)["ts"]))
    twin.wait_for(lambda: sealed_values(database, settings) == [4, 5], message="the change")
    # Answers are stored before the ack: both kept, the change after the restart replaced the 3.


def test_one_reminder_only_to_those_who_have_not_answered(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str], job_context: object
) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "nudge", "Questions": ["I can raise a concern and be heard"]})
    driver.fill(LEAD, {"Schedule": "Weekly", "Day": "Thursday"})
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now nudge", channel=CHANNEL)
    for user in people[:2]:
        twin.wait_for(lambda user=user: "Nobody" in json.dumps(twin.dms(user)), message=user)
        driver.click(user, "4", message=(twin.dm_channel(user), latest_dm(twin, user)["ts"]))
    with database.session() as session:  # move the clock: two thirds of the run have passed
        run = session.exec(select(PulseRun)).one()
        run.opens_at = utcnow() - timedelta(days=11)  # closes in 4 days: quiet hours
        run.closes_at = utcnow() + timedelta(days=4)  # or a weekend never push it past close
        session.add(run)
    pulse_steps()
    pulse_steps()  # a second pass sends no second reminder
    with database.session() as session:
        reminded = sorted(
            row.user_id
            for row in session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == "pulse.reminder")
            )
        )
    assert reminded == sorted(people[2:])  # never those who answered, each once


def _next_monday(weeks_ahead: int = 5) -> date:
    """A Monday far enough ahead that the harness's own deliverer, on the real clock,
    cannot send anything the test schedules for it."""
    today = utcnow().date() + timedelta(weeks=weeks_ahead)
    return today + timedelta(days=(7 - today.weekday()) % 7)


def test_members_in_three_time_zones_get_it_at_their_own_local_time(
    driver: SlackDriver, twin: SlackTwin, database: Database, job_context: object
) -> None:
    zones = {
        "U0ATHENS": "Europe/Athens",
        "U0LONDON": "Europe/London",
        "U0NEWYORK": "America/New_York",
    }
    for user_id, zone in zones.items():
        twin.add_user(user_id, name=user_id.lower(), tz=zone)
        twin.join(CHANNEL, user_id)
        driver.command(user_id, "/copbot", "help", channel=CHANNEL)  # first contact: profile
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(
        LEAD,
        {
            "Name": "zones",
            "Audience": "Members of a channel",
            "Channel": CHANNEL,
            "Questions": ["I can raise a concern and be heard"],
            "Schedule": "Weekly",
            "Day": "Monday",
            "Time": "09:30",
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "every week" in json.dumps(twin.dms(LEAD)), message="scheduled")
    with database.session() as session:
        pulse = session.exec(select(Pulse).where(Pulse.name == "zones")).one()

    monday = _next_monday()
    london = ZoneInfo("Europe/London")
    with running_for(datetime.combine(monday, time(0, 5), london)):
        pulse_open(pulse.id)  # the weekly job, as the scheduler would run it

    port = make_web_client(BOT_TOKEN, twin.api_url)
    received: dict[str, datetime] = {}
    with Deliverer(database, port, worker_id="clock") as deliverer:
        for minutes in range(0, 24 * 60, 15):  # a controllable clock: Monday, every 15 min
            now = datetime.combine(monday, time(0, 0), UTC) + timedelta(minutes=minutes)
            deliverer.run_once(now=now)
            for user_id in zones:
                if user_id not in received and "Nobody" in json.dumps(twin.dms(user_id)):
                    received[user_id] = now
    local = {user: received[user].astimezone(ZoneInfo(zones[user])) for user in zones}
    # Each at 09:30 in their own zone (the first 15-minute tick after it), not London's.
    assert {user: (at.date(), at.strftime("%H:%M")) for user, at in local.items()} == {
        user: (monday, "09:30") for user in zones
    }
    assert received["U0ATHENS"] < received["U0LONDON"] < received["U0NEWYORK"]


def test_a_lead_opens_a_challenge_from_a_pulse_theme_in_one_step(
    driver: SlackDriver, twin: SlackTwin, database: Database, people: list[str], job_context: object
) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(
        LEAD,
        {
            "Name": "blocks",
            "Questions": ["What is getting in the way?"],
            "Schedule": "Weekly",
            "Day": "Friday",
        },
    )
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now blocks", channel=CHANNEL)
    answers = [
        "Discharge delays every afternoon",
        "Waiting for transport, discharge delays",
        "discharge delays and no beds",
        "Discharge delays again on Friday",
        "Long discharge delays on the ward",
        "As the only pharmacist on the night rota I feel unsafe at night.",
        "Rota gaps on nights",
    ]
    for user, answer in zip(people, answers, strict=True):
        twin.wait_for(lambda user=user: "Nobody" in json.dumps(twin.dms(user)), message=user)
        driver.click(user, "Answer", message=(twin.dm_channel(user), latest_dm(twin, user)["ts"]))
        twin.wait_for(lambda user=user: twin.current_modal(user) is not None, message="form")
        driver.fill(user, {"What is getting in the way?": answer})
        assert not driver.submit(user).errors
    with database.session() as session:
        run = session.exec(select(PulseRun)).one()
        run.closes_at = utcnow() - timedelta(minutes=1)
        session.add(run)
    pulse_steps()
    twin.wait_for(lambda: "Results of the blocks pulse" in json.dumps(twin.dms(LEAD)))
    results = results_dm(twin, "blocks")
    shown = json.dumps(results["blocks"])
    assert "Open a challenge: discharge delays" in shown
    # Two people's words, or one person's sentence, are never shown (the minimum is 5).
    assert "rota" not in shown.lower() and "pharmacist" not in shown.lower()
    # Seven written answers: their themes, summarised offline (no model is configured),
    # each carried by at least five people and quoting nobody.
    assert "Themes in what people wrote" in shown
    assert "Discharge (mentioned in 5 of 7)" in shown
    assert "offline summary" in shown

    driver.click(
        MEMBER, "Open a challenge: discharge delays", message=(twin.dm_channel(LEAD), results["ts"])
    )
    driver.click(
        LEAD, "Open a challenge: discharge delays", message=(twin.dm_channel(LEAD), results["ts"])
    )
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="challenge form")
    assert twin.current_modal(MEMBER) is None
    modal = json.dumps(twin.current_modal(LEAD))
    assert "How might we improve discharge delays?" in modal
    driver.fill(
        LEAD, {"Channel": CHANNEL, "Closes": (utcnow() + timedelta(days=14)).date().isoformat()}
    )
    assert not driver.submit(LEAD).errors
    with database.session() as session:
        challenge = session.exec(select(Challenge)).one()
    assert challenge.title == "How might we improve discharge delays?"
    assert "blocks pulse" in challenge.description


def test_a_breakdown_that_would_reveal_a_small_group_is_suppressed(
    driver: SlackDriver, twin: SlackTwin, database: Database, job_context: object
) -> None:
    """Six nurses, five doctors, one pharmacist: showing doctors would reveal the
    pharmacist by subtraction, so doctors are folded in with them."""
    groups = ["Nursing and midwifery"] * 6 + ["Medical"] * 5 + ["Pharmacy"]
    staff = [f"U0STAFF{n:02d}" for n in range(len(groups))]
    for user_id, group in zip(staff, groups, strict=True):
        twin.add_user(user_id, name=user_id.lower())
        twin.join(CHANNEL, user_id)
        driver.app_home_opened(user_id)
        twin.wait_for(lambda u=user_id: "Edit profile" in json.dumps(twin.home_view(u) or {}))
        driver.click(user_id, "Edit profile", home=True)
        twin.wait_for(lambda u=user_id: twin.current_modal(u) is not None, message="profile")
        driver.fill(user_id, {"Staff group": group})
        assert not driver.submit(user_id).errors
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(
        LEAD,
        {
            "Name": "groups",
            "Audience": "Members of a channel",
            "Channel": CHANNEL,
            "Questions": ["I can raise a concern and be heard"],
            "Schedule": "Weekly",
            "Day": "Tuesday",
        },
    )
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now groups", channel=CHANNEL)
    for user in staff:
        twin.wait_for(lambda user=user: "Nobody" in json.dumps(twin.dms(user)), message=user)
        driver.click(user, "4", message=(twin.dm_channel(user), latest_dm(twin, user)["ts"]))
    for user in staff:
        twin.wait_for(lambda user=user: "answer is in" in latest_dm(twin, user)["text"])
    with database.session() as session:
        run = session.exec(select(PulseRun)).one()
        run.closes_at = utcnow() - timedelta(minutes=1)
        session.add(run)
    pulse_steps()
    twin.wait_for(lambda: "Results of the groups pulse" in json.dumps(twin.dms(LEAD)))
    results = results_dm(twin, "groups")
    shown = json.dumps(results["blocks"])
    assert "12 of" in shown
    assert "Nursing and midwifery 6" in shown and "Other (small groups) 6" in shown
    assert "*By staff group:*" in shown and "staff_group" not in shown  # words, not a key
    assert "Pharmacy" not in shown and "Medical" not in shown
