"""The driver against a tiny Bolt app served over real HTTP.

``seen`` is the conftest ``Recorder``: what the Bolt app received.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest

from slacktwin import SlackDriver, SlackTwin
from slacktwin.errors import TwinUsageError


def test_signed_command_reaches_the_app_and_its_answer_is_shown(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    response = driver.command("U01NURSE", "/copbot", "help", channel="C01IDEAS")
    assert response.status_code == 200
    (command,) = seen.commands
    assert command["user_id"] == "U01NURSE" and command["user_name"] == "amara"
    assert command["channel_id"] == "C01IDEAS" and command["channel_name"] == "ideas"
    assert command["team_domain"] == "demo-ics"
    assert command["response_url"].startswith(twin.base_url + "response/")
    assert command["trigger_id"] in twin.ws.triggers
    (answer,) = twin.ephemerals("U01NURSE", channel="C01IDEAS")
    assert answer["text"] == "copbot help: /idea, /pulse" and answer["via"] == "command.ack"

    driver.command("U01NURSE", "/copbot", "later", channel="C01IDEAS")
    assert twin.ephemerals("U01NURSE")[-1]["text"] == "answered later"
    driver.command("U01NURSE", "/copbot", "hello all", channel="C01IDEAS")
    assert twin.messages("C01IDEAS")[-1]["text"] == "echo hello all"
    driver.command("U02GP", "/copbot", "help")
    assert twin.ephemerals("U02GP")[0]["channel"] == twin.dm_channel("U02GP")


def test_commands_are_form_encoded_like_slack(driver: SlackDriver, seen: Any) -> None:
    driver.command("U01NURSE", "copbot", "x y", channel="C01IDEAS")
    sent = seen.commands[0]
    for key in ("token", "team_id", "api_app_id", "channel_id", "user_id", "command", "text"):
        assert key in sent
    assert sent["command"] == "/copbot" and sent["text"] == "x y"


def test_bad_signatures_and_stale_timestamps_get_401(driver: SlackDriver) -> None:
    body = "command=%2Fcopbot&text=help&user_id=U01NURSE"
    kind = "application/x-www-form-urlencoded"
    assert driver.send_raw(body, kind, signature="v0=deadbeef").status_code == 401
    assert driver.send_raw(body, kind, timestamp=1_000_000_000).status_code == 401
    assert driver.send_raw(body, kind, sign=False).status_code == 401


def test_url_verification(driver: SlackDriver) -> None:
    response = driver.url_verification("challenge-string")
    assert response.status_code == 200 and "challenge-string" in response.text


def test_click_by_label_sends_the_right_action(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    driver.command("U01NURSE", "/copbot", "card", channel="C01IDEAS")
    (card,) = twin.messages("C01IDEAS")
    driver.click("U01NURSE", "support", message=("C01IDEAS", card["ts"]))
    (action,) = seen.actions
    assert action["type"] == "block_actions"
    assert action["actions"][0]["action_id"] == "support"
    assert action["actions"][0]["block_id"] == "card_actions"
    assert action["actions"][0]["value"] == "idea-1"
    assert action["container"] == {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": "C01IDEAS",
        "is_ephemeral": False,
    }
    assert action["message"]["ts"] == card["ts"] and action["channel"]["name"] == "ideas"
    assert action["user"]["username"] == "amara" and action["trigger_id"]
    # The app answered through response_url with replace_original.
    updated = twin.message("C01IDEAS", card["ts"])
    assert updated is not None and updated["text"] == "Supported"

    with pytest.raises(LookupError, match="Discuss"):
        driver.click("U01NURSE", "Unsupport", message=("C01IDEAS", card["ts"]))


def test_choose_from_an_overflow(driver: SlackDriver, twin: SlackTwin, seen: Any) -> None:
    driver.command("U01NURSE", "/copbot", "card", channel="C01IDEAS")
    (card,) = twin.messages("C01IDEAS")
    driver.choose("U03LEAD", "manage", "Change status", message=("C01IDEAS", card["ts"]))
    (action,) = seen.actions
    assert action["actions"][0]["type"] == "overflow"
    assert action["actions"][0]["selected_option"]["value"] == "status"


def test_fill_and_submit_deliver_values_by_block_and_action(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    driver.command("U01NURSE", "/copbot", "idea", channel="C01IDEAS")
    assert twin.current_modal("U01NURSE")["callback_id"] == "idea_modal"
    driver.fill(
        "U01NURSE",
        {
            "title": "Protected time for QI",
            "Themes": ["frailty", "discharge and flow"],
            "Post anonymously": True,
            "Owner": "gp.bola",
        },
    )
    result = driver.submit("U01NURSE")
    assert result.ok and result.closed and result.view is None
    values = seen.submissions[0]["view"]["state"]["values"]
    assert values["title"]["value"] == {
        "type": "plain_text_input",
        "value": "Protected time for QI",
    }
    assert [o["value"] for o in values["themes"]["value"]["selected_options"]] == [
        "frailty",
        "discharge_and_flow",
    ]
    assert values["anon"]["value"]["selected_options"][0]["value"] == "yes"
    assert values["owner"]["value"]["selected_user"] == "U02GP"
    assert values["review"]["value"]["selected_date"] == "2030-01-01", "initial values are sent"
    view = seen.submissions[0]["view"]
    assert view["private_metadata"] == "from-test" and view["hash"] and view["id"].startswith("V")
    assert twin.modal_stack("U01NURSE") == []

    with pytest.raises(KeyError, match="Title"):
        driver.command("U01NURSE", "/copbot", "idea", channel="C01IDEAS")
        driver.fill("U01NURSE", {"Headline": "x"})


def test_response_action_errors_keep_the_modal(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    driver.shortcut("U01NURSE", "share_idea")
    assert seen.shortcuts[0]["type"] == "shortcut"
    driver.fill("U01NURSE", {"Title": "QI"})
    result = driver.submit("U01NURSE")
    assert result.status == 200 and not result.closed
    assert result.errors == {"title": "Please give a longer title"}
    assert twin.current_modal("U01NURSE") is not None
    driver.fill("U01NURSE", {"Title": "Quality improvement time"})
    assert driver.submit("U01NURSE").ok
    assert twin.current_modal("U01NURSE") is None


def test_client_side_checks_stop_a_submit_before_the_app(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    driver.shortcut("U01NURSE", "share_idea")
    result = driver.submit("U01NURSE")
    assert not result.sent and result.errors == {"title": "Please complete this required field."}
    driver.fill("U01NURSE", {"Title": "x" * 81})
    assert "at most 80" in driver.submit("U01NURSE").errors["title"]
    assert seen.submissions == []


@pytest.mark.parametrize(
    ("answer", "stack_after"),
    [
        ({"response_action": "clear"}, []),
        (
            {
                "response_action": "update",
                "view": {
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "Thanks"},
                    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Done"}}],
                },
            },
            ["Thanks"],
        ),
        (
            {
                "response_action": "push",
                "view": {
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "Similar ideas"},
                    "blocks": [{"type": "divider"}],
                },
            },
            ["Share an idea", "Similar ideas"],
        ),
    ],
)
def test_response_actions_change_the_stack(
    driver: SlackDriver,
    twin: SlackTwin,
    seen: Any,
    answer: dict[str, object],
    stack_after: list[str],
) -> None:
    seen.submit_answer = answer
    driver.shortcut("U01NURSE", "share_idea")
    driver.fill("U01NURSE", {"Title": "Protected time"})
    result = driver.submit("U01NURSE")
    assert result.problem is None
    assert [v["title"]["text"] for v in twin.modal_stack("U01NURSE")] == stack_after


def test_modal_buttons_push_and_close_notifies(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    driver.shortcut("U01NURSE", "share_idea")
    driver.fill("U01NURSE", {"Title": "Kept while clicking"})
    driver.click("U01NURSE", "Add option", modal=True)
    action = seen.actions[-1]
    assert action["container"]["type"] == "view" and "response_url" not in action
    assert action["view"]["state"]["values"]["title"]["value"]["value"] == "Kept while clicking"
    assert [v["callback_id"] for v in twin.modal_stack("U01NURSE")] == [
        "idea_modal",
        "option_modal",
    ]
    assert driver.close("U01NURSE") is None, "the pushed view does not notify on close"
    assert twin.current_modal("U01NURSE")["callback_id"] == "idea_modal"
    closed = driver.close("U01NURSE")
    assert closed is not None and closed.status_code == 200
    assert seen.closed[0]["type"] == "view_closed" and seen.closed[0]["is_cleared"] is False
    assert twin.modal_stack("U01NURSE") == []
    with pytest.raises(TwinUsageError):
        driver.submit("U01NURSE")


def test_app_home_click_and_views_open_from_home(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    assert driver.app_home_opened("U01NURSE").status_code == 200
    home = twin.home_view("U01NURSE")
    assert home is not None and home["type"] == "home"
    assert seen.events[0]["type"] == "app_home_opened" and "view" not in seen.events[0]
    driver.app_home_opened("U01NURSE")
    assert seen.events[1]["view"]["id"] == home["id"], "the event carries the published view"
    driver.click("U01NURSE", "Edit profile", home=True)
    action = seen.actions[-1]
    assert action["container"] == {"type": "view", "view_id": home["id"]}
    assert twin.current_modal("U01NURSE")["callback_id"] == "idea_modal"


def test_messages_reactions_and_shortcuts_as_events(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    ts, response = driver.post_message("U01NURSE", "C01IDEAS", "What about protected time?")
    assert response is not None and response.status_code == 200
    event = seen.events[-1]
    assert event["type"] == "message" and event["channel_type"] == "channel"
    assert event["ts"] == ts and event["user"] == "U01NURSE"
    reply_ts, _ = driver.post_message("U02GP", "C01IDEAS", "+1", thread_ts=ts)
    assert seen.events[-1]["thread_ts"] == ts
    assert twin.message("C01IDEAS", ts)["reply_count"] == 1

    driver.react("U02GP", "C01IDEAS", ts, ":bulb:")
    assert seen.events[-1]["type"] == "reaction_added"
    assert seen.events[-1]["item"] == {"type": "message", "channel": "C01IDEAS", "ts": ts}
    assert seen.events[-1]["item_user"] == "U01NURSE"

    quiet_ts, nothing = driver.post_message("U01NURSE", "C02QUIET", "the bot is not here")
    assert nothing is None and twin.message("C02QUIET", quiet_ts) is not None

    _, dm = driver.post_message("U01NURSE", None, "hello bot")
    assert dm is not None and seen.events[-1]["channel_type"] == "im"

    driver.message_shortcut("U02GP", "save_as_idea", "C01IDEAS", ts)
    shortcut = seen.shortcuts[-1]
    assert shortcut["type"] == "message_action" and shortcut["message"]["text"].startswith("What")
    assert shortcut["message_ts"] == ts and shortcut["channel"]["id"] == "C01IDEAS"
    assert reply_ts != ts


def test_event_envelope_and_retry_headers(driver: SlackDriver, twin: SlackTwin) -> None:
    captured: list[tuple[dict[str, str], bytes]] = []
    original = driver.http.post

    def spy(url: str, *, content: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        captured.append((headers, content))
        return original(url, content=content, headers=headers)

    driver.http.post = spy  # type: ignore[method-assign]
    driver.event({"type": "app_mention", "user": "U01NURSE", "text": "hi"}, event_id="Ev0ONE")
    driver.redeliver("http_timeout")
    first, second = (json.loads(body) for _, body in captured)
    assert first["type"] == "event_callback" and first["event_id"] == "Ev0ONE"
    assert first["team_id"] == twin.team_id and first["api_app_id"] == twin.app_id
    assert first["authorizations"][0]["user_id"] == twin.bot_user_id
    assert second["event_id"] == "Ev0ONE"
    assert captured[1][0]["X-Slack-Retry-Num"] == "1"
    assert captured[1][0]["X-Slack-Retry-Reason"] == "http_timeout"
    assert "X-Slack-Retry-Num" not in captured[0][0]


def test_interactions_are_sent_as_a_payload_form(driver: SlackDriver) -> None:
    captured: list[bytes] = []
    original = driver.http.post

    def spy(url: str, *, content: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        captured.append(content)
        return original(url, content=content, headers=headers)

    driver.http.post = spy  # type: ignore[method-assign]
    driver.shortcut("U01NURSE", "share_idea")
    payload = json.loads(parse_qs(captured[0].decode())["payload"][0])
    assert payload["callback_id"] == "share_idea" and payload["team"]["domain"] == "demo-ics"


def test_choosing_among_same_label_buttons_and_ephemeral_clicks(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    blocks = []
    for title, value in (("Protected time", "idea-1"), ("Discharge lounge", "idea-2")):
        blocks += [
            {"type": "section", "text": {"type": "mrkdwn", "text": title}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "discuss",
                        "value": value,
                        "text": {"type": "plain_text", "text": "Discuss"},
                    }
                ],
            },
        ]
    with twin.ws.lock:
        channel = twin.ws.conversation("C01IDEAS")
        twin.ws.add_ephemeral("U01NURSE", channel, text="two ideas", blocks=blocks)
    with pytest.raises(LookupError, match="ambiguous"):
        driver.click("U01NURSE", "Discuss", ephemeral=True)
    driver.click("U01NURSE", "Discuss", ephemeral=True, near="discharge")
    driver.click("U01NURSE", "Discuss", ephemeral=True, index=0)
    driver.click("U01NURSE", "Discuss", ephemeral=True, value="idea-2", index=1)
    with pytest.raises(LookupError):
        driver.click("U01NURSE", "Discuss", ephemeral=True, value="idea-2", index=0)
    assert [a["actions"][0]["value"] for a in seen.actions] == ["idea-2", "idea-1", "idea-2"]
    container = seen.actions[0]["container"]
    assert container["is_ephemeral"] is True and "message" not in seen.actions[0]


def test_user_change_carries_the_updated_profile(
    driver: SlackDriver, twin: SlackTwin, seen: Any
) -> None:
    twin.update_user("U02GP", title="Clinical lead", tz="Europe/Dublin")
    assert driver.user_change("U02GP").status_code == 200
    assert seen.events[-1]["user"]["tz"] == "Europe/Dublin"
    assert twin.user("U02GP")["profile"]["title"] == "Clinical lead"
    assert twin.user_name("U02GP") == "Bola Adeyemi" and twin.channel_name("C01IDEAS") == "ideas"
