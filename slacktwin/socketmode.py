"""Socket Mode: the twin's ``/link/`` websocket, its envelopes and the app's acks.

In Socket Mode Slack has no Request URL to call. The app asks ``apps.connections.open``
(with its app-level ``xapp-`` token) for a websocket URL, connects, gets a ``hello``, and
then receives each event, slash command and interaction as an envelope. It answers each
envelope with an ack ``{"envelope_id": ..., "payload": {...}}``; the payload plays the
part of the HTTP response body (a command's answer, a view_submission's
``response_action``). ``SocketModeHub`` is that side of the twin: the server hands it each
websocket, and ``deliver`` (used by ``SlackDriver(twin, socket_mode=True)``) sends one
envelope and blocks until the app acks it.

Websocket pings are protocol frames: uvicorn answers the app's pings and sends its own
every ``SlackTwin(socket_ping_interval=...)`` seconds, closing a link whose pongs stop.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.websockets import WebSocket, WebSocketDisconnect

from slacktwin.state import Workspace

logger = logging.getLogger(__name__)

EnvelopeType = Literal["events_api", "slash_commands", "interactive"]

# Interactions whose ack payload Slack applies (the others' payloads are ignored).
RESPONSE_PAYLOAD_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class SocketModeError(RuntimeError):
    """A delivery over Socket Mode could not happen: no app connected, or the link broke."""


class AckTimeout(SocketModeError, TimeoutError):
    """The app did not ack an envelope in time (Slack would retry or show an error)."""


@dataclass
class SocketConnection:
    """One websocket an app opened; ``closed_at`` is None while it is open."""

    id: str
    ticket: str
    opened_at: float
    closed_at: float | None = None
    close_code: int | None = None
    envelopes: int = 0
    # Messages from the app that are not acks of a known envelope, as received.
    other_messages: list[Any] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class SocketAck:
    """The app's ack of one envelope: ``payload`` is its response payload (None if none)."""

    envelope_id: str
    type: str
    envelope: dict[str, Any]
    payload: dict[str, Any] | None
    connection_id: str
    seconds: float


@dataclass
class _Link:
    """A live connection: the websocket and the event loop that owns it."""

    info: SocketConnection
    websocket: WebSocket
    loop: asyncio.AbstractEventLoop


class SocketModeHub:
    """The twin's Socket Mode endpoint: connections, envelopes sent, acks received."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._cond = threading.Condition()
        self._links: list[_Link] = []
        self._sent: dict[str, dict[str, Any]] = {}
        self._acks: list[SocketAck] = []
        self._acked: dict[str, SocketAck] = {}
        self._sent_at: dict[str, float] = {}
        self._retiring: set[str] = set()

    # ------------------------------------------------------------------ queries

    def connections(self, *, open_only: bool = True) -> list[SocketConnection]:
        """Connections, oldest first (only open ones unless ``open_only=False``)."""
        with self._cond:
            return [
                copy.deepcopy(link.info)
                for link in self._links
                if link.info.is_open or not open_only
            ]

    def wait_for_connection(self, timeout: float = 5.0) -> SocketConnection:
        """Block until an app is connected (hello sent); returns the newest connection."""
        with self._cond:
            if not self._cond.wait_for(self._newest_open, timeout):
                raise SocketModeError(
                    f"no app connected over Socket Mode within {timeout}s: connect a "
                    "SocketModeHandler with the twin's app token and api_url first"
                )
            link = self._newest_open()
            assert link is not None
            return copy.deepcopy(link.info)

    @property
    def acks(self) -> list[SocketAck]:
        """Every ack received, in order."""
        with self._cond:
            return list(self._acks)

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        """Every envelope sent, in order."""
        with self._cond:
            return copy.deepcopy(list(self._sent.values()))

    def _newest_open(self) -> _Link | None:
        return next((link for link in reversed(self._links) if link.info.is_open), None)

    # ------------------------------------------------------------------ delivery

    def deliver(
        self,
        type: EnvelopeType,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> SocketAck:
        """Send one envelope to the newest open connection and wait for its ack.

        ``accepts_response_payload`` defaults to Slack's choice: true for slash commands,
        view submissions and block suggestions. Only ``events_api`` envelopes carry
        ``retry_attempt``/``retry_reason``. Raises ``AckTimeout`` when no ack comes
        within ``timeout`` seconds (Bolt sends none when dispatch fails).
        """
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive" and payload.get("type") in RESPONSE_PAYLOAD_INTERACTIONS
            )
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        deadline = time.monotonic() + timeout
        self.wait_for_connection(timeout)
        with self._cond:
            link = self._newest_open()
            if link is None:
                raise SocketModeError("the app's Socket Mode connection closed")
            self._sent[envelope_id] = envelope
            self._sent_at[envelope_id] = time.monotonic()
            link.info.envelopes += 1
        self._send(link, envelope, timeout)
        with self._cond:
            woke = self._cond.wait_for(
                lambda: envelope_id in self._acked or not link.info.is_open,
                max(0.0, deadline - time.monotonic()),
            )
            if envelope_id in self._acked:
                return self._acked[envelope_id]
        what = _describe(envelope)
        if woke:  # woke up because the link closed
            raise SocketModeError(f"the Socket Mode connection closed before the app acked {what}")
        raise AckTimeout(
            f"the app did not ack {what} within {timeout}s over Socket Mode (Bolt sends no ack "
            "when a listener raises without an error handler or answers a non-200 status)"
        )

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message to every open connection.

        Slack sends it before it closes a connection (``warning``, ``refresh_requested``)
        or when Socket Mode is turned off (``link_disabled``); apps then reconnect with a
        new URL from apps.connections.open. As Slack does, the twin then closes these
        connections, as soon as the app has opened a new one.
        """
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-twin"}}
        with self._cond:
            links = [link for link in self._links if link.info.is_open]
            self._retiring.update(link.info.id for link in links)
        for link in links:
            self._send(link, message, 5.0)

    def close_connections(self, code: int = 1001) -> None:
        """Close every open connection from the twin's side, as a Slack restart would."""
        with self._cond:
            links = [link for link in self._links if link.info.is_open]
        for link in links:
            future = asyncio.run_coroutine_threadsafe(link.websocket.close(code), link.loop)
            try:
                future.result(5.0)
            except Exception:  # already closed by the app
                logger.debug("slack twin: closing %s failed", link.info.id, exc_info=True)

    def _send(self, link: _Link, message: dict[str, Any], timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(
            link.websocket.send_text(json.dumps(message)), link.loop
        )
        try:
            future.result(timeout)
        except Exception as exc:
            raise SocketModeError(
                f"could not send over Socket Mode connection {link.info.id}: {exc!r}"
            ) from exc

    # ------------------------------------------------------------------ the websocket

    async def serve(self, websocket: WebSocket) -> None:
        """``/link/?ticket=...``: check the ticket, say hello, then collect acks."""
        ticket = websocket.query_params.get("ticket", "")
        if not self.ws.use_socket_ticket(ticket):
            await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
            return
        await websocket.accept()
        info = SocketConnection(
            id=f"link-{uuid.uuid4().hex[:8]}", ticket=ticket, opened_at=time.time()
        )
        link = _Link(info, websocket, asyncio.get_running_loop())
        with self._cond:
            open_count = sum(1 for other in self._links if other.info.is_open) + 1
        await websocket.send_text(json.dumps(self._hello(open_count)))
        with self._cond:
            self._links.append(link)
            retired = [old for old in self._links if old.info.id in self._retiring]
            self._retiring.clear()
            self._cond.notify_all()
        for old in retired:
            if old.info.is_open:
                try:
                    await old.websocket.close(1000)
                except Exception:  # the app closed it first
                    logger.debug("slack twin: closing %s failed", old.info.id, exc_info=True)
        code: int | None = None
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    code = message.get("code")
                    break
                raw = message.get("text")
                if raw is None and message.get("bytes") is not None:
                    raw = message["bytes"].decode("utf-8", "replace")
                if raw is not None:
                    self._received(link, raw)
        except WebSocketDisconnect as exc:
            code = exc.code
        finally:
            with self._cond:
                info.closed_at = time.time()
                info.close_code = code
                self._cond.notify_all()

    def _hello(self, num_connections: int) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": num_connections,
            "debug_info": {
                "host": "applink-twin",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.ws.app_id},
        }

    def _received(self, link: _Link, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = raw
        with self._cond:
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            envelope = self._sent.get(envelope_id or "")
            if envelope is None or envelope_id in self._acked:
                link.info.other_messages.append(message)
                return
            payload = message.get("payload")
            ack = SocketAck(
                envelope_id=envelope_id,
                type=envelope["type"],
                envelope=copy.deepcopy(envelope),
                payload=copy.deepcopy(payload) if isinstance(payload, dict) else None,
                connection_id=link.info.id,
                seconds=time.monotonic() - self._sent_at[envelope_id],
            )
            self._acks.append(ack)
            self._acked[envelope_id] = ack
            self._cond.notify_all()


def _describe(envelope: dict[str, Any]) -> str:
    """``slash_commands /copbot help (envelope 1234...)`` for error messages."""
    payload = envelope["payload"]
    if envelope["type"] == "slash_commands":
        what = f"{payload.get('command')} {payload.get('text', '')}".strip()
    elif envelope["type"] == "events_api":
        what = f"{(payload.get('event') or {}).get('type')} {payload.get('event_id')}"
    else:
        what = str(payload.get("type"))
    return f"{envelope['type']} {what} (envelope {envelope['envelope_id']})"
