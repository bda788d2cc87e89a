"""Day one in a real workspace: a fresh install, a fresh database, nobody has used copbot
yet. A lead's first pulses reach everyone Slack lists (and only them), exactly once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from slacktwin import SlackDriver, SlackTwin
from tests.support import ADMIN, BOT_TOKEN, CHANNEL, LEAD, MEMBER, OTHER, SIGNING_SECRET, TEAM

PEOPLE = [f"U1DAY{n:04d}" for n in range(196)]  # with the fixture's 4: 200 people
BOTS = ["U1BOTRSS1", "U1BOTSURV"]
GONE = "U1LEFT001"  # deactivated
TEAM_CHANNEL = "C1WARD001"
IN_CHANNEL = [LEAD, MEMBER, *PEOPLE[:57]]  # 59 people, plus a bot, the leaver and copbot


@pytest.fixture
def twin() -> Iterator[SlackTwin]:
    """A workspace of 200 people, two bots and a deactivated account, as it is the day
    copbot is installed (before copbot starts)."""
    twin = SlackTwin(
        team_id=TEAM, team_name="Day One ICS", bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET
    )
    twin.add_user(LEAD, name="lena", real_name="Lena Lead")
    twin.add_user(MEMBER, name="max", real_name="Max Member")
    twin.add_user(OTHER, name="olive", real_name="Olive Other", tz="Europe/Dublin")
    twin.add_user(ADMIN, name="ada", real_name="Ada Admin", is_admin=True)
    for n, user in enumerate(PEOPLE):
        twin.add_user(user, name=f"person{n}", real_name=f"Person {n}", tz="Europe/London")
    for user in BOTS:
        twin.add_user(user, name=user.lower(), real_name="A bot", is_bot=True)
    twin.add_user(GONE, name="gone", real_name="Left Last Year", deleted=True)
    twin.add_channel(CHANNEL, name="ideas", members=[LEAD, MEMBER, OTHER, ADMIN])
    twin.start()
    twin.add_channel(
        TEAM_CHANNEL, name="ward-7", members=[*IN_CHANNEL, BOTS[0], GONE, twin.bot_user_id]
    )
    yield twin
    twin.stop()


def pulse_dms(twin: SlackTwin, user: str, name: str) -> int:
    text = f"The {name} pulse check is here"
    return sum(text in (message.get("text") or "") for message in twin.dms(user))


def design_and_send(driver: SlackDriver, twin: SlackTwin, values: dict[str, object]) -> str:
    name = str(values["Name"])
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {"Questions": ["What is working well?"], "Schedule": "Weekly", "Day": "Monday", **values},
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: f"The {name} pulse will go out" in json.dumps(twin.dms(LEAD)))
    driver.command(LEAD, "/pulse", f"send-now {name}", channel=CHANNEL)
    return str(
        twin.wait_for(
            lambda: next(
                (e["text"] for e in twin.ephemerals(LEAD) if f"Sent the {name} pulse" in e["text"]),
                None,
            ),
            timeout=20,
            message=f"{name} confirmation",
        )
    )


def test_a_leads_first_pulses_reach_the_whole_workspace_once(
    twin: SlackTwin, driver: SlackDriver
) -> None:
    everyone = [LEAD, MEMBER, OTHER, ADMIN, *PEOPLE]

    confirmation = design_and_send(driver, twin, {"Name": "everyone", "Audience": "Everyone"})
    assert "to 200 people" in confirmation
    for user in everyone:
        twin.wait_for(lambda user=user: pulse_dms(twin, user, "everyone"), timeout=30, message=user)

    confirmation = design_and_send(
        driver,
        twin,
        {"Name": "ward", "Audience": "Members of a channel", "Channel": TEAM_CHANNEL},
    )
    assert f"to {len(IN_CHANNEL)} people" in confirmation
    for user in IN_CHANNEL:
        twin.wait_for(lambda user=user: pulse_dms(twin, user, "ward"), timeout=30, message=user)

    received = Counter({user: pulse_dms(twin, user, "everyone") for user in everyone})
    assert set(received.values()) == {1}
    ward = {user: pulse_dms(twin, user, "ward") for user in everyone}
    assert {user for user, count in ward.items() if count} == set(IN_CHANNEL)
    assert set(ward[user] for user in IN_CHANNEL) == {1}
    for user in [*BOTS, GONE, twin.bot_user_id]:
        assert not twin.dms(user), user
    # Nobody was looked up one at a time to get there.
    assert len(twin.calls_to("users.info")) <= 1  # at most the lead's own first contact


def test_a_stranger_is_answered_while_slack_is_slow_to_say_who_they_are(
    twin: SlackTwin, driver: SlackDriver
) -> None:
    """Someone the directory has not seen yet (joined after the sync, no team_join seen)
    is answered from what the command carries; their profile follows after the ack."""
    twin.add_user("U1NEWADM1", name="nadia", real_name="Nadia New", is_admin=True)
    twin.ratelimit("users.info", retry_after=12)  # Slack: "ask again in 12 s"
    driver.command("U1NEWADM1", "/copbot", "help")
    assert "/idea" in json.dumps(twin.ephemerals("U1NEWADM1"))
    # Until the profile arrives a stranger is a member; then the admin is a lead.
    answer = driver.command("U1NEWADM1", "/pulse", "list")
    assert "Only leads" in answer.text
    twin.wait_for(
        lambda: "Only leads" not in driver.command("U1NEWADM1", "/pulse", "list").text,
        timeout=40,
        message="the admin's profile arrived and their role was checked again",
    )
