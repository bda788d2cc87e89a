"""The twin's Web API, exercised with slack_sdk's real WebClient."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slacktwin import SlackTwin


def test_auth_test_with_an_empty_body(twin: SlackTwin, client: WebClient) -> None:
    raw = httpx.post(twin.api_url + "auth.test", headers={"Authorization": "Bearer xoxb-twin"})
    assert raw.status_code == 200
    assert raw.json()["user_id"] == twin.bot_user_id

    answer = client.auth_test()
    assert answer["team_id"] == "T0COPBOT"
    assert answer["bot_id"] == twin.bot_id
    assert answer["url"] == "https://demo-ics.slack.com/"
    assert twin.calls_to("auth.test")[-1].args == {}


def test_unknown_and_unimplemented_methods(twin: SlackTwin, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as unknown:
        client.api_call("chat.postMessageNow")
    assert unknown.value.response.status_code == 404
    assert unknown.value.response["error"] == "unknown_method"

    with pytest.raises(SlackApiError) as missing:
        client.api_call("chat.scheduleMessage", json={"channel": "C01IDEAS"})
    assert missing.value.response["error"] == "twin_not_implemented"
    assert [c.method for c in twin.calls] == ["chat.postMessageNow", "chat.scheduleMessage"]


def test_auth_errors(twin: SlackTwin) -> None:
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=twin.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    assert wrong.value.response.status_code == 200

    no_token = httpx.post(twin.api_url + "auth.test")
    assert no_token.json() == {"ok": False, "error": "not_authed"}
    form_token = httpx.post(twin.api_url + "auth.test", data={"token": "xoxb-twin"})
    assert form_token.json()["ok"] is True
    json_token = httpx.post(twin.api_url + "auth.test", json={"token": "xoxb-twin"})
    assert json_token.json()["error"] == "not_authed", "Slack ignores tokens in JSON bodies"


@pytest.mark.parametrize(
    ("method", "args", "error"),
    [
        ("chat.postMessage", {"channel": "C01IDEAS"}, "no_text"),
        ("chat.postMessage", {"text": "hi"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "C404", "text": "hi"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "C02QUIET", "text": "hi"}, "not_in_channel"),
        ("chat.postMessage", {"channel": "G03LEADS", "text": "hi"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "UBOTCOPBOT", "text": "hi"}, "channel_not_found"),
        ("users.info", {"user": "U404"}, "user_not_found"),
        ("users.info", {}, "user_not_found"),
        (
            "chat.update",
            {"channel": "C01IDEAS", "ts": "1.000001", "text": "x"},
            "message_not_found",
        ),
        ("chat.postEphemeral", {"channel": "C01IDEAS", "text": "x"}, "user_not_found"),
        ("views.open", {"trigger_id": "1.2.3"}, "invalid_arguments"),
        ("views.publish", {"user_id": "U01NURSE"}, "invalid_arguments"),
        ("conversations.open", {"users": "UBOTCOPBOT"}, "cannot_dm_bot"),
        ("conversations.history", {"channel": "C02QUIET"}, "not_in_channel"),
        ("reactions.add", {"channel": "C01IDEAS", "name": "bulb"}, "no_item_specified"),
        ("files.getUploadURLExternal", {"filename": "a.txt"}, "invalid_arguments"),
        ("users.list", {"cursor": "not-a-cursor"}, "invalid_cursor"),
    ],
)
def test_argument_errors(client: WebClient, method: str, args: dict[str, Any], error: str) -> None:
    with pytest.raises(SlackApiError) as failure:
        client.api_call(method, json=args)
    assert failure.value.response["error"] == error


def test_invalid_blocks_are_rejected_with_a_reason(client: WebClient) -> None:
    bad = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}},
        {"type": "sektion", "text": {"type": "mrkdwn", "text": "typo"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text"}}]},
    ]
    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel="C01IDEAS", text="fallback", blocks=bad)
    answer = failure.value.response
    assert answer["error"] == "invalid_blocks"
    messages = "\n".join(answer["response_metadata"]["messages"])
    assert "unknown block type 'sektion'" in messages
    assert "/blocks/2" in messages and "3000" in messages

    with pytest.raises(SlackApiError) as too_many:
        client.chat_postMessage(channel="C01IDEAS", text="x", blocks=[{"type": "divider"}] * 51)
    assert "no more than 50" in too_many.value.response["response_metadata"]["messages"][0]

    duplicate = [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "A"}},
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "B"}},
            ],
        }
    ]
    with pytest.raises(SlackApiError) as dup:
        client.chat_postMessage(channel="C01IDEAS", text="x", blocks=duplicate)
    assert "duplicate action_id" in dup.value.response["response_metadata"]["messages"][0]


def test_form_encoded_blocks_and_metadata_are_decoded(twin: SlackTwin) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*form*"}}]
    answer = httpx.post(
        twin.api_url + "chat.postMessage",
        data={
            "token": "xoxb-twin",
            "channel": "C01IDEAS",
            "text": "form",
            "blocks": json.dumps(blocks),
            "metadata": json.dumps({"event_type": "idea_posted", "event_payload": {"id": 7}}),
        },
    ).json()
    assert answer["ok"] is True
    stored = twin.message("C01IDEAS", answer["ts"])
    assert stored is not None
    assert stored["blocks"][0]["text"]["text"] == "*form*"
    assert stored["blocks"][0]["block_id"], "Slack fills in a block_id"
    assert stored["metadata"] == {"event_type": "idea_posted", "event_payload": {"id": 7}}
    assert twin.calls_to("chat.postMessage")[-1].args["blocks"] == blocks

    broken = httpx.post(
        twin.api_url + "chat.postMessage",
        data={"token": "xoxb-twin", "channel": "C01IDEAS", "blocks": "[{not json"},
    ).json()
    assert broken["error"] == "invalid_blocks_format"


def test_multipart_bodies_are_accepted(twin: SlackTwin) -> None:
    answer = httpx.post(
        twin.api_url + "chat.postMessage",
        headers={"Authorization": "Bearer xoxb-twin"},
        data={"channel": "C01IDEAS", "text": "multipart"},
        files={"attachment": ("note.txt", b"hello")},
    ).json()
    assert answer["ok"] is True
    assert twin.messages("C01IDEAS")[-1]["text"] == "multipart"


def test_dm_by_user_id(twin: SlackTwin, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U01NURSE", text="Your pulse is ready")
    dm = twin.dm_channel("U01NURSE")
    assert posted["channel"] == dm and dm.startswith("D")
    assert [m["text"] for m in twin.dms("U01NURSE")] == ["Your pulse is ready"]
    opened = client.conversations_open(users="U01NURSE")
    assert opened["channel"]["id"] == dm and opened["already_open"] is True
    client.chat_postMessage(channel=dm, text="again")
    assert len(twin.dms("U01NURSE")) == 2
    info = client.conversations_info(channel=dm)["channel"]
    assert info["is_im"] is True and info["user"] == "U01NURSE"


def test_threads_and_metadata_round_trip(twin: SlackTwin, client: WebClient) -> None:
    metadata = {"event_type": "idea_card", "event_payload": {"idea_id": 42}}
    parent = client.chat_postMessage(channel="C01IDEAS", text="Idea", metadata=metadata)
    first = client.chat_postMessage(channel="C01IDEAS", text="r1", thread_ts=parent["ts"])
    second = client.chat_postMessage(channel="C01IDEAS", text="r2", thread_ts=parent["ts"])
    assert float(parent["ts"]) < float(first["ts"]) < float(second["ts"])
    assert parent["message"]["metadata"] == metadata

    history = client.conversations_history(channel="C01IDEAS", include_all_metadata=True)
    (top,) = history["messages"]
    assert top["metadata"] == metadata
    assert top["reply_count"] == 2 and top["latest_reply"] == second["ts"]
    assert top["reply_users"] == [twin.bot_user_id]
    plain = client.conversations_history(channel="C01IDEAS")["messages"][0]
    assert "metadata" not in plain

    replies = client.conversations_replies(channel="C01IDEAS", ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["Idea", "r1", "r2"]
    assert replies[1]["thread_ts"] == parent["ts"]
    assert [m["text"] for m in twin.thread("C01IDEAS", parent["ts"])] == ["Idea", "r1", "r2"]
    assert [m["text"] for m in twin.messages("C01IDEAS")] == ["Idea"]


def test_history_is_latest_first_and_paginates(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C01IDEAS", text=f"m{i}")["ts"] for i in range(4)]
    page = client.conversations_history(channel="C01IDEAS", limit=3)
    assert [m["text"] for m in page["messages"]] == ["m3", "m2", "m1"]
    assert page["has_more"] is True
    rest = client.conversations_history(
        channel="C01IDEAS", limit=3, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m0"]
    assert rest["response_metadata"]["next_cursor"] == ""
    window = client.conversations_history(channel="C01IDEAS", oldest=stamps[0], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["m2", "m1"]


def test_users_and_members_paginate(client: WebClient) -> None:
    names = []
    for page in client.users_list(limit=2):
        assert len(page["members"]) <= 2
        names += [m["name"] for m in page["members"]]
    assert {"amara", "gp.bola", "lead", "copbot", "slackbot"} <= set(names)
    amara = client.users_info(user="U01NURSE")["user"]
    assert amara["real_name"] == "Amara Okafor" and amara["profile"]["title"] == "Ward sister"
    assert amara["tz"] == "Europe/London" and amara["is_admin"] is False
    assert client.users_info(user="U03LEAD")["user"]["is_admin"] is True
    members = client.conversations_members(channel="C01IDEAS", limit=2)
    assert len(members["members"]) == 2 and members["response_metadata"]["next_cursor"]
    by_email = client.users_lookupByEmail(email="bola@example.org")
    assert by_email["user"]["id"] == "U02GP"
    mine = client.users_conversations(user="U01NURSE")["channels"]
    assert {c["id"] for c in mine} == {"C01IDEAS", "C02QUIET"}


def test_update_delete_ephemeral_permalink_reactions(twin: SlackTwin, client: WebClient) -> None:
    posted = client.chat_postMessage(
        channel="C01IDEAS",
        text="v1",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "v1"}}],
    )
    client.chat_update(channel="C01IDEAS", ts=posted["ts"], text="v2")
    stored = twin.message("C01IDEAS", posted["ts"])
    assert stored is not None and stored["text"] == "v2" and "blocks" not in stored
    client.chat_update(
        channel="C01IDEAS",
        ts=posted["ts"],
        text="v3",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "v3"}}],
    )
    client.chat_update(channel="C01IDEAS", ts=posted["ts"], text="v4", blocks=[])
    assert twin.message("C01IDEAS", posted["ts"])["blocks"] == []

    with pytest.raises(SlackApiError) as outsider:
        client.chat_postEphemeral(channel="C01IDEAS", user="U404", text="x")
    assert outsider.value.response["error"] == "user_not_found"
    twin.add_user("U04NEW", name="newcomer")
    with pytest.raises(SlackApiError) as not_member:
        client.chat_postEphemeral(channel="C01IDEAS", user="U04NEW", text="x")
    assert not_member.value.response["error"] == "user_not_in_channel"
    ephemeral = client.chat_postEphemeral(channel="C01IDEAS", user="U01NURSE", text="only you")
    (shown,) = twin.ephemerals("U01NURSE")
    assert shown["ts"] == ephemeral["message_ts"] and shown["text"] == "only you"
    assert twin.ephemerals("U02GP") == []

    link = client.chat_getPermalink(channel="C01IDEAS", message_ts=posted["ts"])["permalink"]
    assert link.endswith("/archives/C01IDEAS/p" + posted["ts"].replace(".", ""))

    client.reactions_add(channel="C01IDEAS", timestamp=posted["ts"], name="bulb")
    with pytest.raises(SlackApiError) as again:
        client.reactions_add(channel="C01IDEAS", timestamp=posted["ts"], name="bulb")
    assert again.value.response["error"] == "already_reacted"
    assert twin.message("C01IDEAS", posted["ts"])["reactions"][0]["name"] == "bulb"

    client.chat_delete(channel="C01IDEAS", ts=posted["ts"])
    assert twin.messages("C01IDEAS") == []
    with pytest.raises(SlackApiError) as gone:
        client.chat_delete(channel="C01IDEAS", ts=posted["ts"])
    assert gone.value.response["error"] == "message_not_found"
