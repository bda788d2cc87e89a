"""The driver's base: how it reaches the app (signed HTTP or Socket Mode, the one place
the two differ is ``_deliver``), who and where (users, the team, conversations), and what
its gestures share: a payload's common fields, recording an answer in the twin's log,
applying an app's answer, storing an input's value. ``SlackDriver`` (``slacktwin.driver``)
builds on it."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from slacktwin import forms
from slacktwin.api import apply_response
from slacktwin.errors import ApiError, TwinUsageError
from slacktwin.recording import Call
from slacktwin.socketmode import EnvelopeType, SocketAck
from slacktwin.state import Channel, ResponseUrl
from slacktwin.twin import SlackTwin


class Transport:
    """The connection to the app and the lookups every gesture uses."""

    def __init__(
        self,
        twin: SlackTwin,
        app_url: str | None = None,
        signing_secret: str | None = None,
        *,
        timeout: float = 10.0,
        socket_mode: bool = False,
        ack_timeout: float = 5.0,
    ) -> None:
        if socket_mode == bool(app_url):
            raise TwinUsageError("give app_url (HTTP) or socket_mode=True, not both or neither")
        self.twin = twin
        self.ws = twin.ws
        self.app_url = app_url or ""
        self.socket_mode = socket_mode
        self.ack_timeout = ack_timeout
        self.signing_secret = signing_secret or twin.signing_secret
        self.verifier = SignatureVerifier(self.signing_secret)
        self.http = httpx.Client(timeout=timeout, verify=False)  # plain http: no CA bundle
        self.last_event: dict[str, Any] | None = None
        self._last_retry = 0

    def shutdown(self) -> None:
        """Close the HTTP client (``close`` closes a modal, as a person would)."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # ------------------------------------------------------------------ transport

    def signed_headers(self, body: bytes, timestamp: int | str | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.verifier.generate_signature(timestamp=ts, body=body) or ""
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def send_raw(
        self,
        body: bytes | str,
        content_type: str,
        headers: Mapping[str, str] | None = None,
        *,
        sign: bool = True,
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """POST any body to the app; for tests of signatures and malformed requests.

        ``timestamp`` signs with that (e.g. stale) time; ``signature`` overrides the
        computed signature; ``sign=False`` sends neither header.
        """
        if self.socket_mode:
            raise TwinUsageError("send_raw is HTTP only; Socket Mode: twin.socket_mode.deliver")
        data = body.encode() if isinstance(body, str) else body
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if sign:
            all_headers.update(self.signed_headers(data, timestamp))
            if signature is not None:
                all_headers["X-Slack-Signature"] = signature
        all_headers.update(headers or {})
        return self.http.post(self.app_url, content=data, headers=all_headers)

    def _deliver(
        self,
        kind: EnvelopeType,
        payload: Mapping[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """The transport seam: one Slack request as signed HTTP or as a Socket Mode envelope.

        Over Socket Mode the ack becomes a 200 response whose body is the ack payload
        (empty when there is none), so callers treat both transports alike.
        """
        if self.socket_mode:
            ack = self.twin.socket_mode.deliver(
                kind,
                dict(payload),
                retry_attempt=retry_num or 0,
                retry_reason=retry_reason or "",
                timeout=self.ack_timeout,
            )
            return _ack_response(ack)
        form = "application/x-www-form-urlencoded"
        if kind == "slash_commands":
            return self.send_raw(urlencode(payload), form)
        if kind == "interactive":
            return self.send_raw(urlencode({"payload": json.dumps(payload)}), form)
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        return self.send_raw(json.dumps(payload), "application/json", headers)

    def send_interaction(self, payload: Mapping[str, Any]) -> httpx.Response:
        """An interactivity payload: form-encoded as ``payload=<json>`` like Slack, or an
        ``interactive`` envelope in Socket Mode."""
        return self._deliver("interactive", payload)

    # ------------------------------------------------------------------ people and places

    def _user(self, user_id: str) -> dict[str, Any]:
        with self.ws.lock:
            user = self.ws.users.get(user_id)
            if user is None:
                raise TwinUsageError(f"unknown user {user_id}: twin.add_user(...) first")
            return {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": self.ws.team_id,
            }

    def _team(self) -> dict[str, Any]:
        return {"id": self.ws.team_id, "domain": self.ws.team_domain}

    def _conversation(self, user_id: str, channel: str | None) -> Channel:
        with self.ws.lock:
            if channel is None or channel == user_id:
                return self.ws.dm(user_id)
            return self.twin._channel(channel)

    @staticmethod
    def _channel_name(channel: Channel) -> str:
        return "directmessage" if channel.is_im else channel.name

    def resolve_user(self, value: str) -> str:
        """A user id from an id, a user name or a real name (for users_select inputs)."""
        with self.ws.lock:
            if value in self.ws.users:
                return value
            wanted = value.lstrip("@").casefold()
            for user in self.ws.users.values():
                if wanted in {user.name.casefold(), user.real_name.casefold()}:
                    return user.id
        raise LookupError(f"no user {value!r} in the twin")

    def resolve_channel(self, value: str) -> str:
        """A conversation id from an id or a channel name (``ideas`` or ``#ideas``)."""
        with self.ws.lock:
            if value in self.ws.channels:
                return value
            wanted = value.lstrip("#").casefold()
            for channel in self.ws.channels.values():
                if not channel.is_im and channel.name.casefold() == wanted:
                    return channel.id
        raise LookupError(f"no channel {value!r} in the twin")

    def _base_interaction(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.ws.app_id,
            "token": self.twin.verification_token,
            "is_enterprise_install": False,
            "enterprise": None,
        }

    # ------------------------------------------------------------------ shared by the gestures

    def _apply_answer(self, ctx: ResponseUrl, body: dict[str, Any], via: str) -> None:
        try:
            apply_response(self.ws, ctx, body, via=via)
            self._record(via, body, 200, {"ok": True})
        except ApiError as exc:
            self._record(via, body, 400, exc.body())

    def _record(
        self, method: str, args: dict[str, Any], status: int, response: dict[str, Any]
    ) -> None:
        self.twin.log.add(Call(method, json.loads(json.dumps(args, default=str)), status, response))

    def _top_modal(self, user_id: str) -> dict[str, Any]:
        view = self.twin.current_modal(user_id)
        if view is None:
            raise TwinUsageError(f"{user_id} has no modal open")
        return view

    def _store_value(self, view_id: str, control: forms.Control, value: dict[str, Any]) -> None:
        with self.ws.lock:
            view = self.ws.views[view_id]
            values = view.setdefault("state", {}).setdefault("values", {})
            values.setdefault(control.block["block_id"], {})[
                control.element.get("action_id", "")
            ] = value


def _ack_response(ack: SocketAck) -> httpx.Response:
    """A Socket Mode ack as the HTTP answer it replaces: 200 with the payload as JSON."""
    request = httpx.Request("POST", "ws://slack-twin/link/")
    extensions = {"socket_mode_ack": ack}
    if ack.payload is None:
        return httpx.Response(200, content=b"", request=request, extensions=extensions)
    return httpx.Response(200, json=ack.payload, request=request, extensions=extensions)
