"""Socket Mode: apps.connections.open, the twin's websocket, and the driver over it.

The conftest's tiny Bolt app connects with slack_sdk's builtin Socket Mode client (what
``SocketModeHandler`` uses); a plain ``websockets`` client checks the wire protocol.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from slacktwin import SlackDriver, SlackTwin
from slacktwin.apphost import SocketModeApp
from slacktwin.errors import TwinUsageError
from slacktwin.socketmode import AckTimeout, SocketAck, SocketModeError
from tests.slacktwin.conftest import TOKEN, Recorder, build_app


@pytest.fixture
def connected(twin: SlackTwin, seen: Recorder) -> Iterator[SocketModeApp]:
    with SocketModeApp(build_app(twin, seen), twin) as app:
        yield app


@pytest.fixture
def socket_driver(twin: SlackTwin, connected: SocketModeApp) -> SlackDriver:
    return SlackDriver(twin, socket_mode=True)


def open_url(twin: SlackTwin, token: str | None = None) -> str:
    client = WebClient(base_url=twin.api_url)
    return str(client.apps_connections_open(app_token=token or twin.app_token or "")["url"])


def ack_of(response: Any) -> SocketAck:
    return response.extensions["socket_mode_ack"]


# ---------------------------------------------------------------------- apps.connections.open


def test_apps_connections_open_wants_the_app_level_token(twin: SlackTwin) -> None:
    url = open_url(twin)
    assert url.startswith(f"ws://127.0.0.1:{twin.server.port}/link/?ticket=")
    assert url != open_url(twin)  # a fresh ticket each time
    client = WebClient(base_url=twin.api_url)
    for token, error in [(TOKEN, "not_allowed_token_type"), ("xapp-wrong", "invalid_auth")]:
        with pytest.raises(SlackApiError) as raised:
            client.apps_connections_open(app_token=token)
        assert raised.value.response["error"] == error
    # ...and the app-level token works for nothing else.
    with pytest.raises(SlackApiError) as raised:
        WebClient(token=twin.app_token, base_url=twin.api_url).auth_test()
    assert raised.value.response["error"] == "not_allowed_token_type"


def test_without_an_app_token_socket_mode_is_off() -> None:
    with SlackTwin(app_token=None) as twin:
        with pytest.raises(SlackApiError) as raised:
            WebClient(base_url=twin.api_url).apps_connections_open(app_token="xapp-any")
        assert raised.value.response["error"] == "invalid_auth"


# ---------------------------------------------------------------------- the websocket


def test_hello_then_envelopes_and_acks_on_the_wire(twin: SlackTwin) -> None:
    url = open_url(twin)
    with connect(url) as websocket:
        hello = json.loads(websocket.recv(timeout=2))
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": twin.app_id}
        assert set(hello["debug_info"]) >= {"host", "approximate_connection_time"}
        assert websocket.ping().wait(2)  # the twin answers protocol-level pings

        payload = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "x"}}
        acks = Answer(websocket, {"ok": 1})
        ack = twin.socket_mode.deliver("events_api", payload, retry_attempt=1)
        envelope = acks.result()
    assert envelope == {
        "envelope_id": ack.envelope_id,
        "type": "events_api",
        "payload": payload,
        "accepts_response_payload": False,
        "retry_attempt": 1,
        "retry_reason": "",
    }
    assert ack.payload == {"ok": 1} and ack.type == "events_api"
    assert twin.socket_mode.acks == [ack]
    twin.wait_for(lambda: not twin.socket_mode.connections())
    (closed,) = twin.socket_mode.connections(open_only=False)
    assert closed.envelopes == 1 and closed.close_code == 1000


class Answer:
    """A thread that acks the next envelope with ``payload`` and keeps what it received."""

    def __init__(self, websocket: ClientConnection, payload: dict[str, Any] | None) -> None:
        self.envelope: dict[str, Any] | None = None
        self.thread = threading.Thread(target=self._run, args=(websocket, payload))
        self.thread.start()

    def _run(self, websocket: ClientConnection, payload: dict[str, Any] | None) -> None:
        self.envelope = json.loads(websocket.recv(timeout=3))
        ack: dict[str, Any] = {"envelope_id": self.envelope["envelope_id"]}
        if payload is not None:
            ack["payload"] = payload
        websocket.send(json.dumps(ack))

    def result(self) -> dict[str, Any] | None:
        self.thread.join(5)
        return self.envelope


def test_a_ticket_opens_one_connection_and_bad_tickets_none(twin: SlackTwin) -> None:
    url = open_url(twin)
    with connect(url) as websocket:
        websocket.recv(timeout=2)
    for bad in (url, url.replace("ticket=", "ticket=x")):
        with pytest.raises(InvalidStatus) as raised:
            connect(bad)
        assert raised.value.response.status_code == 403


def test_a_missing_ack_raises_a_clear_error(twin: SlackTwin) -> None:
    with connect(open_url(twin)) as websocket:
        websocket.recv(timeout=2)
        started = time.monotonic()
        with pytest.raises(AckTimeout, match=r"did not ack slash_commands /copbot help"):
            twin.socket_mode.deliver(
                "slash_commands", {"command": "/copbot", "text": "help"}, timeout=0.3
            )
        assert time.monotonic() - started < 1
    with pytest.raises(SocketModeError, match="no app connected"):
        twin.socket_mode.deliver("events_api", {}, timeout=0.1)


def test_the_twin_pings_and_drops_a_connection_that_stops_answering() -> None:
    with SlackTwin(socket_ping_interval=0.1) as twin:
        with connect(open_url(twin)):  # the websockets client answers pings itself
            time.sleep(0.5)
            assert len(twin.socket_mode.connections()) == 1
        silent = handshake_only(open_url(twin))  # never reads, so never answers
        try:
            twin.wait_for(lambda: len(twin.socket_mode.connections(open_only=False)) == 2)
            twin.wait_for(lambda: not twin.socket_mode.connections(), timeout=1)
            answering, dropped = twin.socket_mode.connections(open_only=False)
            assert answering.close_code == 1000
            # Dropped after one unanswered ping (0.1 s + 0.1 s), not closed cleanly.
            assert dropped.closed_at is not None and dropped.close_code != 1000
            assert dropped.closed_at - dropped.opened_at < 1.0
        finally:
            silent.close()


def handshake_only(url: str) -> socket.socket:
    """Open a websocket by hand and then ignore it."""
    host_port, path = url.removeprefix("ws://").split("/", 1)
    host, port = host_port.split(":")
    sock = socket.create_connection((host, int(port)), timeout=2)
    sock.sendall(
        (
            f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


# ---------------------------------------------------------------------- Bolt and the driver


def test_bolt_connects_with_the_builtin_client_and_pings(
    twin: SlackTwin, connected: SocketModeApp
) -> None:
    (connection,) = twin.socket_mode.connections()
    assert connection.is_open
    assert connected.handler is not None
    session = connected.handler.client.current_session
    assert session is not None
    twin.wait_for(lambda: session.last_ping_pong_time is not None)  # the twin answered its ping
    assert twin.calls_to("apps.connections.open")[0].response["ok"]


def test_commands_over_socket_mode_show_their_answer(
    twin: SlackTwin, socket_driver: SlackDriver, seen: Recorder
) -> None:
    response = socket_driver.command("U01NURSE", "/copbot", "help", channel="C01IDEAS")
    assert response.status_code == 200
    assert response.json() == {"text": "copbot help: /idea, /pulse"}
    ack = ack_of(response)
    assert ack.type == "slash_commands" and ack.envelope["accepts_response_payload"] is True
    assert "retry_attempt" not in ack.envelope
    (command,) = seen.commands
    assert command["user_id"] == "U01NURSE" and command["channel_name"] == "ideas"
    assert command["response_url"].startswith(twin.base_url + "response/")
    (answer,) = twin.ephemerals("U01NURSE", channel="C01IDEAS")
    assert answer["text"] == "copbot help: /idea, /pulse" and answer["via"] == "command.ack"

    socket_driver.command("U01NURSE", "/copbot", "hello all", channel="C01IDEAS")
    assert twin.messages("C01IDEAS")[-1]["text"] == "echo hello all"
    assert socket_driver.command("U01NURSE", "/copbot", "later").content == b""
    assert twin.ephemerals("U01NURSE")[-1]["text"] == "answered later"


def test_modals_over_socket_mode(
    twin: SlackTwin, socket_driver: SlackDriver, seen: Recorder
) -> None:
    socket_driver.command("U01NURSE", "/copbot", "idea", channel="C01IDEAS")
    assert twin.current_modal("U01NURSE") is not None
    socket_driver.fill("U01NURSE", {"Title": "Tea"})
    short = socket_driver.submit("U01NURSE")
    assert short.errors == {"title": "Please give a longer title"} and not short.closed
    ack = ack_of(short.response)
    assert ack.envelope["payload"]["type"] == "view_submission"
    assert ack.envelope["accepts_response_payload"] is True

    clicked = socket_driver.click("U01NURSE", "Add option")  # block_actions in the modal
    assert ack_of(clicked).envelope["accepts_response_payload"] is False
    assert len(twin.modal_stack("U01NURSE")) == 2
    socket_driver.close("U01NURSE")
    socket_driver.fill("U01NURSE", {"Title": "Protected time for QI"})
    done = socket_driver.submit("U01NURSE")
    assert done.ok and done.closed and twin.modal_stack("U01NURSE") == []

    seen.submit_answer = {"response_action": "clear"}
    socket_driver.command("U01NURSE", "/copbot", "idea", channel="C01IDEAS")
    socket_driver.fill("U01NURSE", {"Title": "Protected time"})
    assert socket_driver.submit("U01NURSE").closed
    assert twin.modal_stack("U01NURSE") == []


def test_events_and_redeliveries_over_socket_mode(
    twin: SlackTwin, socket_driver: SlackDriver, seen: Recorder
) -> None:
    socket_driver.app_home_opened("U01NURSE")
    twin.wait_for(lambda: twin.home_view("U01NURSE"))
    socket_driver.click("U01NURSE", "Edit profile", home=True)
    assert twin.current_modal("U01NURSE") is not None

    socket_driver.post_message("U01NURSE", "C01IDEAS", "hello")
    retried = socket_driver.redeliver()
    envelope = ack_of(retried).envelope
    assert envelope["retry_attempt"] == 1 and envelope["retry_reason"] == "http_timeout"
    first, second = [e for e in twin.socket_mode.envelopes if e["type"] == "events_api"][1:]
    assert first["payload"]["event_id"] == second["payload"]["event_id"]
    assert first["retry_attempt"] == 0 and first["retry_reason"] == ""
    assert [e["type"] for e in seen.events] == ["app_home_opened", "message", "message"]


def test_a_refresh_request_makes_the_app_reconnect(
    twin: SlackTwin, socket_driver: SlackDriver
) -> None:
    (old,) = twin.socket_mode.connections()
    twin.socket_mode.disconnect("refresh_requested")
    (new,) = twin.wait_for(
        lambda: [c for c in twin.socket_mode.connections() if c.id != old.id], timeout=3
    )
    twin.wait_for(lambda: len(twin.socket_mode.connections()) == 1)  # the twin closed the old
    response = socket_driver.command("U01NURSE", "/copbot", "help")
    assert ack_of(response).connection_id == new.id != old.id
    assert len(twin.calls_to("apps.connections.open")) == 2


def test_socket_driver_refuses_http_only_calls(twin: SlackTwin) -> None:
    driver = SlackDriver(twin, socket_mode=True, ack_timeout=0.1)
    with pytest.raises(TwinUsageError):
        driver.url_verification("challenge")
    with pytest.raises(SocketModeError, match="no app connected"):
        driver.command("U01NURSE", "/copbot", "help")
    with pytest.raises(TwinUsageError):
        SlackDriver(twin)
    with pytest.raises(TwinUsageError):
        SlackDriver(twin, app_url="http://127.0.0.1:9/", socket_mode=True)
