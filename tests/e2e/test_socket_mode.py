"""copbot in Socket Mode against the twin: the same answers as over HTTP, and ``copbot run``
choosing Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.slack import make_web_client
from handlers.app import build_app
from slacktwin import SlackDriver, SlackTwin
from slacktwin.apphost import close_socket_mode
from storage import Database
from tests.support import BOT_TOKEN, CHANNEL, MEMBER, make_settings


@pytest.fixture
def socket_driver(twin: SlackTwin, database_url: str) -> Iterator[SlackDriver]:
    """copbot connected to the twin as ``copbot run`` connects it, and a driver over it."""
    assert twin.app_token
    settings = make_settings(twin, database_url, slack_app_token=twin.app_token)
    database = Database(database_url)
    app = build_app(settings, database, client=make_web_client(BOT_TOKEN, twin.api_url))
    # No web_client: apps.connections.open goes through app.client, i.e. SLACK_API_URL.
    handler = SocketModeHandler(app, settings.slack_app_token)
    handler.connect()
    try:
        twin.socket_mode.wait_for_connection()
        yield SlackDriver(twin, socket_mode=True)
    finally:
        close_socket_mode(handler)
        database.dispose()


def assert_guide(response_blocks: object) -> None:
    guide = json.dumps(response_blocks)
    for command in ("/idea", "/pulse", "/copbot privacy"):
        assert command in guide


def test_copbot_help_is_answered_over_socket_mode(
    socket_driver: SlackDriver, twin: SlackTwin
) -> None:
    response = socket_driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    assert response.status_code == 200
    ack = response.extensions["socket_mode_ack"]
    assert ack.type == "slash_commands" and ack.seconds < 3
    assert response.json()["response_type"] == "ephemeral"
    assert_guide(response.json()["blocks"])
    shown = twin.ephemerals(MEMBER, channel=CHANNEL)[-1]
    assert shown["via"] == "command.ack"
    assert_guide(shown["blocks"])


def test_app_home_opened_publishes_the_home_over_socket_mode(
    socket_driver: SlackDriver, twin: SlackTwin
) -> None:
    socket_driver.app_home_opened(MEMBER)
    view = twin.wait_for(lambda: twin.home_view(MEMBER))
    assert "Welcome to copbot" in json.dumps(view["blocks"])


def test_a_redelivered_event_has_one_effect_over_socket_mode(
    socket_driver: SlackDriver, twin: SlackTwin
) -> None:
    event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0MEMB001", "tab": "home"}
    socket_driver.event(event, event_id="Ev0SOCK0001")
    socket_driver.event(event, event_id="Ev0SOCK0001", retry_num=1, retry_reason="timeout")
    socket_driver.redeliver()
    retries = [e["retry_attempt"] for e in twin.socket_mode.envelopes]
    assert retries == [0, 1, 2]
    # A new event afterwards is handled: its publish shows the redeliveries' work is done.
    socket_driver.event(event, event_id="Ev0SOCK0002")
    twin.wait_for(lambda: len(twin.calls_to("views.publish")) >= 2)
    time.sleep(0.3)
    assert len(twin.calls_to("views.publish")) == 2


def test_copbot_run_uses_socket_mode_when_an_app_token_is_set(
    twin: SlackTwin, tmp_path: Path
) -> None:
    assert twin.app_token
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env={
            "PATH": os.environ["PATH"],
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": twin.app_token,
            "SLACK_API_URL": twin.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/copbot.db",
        },
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not twin.socket_mode.connections():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()[0]
                raise AssertionError(f"copbot run did not connect in Socket Mode:\n{output}")
            time.sleep(0.05)
        driver = SlackDriver(twin, socket_mode=True)
        response = driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
        assert_guide(response.json()["blocks"])
        assert_guide(twin.ephemerals(MEMBER, channel=CHANNEL)[-1]["blocks"])
    finally:
        process.terminate()
        process.communicate(timeout=10)
    twin.wait_for(lambda: not twin.socket_mode.connections())
