"""Fixtures for testing the Slack twin itself: a small workspace, a real WebClient, and a
tiny Bolt app served over HTTP that the driver talks to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from slacktwin import SlackDriver, SlackTwin
from slacktwin.apphost import BoltAppServer
from slacktwin.scopes import manifest_bot_scopes

TOKEN = "xoxb-twin"
SECRET = "secret"
# The twin's own tests also exercise methods copbot does not call: grant their scopes too.
TWIN_TEST_SCOPES = (*manifest_bot_scopes(), "users:read.email", "files:read", "mpim:read")


@pytest.fixture
def twin() -> Iterator[SlackTwin]:
    with SlackTwin(
        team_id="T0COPBOT",
        team_name="Demo ICS",
        bot_token=TOKEN,
        signing_secret=SECRET,
        rate_limits=True,
        scopes=TWIN_TEST_SCOPES,
    ) as twin:
        twin.add_user("U01NURSE", name="amara", real_name="Amara Okafor", title="Ward sister")
        twin.add_user("U02GP", name="gp.bola", real_name="Bola Adeyemi", email="bola@example.org")
        twin.add_user("U03LEAD", name="lead", real_name="Lee Ead", is_admin=True)
        twin.add_channel("C01IDEAS", name="ideas", members=["U01NURSE", "U02GP", "U03LEAD"])
        twin.add_channel("C02QUIET", name="quiet", members=["U01NURSE"], bot_is_member=False)
        twin.add_channel(
            "G03LEADS", name="leads", members=["U03LEAD"], is_private=True, bot_is_member=False
        )
        yield twin


@pytest.fixture
def client(twin: SlackTwin) -> WebClient:
    return WebClient(token=TOKEN, base_url=twin.api_url)


IDEA_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "idea_modal",
    "private_metadata": "from-test",
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Share an idea"},
    "submit": {"type": "plain_text", "text": "Share"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value", "max_length": 80},
        },
        {
            "type": "input",
            "block_id": "themes",
            "optional": True,
            "label": {"type": "plain_text", "text": "Themes"},
            "element": {
                "type": "multi_static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": t}, "value": t.replace(" ", "_")}
                    for t in ("frailty", "discharge and flow", "prevention")
                ],
            },
        },
        {
            "type": "input",
            "block_id": "anon",
            "optional": True,
            "label": {"type": "plain_text", "text": "Post anonymously"},
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [{"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"}],
            },
        },
        {
            "type": "input",
            "block_id": "owner",
            "optional": True,
            "label": {"type": "plain_text", "text": "Owner"},
            "element": {"type": "users_select", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "review",
            "optional": True,
            "label": {"type": "plain_text", "text": "Next review"},
            "element": {"type": "datepicker", "action_id": "value", "initial_date": "2030-01-01"},
        },
        {
            "type": "actions",
            "block_id": "more",
            "elements": [
                {
                    "type": "button",
                    "action_id": "add_option",
                    "text": {"type": "plain_text", "text": "Add option"},
                }
            ],
        },
    ],
}


def idea_card(title: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
        {
            "type": "actions",
            "block_id": "card_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "support",
                    "value": "idea-1",
                    "text": {"type": "plain_text", "text": "Support"},
                },
                {
                    "type": "button",
                    "action_id": "discuss",
                    "value": "idea-1",
                    "text": {"type": "plain_text", "text": "Discuss"},
                },
                {
                    "type": "overflow",
                    "action_id": "manage",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "Change status"},
                            "value": "status",
                        },
                        {"text": {"type": "plain_text", "text": "Archive"}, "value": "archive"},
                    ],
                },
            ],
        },
    ]


class Recorder:
    """What the test app received, for assertions."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self.submissions: list[dict[str, Any]] = []
        self.closed: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.shortcuts: list[dict[str, Any]] = []
        self.submit_answer: dict[str, Any] | None = None


def build_app(twin: SlackTwin, seen: Recorder) -> App:
    """A tiny Bolt app exercising each kind of request the driver sends."""
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=twin.api_url),
        process_before_response=True,
    )

    @app.command("/copbot")
    def copbot(ack: Any, command: dict[str, Any], client: WebClient, respond: Any) -> None:
        seen.commands.append(command)
        text = command.get("text", "")
        if text == "help":
            ack(text="copbot help: /idea, /pulse")
        elif text == "idea":
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=IDEA_MODAL)
        elif text == "card":
            ack()
            client.chat_postMessage(
                channel=command["channel_id"], text="An idea", blocks=idea_card("Protected time")
            )
        elif text == "later":
            ack()
            respond(text="answered later")
        else:
            ack(response_type="in_channel", text=f"echo {text}")

    @app.action("support")
    def support(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        seen.actions.append(body)
        respond(replace_original=True, text="Supported", blocks=idea_card("Supported!"))

    @app.action("discuss")
    def discuss(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.actions.append(body)

    @app.action("manage")
    def manage(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.actions.append(body)

    @app.action("add_option")
    def add_option(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.actions.append(body)
        client.views_push(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "option_modal",
                "title": {"type": "plain_text", "text": "New option"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Pushed"}}],
            },
        )

    @app.action("edit_profile")
    def edit_profile(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.actions.append(body)
        client.views_open(trigger_id=body["trigger_id"], view=IDEA_MODAL)

    @app.view("idea_modal")
    def idea_submitted(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        seen.submissions.append(body)
        title = view["state"]["values"]["title"]["value"]["value"] or ""
        if seen.submit_answer is not None:
            ack(**seen.submit_answer)
        elif len(title) < 5:
            ack(response_action="errors", errors={"title": "Please give a longer title"})
        else:
            ack()

    @app.view_closed("idea_modal")
    def idea_closed(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.closed.append(body)

    @app.shortcut("share_idea")
    def share_idea(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.shortcuts.append(body)
        client.views_open(trigger_id=body["trigger_id"], view=IDEA_MODAL)

    @app.shortcut("save_as_idea")
    def save_as_idea(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.shortcuts.append(body)

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        seen.events.append(event)
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "Your ideas"}},
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "edit_profile",
                                "text": {"type": "plain_text", "text": "Edit profile"},
                            }
                        ],
                    },
                ],
            },
        )

    @app.event("message")
    def message(event: dict[str, Any]) -> None:
        seen.events.append(event)

    @app.event("reaction_added")
    def reaction(event: dict[str, Any]) -> None:
        seen.events.append(event)

    @app.event("user_change")
    def user_change(event: dict[str, Any]) -> None:
        seen.events.append(event)

    return app


@pytest.fixture
def seen() -> Recorder:
    return Recorder()


@pytest.fixture
def driver(twin: SlackTwin, seen: Recorder) -> Iterator[SlackDriver]:
    with (
        BoltAppServer(build_app(twin, seen)) as server,
        SlackDriver(twin, app_url=server.url, signing_secret=SECRET) as driver,
    ):
        yield driver


@pytest.fixture
def idea_modal() -> dict[str, Any]:
    return IDEA_MODAL


@pytest.fixture
def card_blocks() -> list[dict[str, Any]]:
    return idea_card("Protected time for QI")
