"""The one outbound port: Slack's Messenger against the twin with a real WebClient, and the
outbox delivering through any Messenger, Slack's or not."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.platform import History, Messenger, Posted, Refused, tagged
from bot.platform.outbox import EVENT_TYPE, Deliverer, enqueue
from bot.slack import WebClientPort, delivery_port, make_web_client
from slacktwin import SlackTwin
from storage import Database, OutboxMessage, OutboxStatus
from tests.support import BOT_TOKEN, CHANNEL, MEMBER, TEAM


def port_for(twin: SlackTwin) -> WebClientPort:
    return WebClientPort(WebClient(token=BOT_TOKEN, base_url=twin.api_url, timeout=5))


def test_slack_port_is_a_messenger_and_a_raw_client_is_not(twin: SlackTwin) -> None:
    assert isinstance(port_for(twin), Messenger)
    assert not isinstance(WebClient(token=BOT_TOKEN, base_url=twin.api_url), Messenger)


def test_a_post_says_where_it_landed_and_history_reads_it_back(twin: SlackTwin) -> None:
    port = port_for(twin)
    metadata = {"event_type": EVENT_TYPE, "event_payload": {"key": "k-1"}}
    posted = port.post(MEMBER, "Hello", metadata=metadata)
    assert isinstance(posted, Posted)
    assert posted.channel.startswith("D")  # a user ID answers with the DM's conversation ID
    page = port.history(posted.channel, limit=20)
    assert isinstance(page, History)
    found = [m["ts"] for m in page.messages if tagged(m, EVENT_TYPE, "k-1")]
    assert found == [posted.ts]
    assert port.open_conversation([MEMBER]) == posted.channel


def test_a_refusal_carries_slacks_code_and_method_and_is_still_a_slack_api_error(
    twin: SlackTwin,
) -> None:
    with pytest.raises(Refused) as refused:
        port_for(twin).post("C0NOWHERE", "Hello")
    assert (refused.value.code, refused.value.method) == ("channel_not_found", "chat.postMessage")
    assert isinstance(refused.value, SlackApiError)  # callers catching SlackApiError keep working
    assert refused.value.response["error"] == "channel_not_found"


def test_a_429_carries_retry_after(twin: SlackTwin) -> None:
    twin.ratelimit("chat.postMessage", retry_after=7, times=1)
    with pytest.raises(Refused) as refused:
        delivery_port(make_web_client(BOT_TOKEN, twin.api_url)).post(CHANNEL, "Hello")
    assert (refused.value.status, refused.value.code) == (429, "ratelimited")
    assert refused.value.retry_after == 7.0


class Notebook:
    """A Messenger that is not Slack: it keeps what it is given, as a second platform would."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any] | None]] = []

    def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Posted:
        self.sent.append((channel, text, metadata))
        return Posted(channel=f"D-{channel}", ts=f"{len(self.sent)}.000100")

    def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        raise AssertionError("not used by the outbox")

    def open_conversation(self, user_ids: list[str]) -> str:
        return f"D-{user_ids[0]}"

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        raise AssertionError("not used by the outbox")

    def upload_file(
        self, user_id: str, filename: str, content: str | bytes, *, title: str, comment: str
    ) -> None:
        raise AssertionError("not used by the outbox")

    def history(self, channel: str, *, limit: int, cursor: str | None = None) -> History:
        return History(messages=[], next_cursor=None)


def test_the_outbox_needs_nothing_of_slack_but_the_messenger(database: Database) -> None:
    notebook = Notebook()
    assert isinstance(notebook, Messenger)
    with database.session() as session:
        enqueue(session, team_id=TEAM, key="k-2", kind="test", channel=MEMBER, text="Hi")
    with Deliverer(database, notebook, worker_id="notebook") as deliverer:
        assert deliverer.messenger is notebook
        assert deliverer.run_once().sent == 1
    key = {"event_type": EVENT_TYPE, "event_payload": {"key": "k-2"}}
    assert notebook.sent == [(MEMBER, "Hi", key)]
    with database.session() as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.key == "k-2")).one()
        assert (row.status, row.sent_ts, row.sent_channel) == (
            OutboxStatus.SENT,
            "1.000100",
            f"D-{MEMBER}",
        )
