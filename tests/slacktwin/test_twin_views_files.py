"""Views and triggers, file uploads and response_url posts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from slacktwin import SlackTwin


def test_views_open_needs_a_fresh_single_use_trigger(
    twin: SlackTwin, client: WebClient, idea_modal: dict[str, Any]
) -> None:
    trigger = twin.ws.issue_trigger("U01NURSE", "command")
    opened = client.views_open(trigger_id=trigger, view=idea_modal)["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    assert opened["callback_id"] == "idea_modal" and opened["state"] == {"values": {}}
    assert opened["private_metadata"] == "from-test"
    assert twin.current_modal("U01NURSE")["id"] == opened["id"]

    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view=idea_modal)
    assert reused.value.response["error"] == "exchanged_trigger_id"

    stale = twin.ws.issue_trigger("U01NURSE", "command")
    twin.ws.triggers[stale].issued -= 3.5
    with pytest.raises(SlackApiError) as expired:
        client.views_open(trigger_id=stale, view=idea_modal)
    assert expired.value.response["error"] == "expired_trigger_id"

    with pytest.raises(SlackApiError) as invented:
        client.views_open(trigger_id="123.456.abc", view=idea_modal)
    assert invented.value.response["error"] == "invalid_trigger_id"


def test_invalid_views_are_rejected(twin: SlackTwin, client: WebClient) -> None:
    trigger = twin.ws.issue_trigger("U01NURSE", "command")
    no_submit = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "A title far too long for a modal"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            }
        ],
    }
    with pytest.raises(SlackApiError) as failure:
        client.views_open(trigger_id=trigger, view=no_submit)
    assert failure.value.response["error"] == "invalid_arguments"
    assert "submit is required" in failure.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as home_as_modal:
        client.views_publish(user_id="U01NURSE", view={**no_submit, "type": "modal"})
    assert "view type must be home" in str(home_as_modal.value.response["response_metadata"])


def test_views_update_push_publish(
    twin: SlackTwin, client: WebClient, idea_modal: dict[str, Any]
) -> None:
    root = client.views_open(
        trigger_id=twin.ws.issue_trigger("U01NURSE", "command"), view=idea_modal
    )["view"]
    pushed = client.views_push(
        trigger_id=twin.ws.issue_trigger("U01NURSE", "modal"),
        view={**idea_modal, "callback_id": "second", "external_id": "ext-2"},
    )["view"]
    assert pushed["previous_view_id"] == root["id"] and pushed["root_view_id"] == root["id"]
    assert [v["id"] for v in twin.modal_stack("U01NURSE")] == [root["id"], pushed["id"]]

    typed = {"type": "plain_text_input", "value": "typed before the update"}
    twin.ws.views[pushed["id"]]["state"]["values"] = {"title": {"value": typed}}
    updated = client.views_update(
        external_id="ext-2", view={**idea_modal, "callback_id": "third", "external_id": "ext-2"}
    )["view"]
    assert updated["id"] == pushed["id"] and updated["hash"] != pushed["hash"]
    assert updated["state"]["values"]["title"]["value"] == typed, "inputs keep what was typed"
    with pytest.raises(SlackApiError) as conflict:
        client.views_update(view_id=root["id"], hash="stale-hash", view=idea_modal)
    assert conflict.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as missing:
        client.views_update(view_id="V0NOTHERE", view=idea_modal)
    assert missing.value.response["error"] == "not_found"

    third = client.views_push(
        trigger_id=twin.ws.issue_trigger("U01NURSE", "modal"), view=idea_modal
    )
    assert third["ok"]
    with pytest.raises(SlackApiError) as full:
        client.views_push(trigger_id=twin.ws.issue_trigger("U01NURSE", "modal"), view=idea_modal)
    assert full.value.response["error"] == "push_limit_reached"

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    first = client.views_publish(user_id="U02GP", view=home)["view"]
    second = client.views_publish(user_id="U02GP", view=home, hash=first["hash"])["view"]
    assert first["id"] == second["id"] and twin.home_view("U02GP")["hash"] == second["hash"]
    with pytest.raises(SlackApiError) as stale:
        client.views_publish(user_id="U02GP", view=home, hash=first["hash"])
    assert stale.value.response["error"] == "hash_conflict"
    assert twin.home_view("U01NURSE") is None


def test_files_upload_v2_end_to_end(twin: SlackTwin, client: WebClient) -> None:
    answer = client.files_upload_v2(
        channel="C01IDEAS",
        content="idea,supporters\nProtected time,12\n",
        filename="ideas.csv",
        title="Ideas export",
        initial_comment="Here is the export",
    )
    file_id = answer["file"]["id"]
    assert answer["file"]["title"] == "Ideas export"
    stored = twin.file(file_id)
    assert stored is not None and stored["content"] == b"idea,supporters\nProtected time,12\n"
    assert stored["channels"] == ["C01IDEAS"] and stored["filetype"] == "csv"
    (message,) = twin.messages("C01IDEAS")
    assert message["text"] == "Here is the export" and message["files"][0]["id"] == file_id
    assert [c.method for c in twin.calls] == [
        "files.getUploadURLExternal",
        "files.upload",
        "files.completeUploadExternal",
    ]
    download = httpx.get(stored["url_private"], headers={"Authorization": "Bearer xoxb-twin"})
    assert download.content == stored["content"]

    dm = client.conversations_open(users="U02GP")["channel"]["id"]
    client.files_upload_v2(channel=dm, content=b"\x00\x01", filename="raw.bin")
    assert twin.dms("U02GP")[0]["files"][0]["name"] == "raw.bin"
    assert twin.file(twin.dms("U02GP")[0]["files"][0]["id"])["ims"] == [dm]

    with pytest.raises(SlackApiError) as outsider:
        client.files_upload_v2(channel="C02QUIET", content="x", filename="x.txt")
    assert outsider.value.response["error"] == "not_in_channel"


def test_response_url_posts(twin: SlackTwin, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C01IDEAS", text="card v1")
    url = twin.ws.issue_response_url(
        "U01NURSE", "C01IDEAS", source_kind="message", source_ts=posted["ts"]
    )
    hook = WebhookClient(url)
    assert hook.send(text="Only you can see this").status_code == 200
    (shown,) = twin.ephemerals("U01NURSE", channel="C01IDEAS")
    assert shown["text"] == "Only you can see this" and shown["via"] == "response_url"

    assert hook.send(text="Everyone sees this", response_type="in_channel").status_code == 200
    assert [m["text"] for m in twin.messages("C01IDEAS")] == ["card v1", "Everyone sees this"]

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "card v2"}}]
    hook.send(text="card v2", blocks=blocks, replace_original=True)
    replaced = twin.message("C01IDEAS", posted["ts"])
    assert replaced is not None and replaced["text"] == "card v2" and replaced["blocks"]

    bad = hook.send(blocks=[{"type": "nonsense"}])
    assert bad.status_code == 400 and "invalid_blocks" in bad.body
    hook.send(delete_original=True)
    assert twin.message("C01IDEAS", posted["ts"]) is None
    assert hook.send(text="sixth use").status_code == 404, "a response_url allows 5 uses"
    assert [c.status for c in twin.calls_to("response_url")] == [200, 200, 200, 400, 200, 404]
