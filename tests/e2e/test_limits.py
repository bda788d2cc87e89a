"""Expensive commands are limited per member, with a friendly message and no error."""

from __future__ import annotations

from slacktwin import SlackDriver
from tests.support import CHANNEL, MEMBER, OTHER


def test_searching_too_often_gets_a_friendly_wait(driver: SlackDriver) -> None:
    replies = [
        driver.command(MEMBER, "/idea", "search discharge", channel=CHANNEL) for _ in range(21)
    ]
    assert all(reply.status_code == 200 for reply in replies)
    assert all("No ideas match" in reply.text for reply in replies[:20])
    assert "searched a lot just now" in replies[20].text
    assert "No ideas match" in driver.command(OTHER, "/idea", "search discharge").text
