"""A member sets their own nudge rules in App Home."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.platform import outbox
from bot.workspaces import ensure_workspace
from slacktwin import SlackDriver, SlackTwin
from storage import Database, NudgePreference, utcnow
from tests.support import CHANNEL, LEAD, MEMBER, TEAM


def home(twin: SlackTwin) -> str:
    return json.dumps((twin.home_view(MEMBER) or {}).get("blocks"), ensure_ascii=False)


def test_quiet_hours_limit_opt_outs_and_snooze(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Your nudges" in home(twin), message="nudges section")
    assert "19:00–08:00 and weekends" in home(twin) and "up to 3 a week" in home(twin)
    driver.click(MEMBER, "Nudge settings", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(
        MEMBER,
        {
            "Quiet from": "21:00",
            "Quiet until": "07:30",
            "Weekends": [],
            "Reminders a week": "1",
            "Don't send me": ["Challenges closing soon"],
        },
    )
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: "21:00–07:30 (your time)" in home(twin), message="saved")
    assert "up to 1 a week" in home(twin) and "Challenges closing soon" in home(twin)
    driver.click(MEMBER, "Snooze for a week", home=True)
    twin.wait_for(lambda: "Snoozed until" in home(twin), message="snoozed")
    driver.click(MEMBER, "Resume nudges", home=True)
    twin.wait_for(lambda: "Snooze for a week" in home(twin), message="resumed")
    with database.session() as session:
        preference = session.exec(select(NudgePreference)).one()
    assert preference.opted_out == ["challenge.closing"]
    assert preference.quiet_weekends is False and preference.weekly_budget == 1
    assert preference.snoozed_until is None


def test_a_weekly_limit_out_of_range_is_refused(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Your nudges" in home(twin))
    driver.click(MEMBER, "Nudge settings", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(MEMBER, {"Reminders a week": "25"})
    result = driver.submit(MEMBER)
    assert result.errors  # the client (max 20) or copbot refuses it


def test_copbot_schedule_shows_leads_the_outbox_and_jobs(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    with database.session() as session:
        ensure_workspace(session, TEAM)
        outbox.enqueue(
            session,
            team_id=TEAM,
            key="later:1",
            kind="pulse.reminder",
            channel=MEMBER,
            text="Later",
            due_at=utcnow() + timedelta(days=2),
        )
    reply = driver.command(MEMBER, "/copbot", "schedule", channel=CHANNEL).json()
    assert "Only leads" in reply["text"]
    reply = json.dumps(driver.command(LEAD, "/copbot", "schedule", channel=CHANNEL).json())
    assert "1 scheduled for later" in reply
    assert "Upcoming" in reply
