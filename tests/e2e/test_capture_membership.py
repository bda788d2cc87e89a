"""Learning capture tells the truth against the strict twin: a channel counts as captured
only once copbot is in it (it joins a public channel, then hears its messages); for a
private channel copbot is not in, the lead is told to invite it and nothing changes."""

from __future__ import annotations

import json

from sqlmodel import select

from slacktwin import SlackDriver, SlackTwin
from storage import CaptureChannel, Database
from tests.e2e.test_learning import turn_on_capture, wait_until_kept
from tests.support import LEAD, MEMBER

PUBLIC = "C0PUBLIC1"
PRIVATE = "G0PRIVAT1"


def captured(database: Database) -> list[str]:
    with database.session() as session:
        return [c.channel_id for c in session.exec(select(CaptureChannel))]


def test_capturing_a_public_channel_joins_it_then_hears_its_messages(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    twin.add_channel(PUBLIC, name="quality", members=[LEAD, MEMBER], bot_is_member=False)
    turn_on_capture(driver, twin, LEAD, PUBLIC)
    assert twin.bot_user_id in twin.members(PUBLIC)
    assert captured(database) == [PUBLIC]
    assert any(c.args.get("channel") == PUBLIC for c in twin.calls_to("conversations.join"))
    driver.post_message(MEMBER, PUBLIC, "We cut discharge delays by starting TTOs earlier.")
    wait_until_kept(twin, database, 1)


def test_capturing_a_private_channel_copbot_is_not_in_asks_the_lead_to_invite_it(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    twin.add_channel(
        PRIVATE, name="leads-only", members=[LEAD, MEMBER], is_private=True, bot_is_member=False
    )
    driver.app_home_opened(LEAD)
    twin.wait_for(lambda: "Capture a channel" in json.dumps(twin.home_view(LEAD) or {}))
    driver.click(LEAD, "Capture a channel", home=True)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="capture form")
    driver.fill(LEAD, {"Channel": PRIVATE})
    errors = json.dumps(driver.submit(LEAD).errors)
    assert "Invite @copbot to" in errors and "first, then try again." in errors
    assert captured(database) == []
    assert twin.messages(PRIVATE) == []
    assert twin.bot_user_id not in twin.members(PRIVATE)

    # Once invited, the same form works and the notice goes in.
    twin.join(PRIVATE, twin.bot_user_id)
    assert not driver.submit(LEAD).errors
    twin.wait_for(
        lambda: any("learning capture" in m["text"] for m in twin.messages(PRIVATE)),
        message="the notice",
    )
    assert captured(database) == [PRIVATE]
