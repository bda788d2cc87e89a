"""The twin holds apps to Slack's published rules (docs.slack.dev method and event pages):
where a user id may stand for a DM, what chat.update does to blocks, text limits, OAuth
scopes, Block Kit limits the SDK models do not check, rate tiers, and the app lifecycle
events. Each test here failed on the twin before these rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slacktwin import SlackDriver, SlackTwin
from slacktwin.apphost import BoltAppServer
from slacktwin.ratelimit import RateLimits
from slacktwin.scopes import manifest_bot_scopes

from .conftest import SECRET, TOKEN


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as failed:
        call(**kwargs)
    return dict(failed.value.response.data)


# ---------------------------------------------------------------- user ids as channels


def test_only_posting_takes_a_user_id_as_channel(twin: SlackTwin, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U01NURSE", text="hello")
    dm = twin.dm_channel("U01NURSE")
    assert posted["channel"] == dm and dm.startswith("D")
    ts = posted["ts"]
    refused = [
        (client.chat_update, {"channel": "U01NURSE", "ts": ts, "text": "v2"}),
        (client.chat_delete, {"channel": "U01NURSE", "ts": ts}),
        (client.chat_getPermalink, {"channel": "U01NURSE", "message_ts": ts}),
        (client.chat_postEphemeral, {"channel": "U01NURSE", "user": "U01NURSE", "text": "x"}),
        (client.conversations_history, {"channel": "U01NURSE"}),
        (client.conversations_replies, {"channel": "U01NURSE", "ts": ts}),
        (client.conversations_info, {"channel": "U01NURSE"}),
        (client.conversations_members, {"channel": "U01NURSE"}),
        (client.reactions_add, {"channel": "U01NURSE", "timestamp": ts, "name": "eyes"}),
    ]
    for call, kwargs in refused:
        assert _error(call, **kwargs)["error"] == "channel_not_found", call
    # The D id Slack returned works for all of them.
    client.chat_update(channel=dm, ts=ts, text="v2")
    assert twin.message(dm, ts)["text"] == "v2"
    assert client.conversations_history(channel=dm)["messages"][0]["text"] == "v2"
    client.chat_delete(channel=dm, ts=ts)
    assert twin.dms("U01NURSE") == []


def test_files_are_shared_to_a_conversation_id_not_a_user_id(
    twin: SlackTwin, client: WebClient
) -> None:
    upload = client.files_getUploadURLExternal(filename="a.txt", length=2)
    httpx.post(upload["upload_url"], content=b"hi")
    refused = _error(
        client.files_completeUploadExternal,
        files=[{"id": upload["file_id"], "title": "A"}],
        channel_id="U01NURSE",
    )
    assert refused["error"] == "channel_not_found"


# ---------------------------------------------------------------- chat.update and text


def test_chat_update_with_text_and_no_blocks_removes_the_blocks(
    twin: SlackTwin, client: WebClient, card_blocks: list[dict[str, Any]]
) -> None:
    posted = client.chat_postMessage(channel="C01IDEAS", text="card", blocks=card_blocks)
    client.chat_update(channel="C01IDEAS", ts=posted["ts"], attachments=[{"text": "note"}])
    assert twin.message("C01IDEAS", posted["ts"])["blocks"], "no text: blocks are kept"
    client.chat_update(channel="C01IDEAS", ts=posted["ts"], text="Closed")
    stored = twin.message("C01IDEAS", posted["ts"])
    assert stored["text"] == "Closed" and "blocks" not in stored


def test_long_text_is_truncated_with_a_warning_and_refused_on_update(
    twin: SlackTwin, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel="C01IDEAS", text="x" * 40_005)
    assert posted["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(twin.message("C01IDEAS", posted["ts"])["text"]) == 40_000
    refused = _error(client.chat_update, channel="C01IDEAS", ts=posted["ts"], text="y" * 40_001)
    assert refused["error"] == "msg_too_long"


def test_section_and_header_text_limits(client: WebClient) -> None:
    section = [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]
    header = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    for blocks in (section, header):
        refused = _error(client.chat_postMessage, channel="C01IDEAS", text="t", blocks=blocks)
        assert refused["error"] == "invalid_blocks"


# ---------------------------------------------------------------- scopes


def test_default_scopes_are_the_manifest_bot_scopes() -> None:
    with SlackTwin() as twin:
        assert twin.scopes == manifest_bot_scopes()
        answer = httpx.post(
            twin.api_url + "auth.test", headers={"Authorization": "Bearer xoxb-twin"}
        )
        assert answer.json()["ok"] is True
        assert answer.headers["x-oauth-scopes"] == ",".join(manifest_bot_scopes())
        assert "x-accepted-oauth-scopes" in answer.headers
        client = WebClient(token="xoxb-twin", base_url=twin.api_url)
        assert client.auth_test().headers["x-oauth-scopes"] == ",".join(manifest_bot_scopes())


def test_a_missing_scope_is_refused_like_slack() -> None:
    granted = ["chat:write", "channels:history"]
    with SlackTwin(scopes=granted) as twin:
        twin.add_user("U01NURSE", name="amara")
        twin.add_user("U02GP", name="bola")
        twin.add_channel("C01IDEAS", name="ideas", members=["U01NURSE"])
        twin.add_channel("G02LEADS", name="leads", members=["U01NURSE"], is_private=True)
        client = WebClient(token="xoxb-twin", base_url=twin.api_url)
        assert client.conversations_history(channel="C01IDEAS")["ok"]
        client.chat_postMessage(channel="C01IDEAS", text="allowed")
        cases = [
            (client.users_info, {"user": "U01NURSE"}, "users:read"),
            (client.users_list, {}, "users:read"),
            (client.users_lookupByEmail, {"email": "a@example.org"}, "users:read.email"),
            (client.conversations_history, {"channel": "G02LEADS"}, "groups:history"),
            (client.conversations_info, {"channel": "C01IDEAS"}, "channels:read"),
            (client.conversations_join, {"channel": "C01IDEAS"}, "channels:join"),
            (client.conversations_open, {"users": "U01NURSE"}, "im:write"),
            (client.conversations_open, {"users": "U01NURSE,U02GP"}, "mpim:write"),
            (
                client.reactions_add,
                {"channel": "C01IDEAS", "timestamp": "1.1", "name": "x"},
                "reactions:write",
            ),
            (client.team_info, {}, "team:read"),
            (client.bots_info, {}, "users:read"),
            (client.files_getUploadURLExternal, {"filename": "a", "length": 1}, "files:write"),
        ]
        for call, kwargs, needed in cases:
            refused = _error(call, **kwargs)
            assert refused["error"] == "missing_scope", call
            assert refused["needed"] == needed
            assert refused["provided"] == "chat:write,channels:history"
        # Methods that need no scope still work.
        assert client.auth_test()["ok"]


def test_a_missing_scope_answer_is_http_200_with_scope_headers() -> None:
    with SlackTwin(scopes=["chat:write"]) as twin:
        answer = httpx.post(
            twin.api_url + "users.list", headers={"Authorization": "Bearer xoxb-twin"}
        )
        assert answer.status_code == 200
        assert answer.json() == {
            "ok": False,
            "error": "missing_scope",
            "needed": "users:read",
            "provided": "chat:write",
        }
        assert answer.headers["x-oauth-scopes"] == "chat:write"
        assert answer.headers["x-accepted-oauth-scopes"] == "users:read"


def test_scopes_must_be_names_not_one_string() -> None:
    with pytest.raises(TypeError):
        SlackTwin(scopes="chat:write")


# ---------------------------------------------------------------- Block Kit limits


def _select(value: str) -> list[dict[str, Any]]:
    option = {"text": {"type": "plain_text", "text": "One"}, "value": value}
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Pick"},
            "accessory": {"type": "static_select", "action_id": "pick", "options": [option]},
        }
    ]


def test_option_values_are_at_most_150_characters(client: WebClient) -> None:
    client.chat_postMessage(channel="C01IDEAS", text="ok", blocks=_select("v" * 150))
    refused = _error(
        client.chat_postMessage, channel="C01IDEAS", text="t", blocks=_select("v" * 151)
    )
    assert refused["error"] == "invalid_blocks"
    assert any("/value" in m for m in refused["response_metadata"]["messages"])


@pytest.mark.parametrize(
    ("field", "limit"), [("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)]
)
def test_view_fields_have_slacks_limits(
    twin: SlackTwin, client: WebClient, field: str, limit: int
) -> None:
    view = {"type": "home", "blocks": [{"type": "divider"}], field: "m" * limit}
    client.views_publish(user_id="U01NURSE", view=view)
    refused = _error(
        client.views_publish, user_id="U01NURSE", view={**view, field: "m" * (limit + 1)}
    )
    assert refused["error"] == "invalid_arguments"
    assert any(f"/view/{field}" in m for m in refused["response_metadata"]["messages"])


def test_views_hold_at_most_100_blocks(client: WebClient) -> None:
    view = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert _error(client.views_publish, user_id="U01NURSE", view=view)["error"] == (
        "invalid_arguments"
    )


# ---------------------------------------------------------------- rate tiers


def test_rate_tiers_follow_the_method_pages() -> None:
    limits = RateLimits()
    assert limits.limit_for("users.info").per_minute == 100  # Tier 4
    assert limits.limit_for("users.list").per_minute == 20  # Tier 2
    assert limits.limit_for("conversations.open").per_minute == 50  # Tier 3
    assert limits.limit_for("conversations.history").per_minute == 50  # internal app
    assert limits.limit_for("conversations.replies").per_minute == 50


def test_non_marketplace_limits_for_history_and_replies() -> None:
    with SlackTwin(non_marketplace_limits=True) as twin:
        twin.add_channel("C01IDEAS", name="ideas")
        twin.set_rate_limit("chat.postMessage", per_minute=6000, burst=100)
        client = WebClient(token="xoxb-twin", base_url=twin.api_url, retry_handlers=[])
        for n in range(20):
            client.chat_postMessage(channel="C01IDEAS", text=f"m{n}")
        page = client.conversations_history(channel="C01IDEAS", limit=100)
        assert len(page["messages"]) == 15 and page["has_more"] is True
        with pytest.raises(SlackApiError) as limited:
            client.conversations_history(channel="C01IDEAS")
        assert limited.value.response.status_code == 429
        assert int(limited.value.response.headers["Retry-After"]) > 1
        # replies has its own bucket of one a minute
        ts = page["messages"][0]["ts"]
        assert client.conversations_replies(channel="C01IDEAS", ts=ts)["ok"]
        assert _error(client.conversations_replies, channel="C01IDEAS", ts=ts)["error"] == (
            "ratelimited"
        )


def test_internal_apps_keep_tier_3_for_history() -> None:
    with SlackTwin() as twin:
        twin.add_channel("C01IDEAS", name="ideas")
        twin.set_rate_limit("chat.postMessage", per_minute=6000, burst=100)
        client = WebClient(token="xoxb-twin", base_url=twin.api_url, retry_handlers=[])
        for n in range(20):
            client.chat_postMessage(channel="C01IDEAS", text=f"m{n}")
        for _ in range(3):
            assert len(client.conversations_history(channel="C01IDEAS")["messages"]) == 20


# ---------------------------------------------------------------- lifecycle events


class Bodies:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []


@pytest.fixture
def bodies() -> Bodies:
    return Bodies()


@pytest.fixture
def raw_driver(twin: SlackTwin, bodies: Bodies) -> Iterator[SlackDriver]:
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=twin.api_url),
        process_before_response=True,
    )

    @app.middleware
    def record(body: dict[str, Any], next: Any) -> Any:
        bodies.items.append(json.loads(json.dumps(body)))
        return next()

    for kind in ("app_uninstalled", "tokens_revoked", "team_join", "user_change"):
        app.event(kind)(lambda: None)

    with (
        BoltAppServer(app) as server,
        SlackDriver(twin, app_url=server.url, signing_secret=SECRET) as driver,
    ):
        yield driver


def test_app_uninstalled_and_tokens_revoked_events(
    twin: SlackTwin, raw_driver: SlackDriver, bodies: Bodies
) -> None:
    assert raw_driver.app_uninstalled().status_code == 200
    assert raw_driver.tokens_revoked().status_code == 200
    uninstalled, revoked = bodies.items
    assert uninstalled["type"] == "event_callback"
    assert uninstalled["event"] == {
        "type": "app_uninstalled",
        "event_ts": uninstalled["event"]["event_ts"],
    }
    assert uninstalled["api_app_id"] == twin.app_id and uninstalled["team_id"] == twin.team_id
    assert revoked["event"]["type"] == "tokens_revoked"
    assert revoked["event"]["tokens"] == {"oauth": [], "bot": [twin.bot_user_id]}


def test_app_rate_limited_is_a_top_level_payload(
    twin: SlackTwin, raw_driver: SlackDriver, bodies: Bodies
) -> None:
    raw_driver.app_rate_limited(minute_rate_limited=1518467820)
    (body,) = bodies.items
    assert body == {
        "token": twin.verification_token,
        "type": "app_rate_limited",
        "team_id": twin.team_id,
        "minute_rate_limited": 1518467820,
        "api_app_id": twin.app_id,
    }


def test_team_join_adds_the_member_and_sends_the_full_user(
    twin: SlackTwin, client: WebClient, raw_driver: SlackDriver, bodies: Bodies
) -> None:
    raw_driver.team_join("U09NEW", name="newbie", real_name="New Bie", tz="Europe/Paris")
    (body,) = bodies.items
    user = body["event"]["user"]
    assert body["event"]["type"] == "team_join"
    assert user["id"] == "U09NEW" and user["real_name"] == "New Bie"
    assert user["tz"] == "Europe/Paris" and user["profile"]["real_name"] == "New Bie"
    assert client.users_info(user="U09NEW")["user"]["name"] == "newbie"


def test_uninstall_makes_the_bot_token_inactive_until_reinstalled(
    twin: SlackTwin, client: WebClient
) -> None:
    twin.uninstall()
    assert _error(client.auth_test)["error"] == "account_inactive"
    assert _error(client.chat_postMessage, channel="C01IDEAS", text="x")["error"] == (
        "account_inactive"
    )
    assert twin.messages("C01IDEAS") == []
    twin.reinstall()
    assert client.auth_test()["ok"]
