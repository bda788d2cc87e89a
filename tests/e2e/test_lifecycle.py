"""The install lifecycle: an uninstall holds every queued message and scheduled job for the
workspace (nothing sent, nothing marked failed); a reinstall resumes, and every person
still gets exactly one DM."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from sqlmodel import col, func, select

from bot.housekeeping import profile_sync
from bot.nudges.jobs import ideas_awaiting_review
from bot.pulse.jobs import pulse_steps
from slacktwin import SlackDriver, SlackTwin
from storage import Database, OutboxMessage, OutboxStatus
from tests.support import ADMIN, BOT_TOKEN, CHANNEL, LEAD, MEMBER, OTHER, SIGNING_SECRET, TEAM

PEOPLE = [f"U1LIFE{n:04d}" for n in range(116)]
EVERYONE = [LEAD, MEMBER, OTHER, ADMIN, *PEOPLE]
PULSE_TEXT = "The steady pulse check is here"


@pytest.fixture
def twin() -> Iterator[SlackTwin]:
    twin = SlackTwin(
        team_id=TEAM, team_name="Test ICS", bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET
    )
    twin.add_user(LEAD, name="lena", real_name="Lena Lead")
    twin.add_user(MEMBER, name="max", real_name="Max Member")
    twin.add_user(OTHER, name="olive", real_name="Olive Other")
    twin.add_user(ADMIN, name="ada", real_name="Ada Admin", is_admin=True)
    for n, user in enumerate(PEOPLE):
        twin.add_user(user, name=f"p{n}", real_name=f"Person {n}")
    twin.add_channel(CHANNEL, name="ideas", members=[LEAD, MEMBER, OTHER, ADMIN])
    twin.start()
    yield twin
    twin.stop()


def pulse_dms(twin: SlackTwin, user: str) -> int:
    return sum(PULSE_TEXT in (message.get("text") or "") for message in twin.dms(user))


def delivered(twin: SlackTwin) -> int:
    return sum(pulse_dms(twin, user) for user in EVERYONE)


def statuses(database: Database) -> dict[str, int]:
    with database.session() as session:
        rows = session.exec(
            select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
        )
        return {str(status): int(count) for status, count in rows}


def errors(database: Database) -> list[str]:
    with database.session() as session:
        query = select(OutboxMessage.last_error).where(col(OutboxMessage.last_error).is_not(None))
        return [str(error) for error in session.exec(query)]


def send_to_everyone(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "steady",
            "Audience": "Everyone",
            "Questions": ["I can raise a concern and be heard"],
            "Schedule": "Weekly",
            "Day": "Wednesday",
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "every week" in json.dumps(twin.dms(LEAD)), message="scheduled")
    driver.command(LEAD, "/pulse", "send-now steady", channel=CHANNEL)


@pytest.mark.parametrize("how", ["app_uninstalled", "tokens_revoked"])
def test_uninstall_holds_everything_and_a_reinstall_sends_each_dm_once(
    how: str, twin: SlackTwin, driver: SlackDriver, database: Database, job_context: object
) -> None:
    send_to_everyone(driver, twin)
    twin.wait_for(lambda: delivered(twin) >= 10, timeout=20, message="the first DMs")

    getattr(driver, how)()  # Slack tells copbot, then refuses its token
    twin.uninstall()
    twin.wait_for(lambda: not statuses(database).get(OutboxStatus.SENDING), message="settled")
    sent = delivered(twin)
    assert sent < len(EVERYONE), "the uninstall came too late to hold anything"
    time.sleep(1.0)  # the deliverer polls every 0.05 s: it would have sent more by now
    assert delivered(twin) == sent
    held = statuses(database)
    assert held.get(OutboxStatus.PENDING, 0) >= len(EVERYONE) - sent
    assert not held.get(OutboxStatus.UNDELIVERABLE) and not errors(database)

    twin.reset_calls()  # scheduled work skips the workspace too
    profile_sync()
    pulse_steps()
    ideas_awaiting_review()
    # Only the runtime's own install check (auth.test, refused) may still be in flight.
    assert [c.method for c in twin.calls if c.method != "auth.test"] == []

    twin.reinstall()
    driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)  # Slack calls copbot again
    for user in EVERYONE:
        twin.wait_for(lambda user=user: pulse_dms(twin, user), timeout=30, message=user)
    assert {pulse_dms(twin, user) for user in EVERYONE} == {1}
    twin.wait_for(lambda: set(statuses(database)) == {OutboxStatus.SENT}, message="recorded")
    assert not errors(database)


def test_app_rate_limited_is_acknowledged_with_one_warning(
    driver: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        response = driver.app_rate_limited()
    assert response.status_code == 200
    warnings = [r for r in caplog.records if "rate-limited" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
