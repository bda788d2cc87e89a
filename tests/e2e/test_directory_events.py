"""The directory between nightly syncs: ``team_join`` adds a newcomer to every audience,
``user_change`` for a deactivated account takes them out, with no Slack call each."""

from __future__ import annotations

import json

from slacktwin import SlackDriver, SlackTwin
from tests.support import CHANNEL, LEAD, OTHER


def test_a_newcomer_is_in_the_next_pulse_and_a_leaver_is_not(
    twin: SlackTwin, driver: SlackDriver
) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "welcome",
            "Audience": "Everyone",
            "Questions": ["What is working well?"],
            "Schedule": "Weekly",
            "Day": "Friday",
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "every week" in json.dumps(twin.dms(LEAD)), message="scheduled")
    driver.command(LEAD, "/pulse", "send-now welcome", channel=CHANNEL)
    twin.wait_for(lambda: "Sent the welcome pulse to 4 people" in json.dumps(twin.ephemerals(LEAD)))

    assert driver.team_join("U1NEWBIE1", real_name="Nia Newcomer").status_code == 200
    twin.update_user(OTHER, deleted=True)
    assert driver.user_change(OTHER).status_code == 200
    twin.reset_calls()
    driver.command(LEAD, "/pulse", "send-now welcome", channel=CHANNEL)
    twin.wait_for(
        lambda: "Sent the welcome pulse to 4 people" in json.dumps(twin.ephemerals(LEAD)[-1:])
    )
    twin.wait_for(lambda: twin.dms("U1NEWBIE1"), message="the newcomer's pulse")
    assert "welcome pulse" in twin.dms("U1NEWBIE1")[0]["text"]
    twin.wait_for(lambda: len(twin.dms(LEAD)) >= 3, message="the lead's second pulse")
    assert sum("welcome pulse" in m["text"] for m in twin.dms(OTHER)) == 1  # the first only
    assert not twin.calls_to("users.info") and not twin.calls_to("users.list")
