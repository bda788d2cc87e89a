"""Overload: a request that has waited too long for a dispatch thread is answered at once
(a command with a kind "busy" message, anything else 503 so Slack sends an event again)
instead of joining a queue that would make every request miss Slack's 3 s."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

import httpx
from slack_bolt import Ack, App

from bot.slack import make_web_client
from handlers.web import BUSY, BackgroundServer, create_web_app
from slacktwin import SlackDriver, SlackTwin
from storage import Database
from tests.support import BOT_TOKEN, TEAM

SECRET = "overload-secret"
HOLD_SECONDS = 1.5


FORM, JSON = "application/x-www-form-urlencoded", "application/json"


def command(text: str) -> tuple[bytes, str]:
    body = urlencode(
        {
            "command": "/work",
            "text": text,
            "user_id": "U0MEMB001",
            "team_id": TEAM,
            "channel_id": "C0IDEAS01",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/respond",
        }
    ).encode()
    return body, FORM


def event() -> tuple[bytes, str]:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A0COPBOT",
            "event_id": "Ev0001",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "user": "U0MEMB001",
                "channel": "C0IDEAS01",
                "ts": "1.000001",
                "text": "hello",
            },
        }
    ).encode()
    return body, JSON


def test_requests_that_wait_too_long_are_answered_busy_and_not_run(
    database: Database, twin: SlackTwin
) -> None:
    ran: list[str] = []
    app = App(signing_secret=SECRET, client=make_web_client(BOT_TOKEN, twin.api_url))

    @app.command("/work")
    def work(ack: Ack, command: dict[str, str]) -> None:
        ran.append(command["text"])
        time.sleep(HOLD_SECONDS)  # holds the only dispatch thread
        ack(f"done {command['text']}")

    @app.event("message")
    def message(ack: Ack) -> None:
        ran.append("event")
        ack()

    web = create_web_app(
        app, database, signing_secret=SECRET, dispatch_threads=1, shed_after=HOLD_SECONDS / 3
    )
    server = BackgroundServer(web).start()
    slack = SlackDriver(twin, app_url=f"{server.url}/slack/events", signing_secret=SECRET)
    answers: dict[str, httpx.Response] = {}

    def send(name: str, request: tuple[bytes, str]) -> None:
        answers[name] = slack.send_raw(*request)

    try:
        first = threading.Thread(target=send, args=("first", command("first")))
        first.start()
        time.sleep(HOLD_SECONDS / 5)  # the first holds the thread; these two queue behind it
        queued = [
            threading.Thread(target=send, args=("second", command("second"))),
            threading.Thread(target=send, args=("event", event())),
        ]
        for thread in queued:
            thread.start()
        for thread in (first, *queued):
            thread.join()
        after = slack.send_raw(*command("third"))
        metrics = httpx.get(f"{server.url}/metrics").text
    finally:
        slack.shutdown()
        server.stop()

    assert answers["first"].status_code == 200 and "done first" in answers["first"].text
    assert answers["second"].status_code == 200
    assert answers["second"].json() == {"response_type": "ephemeral", "text": BUSY}
    assert answers["event"].status_code == 503  # Slack will send the event again
    assert ran == ["first", "third"]  # nothing shed was run
    assert after.status_code == 200 and "done third" in after.text  # served again once calm
    assert 'copbot_shed_requests_total{kind="command"} 1.0' in metrics
    assert 'copbot_shed_requests_total{kind="event"} 1.0' in metrics
