"""``SlackDriver``: plays the Slack side towards the app, over signed HTTP or Socket Mode.

Over HTTP, events go as JSON ``event_callback`` bodies, slash commands as form fields, and
interactions as ``payload=<json>`` forms, all signed with ``X-Slack-Signature`` v0 like
Slack. With ``socket_mode=True`` the same payloads go as Socket Mode envelopes over the
app's websocket to the twin, and the app's ack payload stands in for the HTTP body; the
one place the two differ is ``_deliver``.

The driver acts for a person: it finds buttons, menus and inputs by their visible words
in the twin's stored messages and views, issues trigger_ids and response_urls that the
twin accepts, and applies what the app answers (command bodies, view_submission
``response_action``) to the twin, so modal stacks and ephemerals stay consistent.

The driver is synchronous: a call returns when the app has answered the HTTP request, or
acked the envelope (the answer is then an ``httpx.Response`` built from the ack, with the
``SocketAck`` in ``response.extensions["socket_mode_ack"]``). Work an app does after its
ack (threads, lazy listeners) is awaited with ``twin.wait_for(...)``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from slacktwin import forms
from slacktwin.api import apply_response
from slacktwin.errors import ApiError, TwinUsageError
from slacktwin.recording import Call
from slacktwin.socketmode import EnvelopeType, SocketAck
from slacktwin.state import Channel, ResponseUrl, random_id
from slacktwin.twin import SlackTwin
from slacktwin.validation import validate_view


@dataclass
class SubmitResult:
    """What came of a view submission.

    ``sent`` is False when Slack's client itself refused (a required input empty, a
    length limit): then ``errors`` holds those messages and nothing reached the app.
    ``errors`` is the app's ``response_action: errors`` map (block_id -> message) when
    it sent one. ``closed`` tells whether the submitted view left the stack, ``view`` is
    the modal the user sees afterwards (None when none), ``problem`` describes an answer
    Slack would have rejected (bad JSON, invalid view).
    """

    status: int | None
    json: dict[str, Any] | None
    errors: dict[str, str] = field(default_factory=dict)
    sent: bool = True
    closed: bool = False
    view: dict[str, Any] | None = None
    problem: str | None = None
    response: httpx.Response | None = None

    @property
    def ok(self) -> bool:
        return self.sent and self.status == 200 and not self.errors and self.problem is None


class SlackDriver:
    """Sends Slack's requests (events, commands, interactions) to an app's Request URL, or
    with ``socket_mode=True`` over the app's Socket Mode connection to the twin.

    ``ack_timeout`` bounds the wait for each Socket Mode ack (``AckTimeout`` after it).
    """

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

    def __enter__(self) -> SlackDriver:
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

    # ------------------------------------------------------------------ events

    def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        event_time: int | None = None,
    ) -> httpx.Response:
        """Deliver an event in Slack's ``event_callback`` envelope.

        ``retry_num``/``retry_reason`` add Slack's retry headers (``retry_attempt`` and
        ``retry_reason`` in Socket Mode); reuse ``event_id`` to model a redelivery (or call
        ``redeliver``).
        """
        now = int(time.time())
        body_event = dict(event)
        body_event.setdefault("event_ts", f"{time.time():.6f}")
        envelope = {
            "token": self.twin.verification_token,
            "team_id": self.ws.team_id,
            "context_team_id": self.ws.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.ws.app_id,
            "event": body_event,
            "type": "event_callback",
            "event_id": event_id or random_id("Ev"),
            "event_time": event_time or now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.ws.team_id,
                    "user_id": self.ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
        self.last_event = envelope
        self._last_retry = retry_num or 0
        return self._deliver("events_api", envelope, retry_num=retry_num, retry_reason=retry_reason)

    def redeliver(self, retry_reason: str = "http_timeout") -> httpx.Response:
        """Send the last event again, same event_id, as Slack's retry (num 1, 2, 3)."""
        if self.last_event is None:
            raise TwinUsageError("no event sent yet")
        self._last_retry += 1
        return self._deliver(
            "events_api", self.last_event, retry_num=self._last_retry, retry_reason=retry_reason
        )

    def url_verification(self, challenge: str) -> httpx.Response:
        """Slack's Request URL check (HTTP only: Socket Mode apps have no Request URL)."""
        body = {
            "token": self.twin.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return self.send_raw(json.dumps(body), "application/json")

    def app_home_opened(self, user_id: str, tab: str = "home") -> httpx.Response:
        """The user opens the app's Home (or Messages) tab; includes the published view."""
        self._user(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.twin.dm_channel(user_id),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        view = self.twin.home_view(user_id)
        if view is not None:
            event["view"] = view
        return self.event(event)

    def _delivered(self, channel: Channel) -> bool:
        # Slack sends channel events only for conversations the app is a member of.
        return self.ws.bot_user_id in channel.members

    def post_message(
        self, user_id: str, channel: str | None, text: str, thread_ts: str | None = None
    ) -> tuple[str, httpx.Response | None]:
        """The person posts a message: stored in the twin, then the ``message`` event.

        ``channel`` None (or the user's own id) means the app's DM. Returns the new ts and
        the app's response, or None when Slack would not tell the app (it is not a member).
        """
        self._user(user_id)
        conversation = self._conversation(user_id, channel)
        if user_id not in conversation.members:
            raise TwinUsageError(f"{user_id} is not a member of {conversation.id}")
        message = self.ws.post_user_message(user_id, conversation, text, thread_ts=thread_ts)
        if not self._delivered(conversation):
            return message["ts"], None
        event = {
            k: v
            for k, v in message.items()
            if k
            in {
                "client_msg_id",
                "type",
                "text",
                "user",
                "ts",
                "team",
                "blocks",
                "thread_ts",
                "parent_user_id",
            }
        }
        event.update(
            {
                "channel": conversation.id,
                "event_ts": message["ts"],
                "channel_type": conversation.channel_type,
            }
        )
        return message["ts"], self.event(event)

    def react(self, user_id: str, channel: str, ts: str, reaction: str) -> httpx.Response | None:
        """The person adds an emoji reaction to a message; ``reaction_added`` event."""
        self._user(user_id)
        conversation = self._conversation(user_id, channel)
        message = self.ws.add_reaction(conversation, ts, reaction.strip(":"), user_id)
        if not self._delivered(conversation):
            return None
        event = {
            "type": "reaction_added",
            "user": user_id,
            "item": {"type": "message", "channel": conversation.id, "ts": ts},
            "reaction": reaction.strip(":"),
            "item_user": message.get("user", ""),
            "event_ts": f"{time.time():.6f}",
        }
        return self.event(event)

    def member_joined(self, user_id: str, channel: str) -> httpx.Response | None:
        """The person joins a channel; ``member_joined_channel`` event."""
        self.twin.join(channel, user_id)
        conversation = self._conversation(user_id, channel)
        if not self._delivered(conversation):
            return None
        event = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": conversation.id,
            "channel_type": "G" if conversation.is_private else "C",
            "team": self.ws.team_id,
            "event_ts": f"{time.time():.6f}",
        }
        return self.event(event)

    def team_join(self, user_id: str, **user_fields: Any) -> httpx.Response:
        """A new member joins the workspace: adds them to the twin (``name`` defaults to the
        id in lower case; other fields as ``twin.add_user``) and sends ``team_join`` with
        the full user object, as Slack does."""
        user_fields.setdefault("name", user_id.lower())
        user = self.twin.add_user(user_id, **user_fields)
        return self.event({"type": "team_join", "user": user})

    def app_uninstalled(self) -> httpx.Response:
        """``app_uninstalled`` (an event_callback with no fields but its type). It does not
        revoke the token by itself: call ``twin.uninstall()`` for that."""
        return self.event({"type": "app_uninstalled"})

    def tokens_revoked(
        self, *, bot: list[str] | None = None, oauth: list[str] | None = None
    ) -> httpx.Response:
        """``tokens_revoked``: ``tokens`` maps token kinds to the user ids whose tokens were
        revoked; by default the bot user's token."""
        tokens = {
            "oauth": list(oauth or []),
            "bot": list(bot) if bot is not None else [self.ws.bot_user_id],
        }
        return self.event({"type": "tokens_revoked", "tokens": tokens})

    def app_rate_limited(self, minute_rate_limited: int | None = None) -> httpx.Response:
        """``app_rate_limited``: Slack sends it as a top-level payload, not inside an
        ``event_callback`` (docs.slack.dev/reference/events/app_rate_limited)."""
        now = int(time.time())
        payload = {
            "token": self.twin.verification_token,
            "type": "app_rate_limited",
            "team_id": self.ws.team_id,
            "minute_rate_limited": minute_rate_limited or now - now % 60,
            "api_app_id": self.ws.app_id,
        }
        return self._deliver("events_api", payload)

    def user_change(self, user_id: str) -> httpx.Response:
        """A ``user_change`` event carrying the user's current profile in the twin."""
        return self.event(
            {"type": "user_change", "user": self.twin.user(user_id), "cache_ts": int(time.time())}
        )

    # ------------------------------------------------------------------ commands, shortcuts

    def command(
        self, user_id: str, command: str, text: str = "", channel: str | None = None
    ) -> httpx.Response:
        """A slash command, form-encoded like Slack; ``channel`` None means the app's DM.

        A JSON (or plain text) answer body is shown to the user like Slack does: as an
        ephemeral message, or in the channel for ``response_type: in_channel``.
        """
        user = self._user(user_id)
        conversation = self._conversation(user_id, channel)
        response_url = self.ws.issue_response_url(user_id, conversation.id)
        channel_name = self._channel_name(conversation)
        if conversation.is_private and not conversation.is_im and not conversation.is_mpim:
            channel_name = "privategroup"
        fields = {
            "token": self.twin.verification_token,
            "team_id": self.ws.team_id,
            "team_domain": self.ws.team_domain,
            "channel_id": conversation.id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user["name"],
            "command": command if command.startswith("/") else "/" + command,
            "text": text,
            "api_app_id": self.ws.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.ws.issue_trigger(user_id, "command"),
        }
        response = self._deliver("slash_commands", fields)
        self._apply_command_answer(response_url, response)
        return response

    def _apply_command_answer(self, response_url: str, response: httpx.Response) -> None:
        if response.status_code != 200 or not response.content.strip():
            return
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text}
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return
        ctx = self.ws.response_urls[response_url.rsplit("/", 1)[-1]]
        self._apply_answer(ctx, body, "command.ack")

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

    def shortcut(self, user_id: str, callback_id: str) -> httpx.Response:
        """A global shortcut (lightning menu)."""
        payload = self._base_interaction("shortcut", user_id)
        payload["user"] = {k: payload["user"][k] for k in ("id", "username", "team_id")}
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.ws.issue_trigger(user_id, "shortcut"),
                "action_ts": f"{time.time():.6f}",
            }
        )
        return self.send_interaction(payload)

    def message_shortcut(
        self, user_id: str, callback_id: str, channel: str, ts: str
    ) -> httpx.Response:
        """A message shortcut on a stored message (``message_action``)."""
        conversation = self._conversation(user_id, channel)
        message = self.twin.message(conversation.id, ts)
        if message is None:
            raise TwinUsageError(f"no message {ts} in {conversation.id}")
        payload = self._base_interaction("message_action", user_id)
        payload["user"] = {k: payload["user"][k] for k in ("id", "name", "team_id")}
        payload.update(
            {
                "callback_id": callback_id,
                "trigger_id": self.ws.issue_trigger(user_id, "message"),
                "message_ts": ts,
                "response_url": self.ws.issue_response_url(
                    user_id, conversation.id, thread_ts=message.get("thread_ts")
                ),
                "channel": {"id": conversation.id, "name": self._channel_name(conversation)},
                "message": message,
                "action_ts": f"{time.time():.6f}",
            }
        )
        return self.send_interaction(payload)

    # ------------------------------------------------------------------ block actions

    def _surface(
        self,
        user_id: str,
        *,
        message: tuple[str, str] | None,
        home: bool,
        modal: bool,
        ephemeral: bool | str,
    ) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        """Where the person acts: ("message"|"ephemeral"|"home"|"modal", source, blocks)."""
        chosen = sum([message is not None, home, modal, bool(ephemeral)])
        if chosen > 1:
            raise TwinUsageError("give one of message=, home=, modal=, ephemeral=")
        if chosen == 0:
            if self.twin.current_modal(user_id) is None:
                raise TwinUsageError(
                    "no modal open: say where (message=, home=True, ephemeral=True)"
                )
            modal = True
        if message is not None:
            channel, ts = message
            conversation = self._conversation(user_id, channel)
            stored = self.twin.message(conversation.id, ts)
            if stored is None:
                raise TwinUsageError(f"no message {ts} in {conversation.id}")
            stored["channel"] = conversation.id
            return "message", stored, stored.get("blocks") or []
        if ephemeral:
            shown = [e for e in self.twin.ephemerals(user_id) if e.get("blocks")]
            if isinstance(ephemeral, str):
                shown = [e for e in shown if e["ts"] == ephemeral]
            if not shown:
                raise TwinUsageError(f"no such ephemeral message with blocks for {user_id}")
            return "ephemeral", shown[-1], shown[-1]["blocks"]
        view = self.twin.home_view(user_id) if home else self.twin.current_modal(user_id)
        if view is None:
            raise TwinUsageError(f"{user_id} has no {'home view' if home else 'open modal'}")
        return ("home" if home else "modal"), view, view.get("blocks") or []

    def _block_actions(
        self,
        user_id: str,
        kind: str,
        source: dict[str, Any],
        control: forms.Control,
        state_value: dict[str, Any] | None,
    ) -> httpx.Response:
        payload = self._base_interaction("block_actions", user_id)
        now = f"{time.time():.6f}"
        payload["trigger_id"] = self.ws.issue_trigger(user_id, kind)
        if kind in {"message", "ephemeral"}:
            conversation = self.twin._channel(source["channel"])
            payload["container"] = {
                "type": "message",
                "message_ts": source["ts"],
                "channel_id": conversation.id,
                "is_ephemeral": kind == "ephemeral",
            }
            if source.get("thread_ts"):
                payload["container"]["thread_ts"] = source["thread_ts"]
            payload["channel"] = {"id": conversation.id, "name": self._channel_name(conversation)}
            if kind == "message":
                message = {k: v for k, v in source.items() if k != "channel"}
                payload["message"] = message
            payload["state"] = {"values": {}}
            payload["response_url"] = self.ws.issue_response_url(
                user_id,
                conversation.id,
                source_kind=kind,
                source_ts=source["ts"],
                thread_ts=source.get("thread_ts"),
            )
        else:
            view = dict(source)
            view["state"] = forms.view_state(source)
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
        payload["actions"] = [forms.action_for(control, state_value, now)]
        return self.send_interaction(payload)

    def click(
        self,
        user_id: str,
        label: str,
        *,
        message: tuple[str, str] | None = None,
        home: bool = False,
        modal: bool = False,
        ephemeral: bool | str = False,
        near: str | None = None,
        value: str | None = None,
        index: int | None = None,
    ) -> httpx.Response:
        """Press the button reading ``label`` (case-insensitive) and send block_actions.

        Where: ``message=(channel, ts)``, ``home=True``, ``modal=True`` (top modal, the
        default when one is open) or ``ephemeral=True`` (the user's latest ephemeral with
        blocks; or pass its ts). With several such buttons, narrow with ``near`` (text
        above/beside it) or ``value``, or pick ``index`` (among buttons with that label, in
        display order).
        """
        self._user(user_id)
        kind, source, blocks = self._surface(
            user_id, message=message, home=home, modal=modal, ephemeral=ephemeral
        )
        control = forms.find_button(blocks, label, near=near, value=value, index=index)
        return self._block_actions(user_id, kind, source, control, None)

    def choose(
        self,
        user_id: str,
        control_label: str,
        option: Any,
        *,
        message: tuple[str, str] | None = None,
        home: bool = False,
        modal: bool = False,
        ephemeral: bool | str = False,
        near: str | None = None,
        index: int | None = None,
    ) -> httpx.Response:
        """Pick ``option`` in the menu/picker found by ``control_label`` (placeholder,
        action_id or the text beside it) and send block_actions. Works for overflow,
        selects, radio buttons, checkboxes (a label or a list) and date/time pickers."""
        self._user(user_id)
        kind, source, blocks = self._surface(
            user_id, message=message, home=home, modal=modal, ephemeral=ephemeral
        )
        control = forms.find_control(blocks, control_label, option=option, near=near, index=index)
        state_value = forms.value_for(
            control.element,
            option,
            resolve_user=self.resolve_user,
            resolve_channel=self.resolve_channel,
        )
        if kind == "modal" and control.block.get("type") == "input":
            self._store_value(source["id"], control, state_value)
            source = self.twin.view(source["id"]) or source
        return self._block_actions(user_id, kind, source, control, state_value)

    # ------------------------------------------------------------------ modals

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

    def fill(self, user_id: str, values: Mapping[str, Any]) -> None:
        """Type/select values into the top modal's inputs, found by label (case-insensitive).

        Values: str for text and number inputs, option text for selects and radio
        buttons, a list for multi-selects and checkboxes (True ticks a single checkbox),
        user/channel ids or names for pickers, "YYYY-MM-DD"/date, "HH:MM"/time.
        Unknown labels raise KeyError listing the labels there are.

        Values are set in the order given. An input with ``dispatch_action`` sends its
        block_actions as soon as it is set, as Slack does, so the app can redraw the view
        (``views.update``); a later label that the redraw adds is waited for (up to
        ``REDRAW_WAIT`` s) before it is called unknown.
        """
        view_id = self._top_modal(user_id)["id"]
        dispatched = False
        for label, value in values.items():
            block = self._input(view_id, label, wait=dispatched)
            element = block["element"]
            state_value = forms.value_for(
                element, value, resolve_user=self.resolve_user, resolve_channel=self.resolve_channel
            )
            control = forms.Control(block, element, "")
            self._store_value(view_id, control, state_value)
            if block.get("dispatch_action"):
                source = self.twin.view(view_id)
                assert source is not None
                self._block_actions(user_id, "modal", source, control, state_value)
                dispatched = True

    REDRAW_WAIT = 5.0

    def _input(self, view_id: str, label: str, *, wait: bool) -> dict[str, Any]:
        deadline = time.monotonic() + (self.REDRAW_WAIT if wait else 0.0)
        while True:
            view = self.twin.view(view_id)
            if view is None:
                raise TwinUsageError(f"view {view_id} is closed")
            try:
                return forms.find_input(view.get("blocks") or [], label)
            except KeyError:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(0.02)

    def submit(self, user_id: str) -> SubmitResult:
        """Press the modal's submit button: view_submission, then apply the app's answer.

        Empty 200 closes the submitted view; ``response_action`` errors keep it and
        return the errors; update replaces it; push stacks a new view; clear closes all.
        """
        view = self._top_modal(user_id)
        state = forms.view_state(view)
        client_errors = forms.client_side_errors(view, state)
        if client_errors:
            return SubmitResult(None, None, client_errors, sent=False, view=view)
        payload = self._base_interaction("view_submission", user_id)
        sent_view = dict(view)
        sent_view["state"] = state
        payload.update(
            {
                "trigger_id": self.ws.issue_trigger(user_id, "modal"),
                "view": sent_view,
                "response_urls": [],
            }
        )
        response = self.send_interaction(payload)
        result = SubmitResult(response.status_code, None, response=response)
        if response.status_code != 200:
            result.problem = f"the app answered HTTP {response.status_code}"
            result.view = self.twin.current_modal(user_id)
            return result
        body: Any = {}
        if response.content.strip():
            try:
                body = response.json()
            except ValueError:
                body = None
        if not isinstance(body, dict):
            result.problem = "the app answered a body that is not a JSON object"
            result.view = self.twin.current_modal(user_id)
            return result
        result.json = body
        self._apply_submission_answer(user_id, view, body, result)
        result.view = self.twin.current_modal(user_id)
        return result

    def _apply_submission_answer(
        self, user_id: str, view: dict[str, Any], body: dict[str, Any], result: SubmitResult
    ) -> None:
        action = body.get("response_action")
        problem: str | None = None
        with self.ws.lock:
            stack = self.ws.modal_stacks.get(user_id, [])
            if action is None:
                if view["id"] in stack:
                    del stack[stack.index(view["id"]) :]
                result.closed = True
            elif action == "errors":
                errors = body.get("errors")
                input_ids = {b["block_id"] for b in forms.input_blocks(view.get("blocks") or [])}
                if not isinstance(errors, dict) or not errors:
                    problem = "response_action errors needs a non-empty errors object"
                else:
                    unknown = sorted(set(errors) - input_ids)
                    if unknown:
                        problem = f"errors name blocks that are not inputs: {', '.join(unknown)}"
                    result.errors = {str(k): str(v) for k, v in errors.items()}
            elif action in {"update", "push"}:
                new_view = body.get("view")
                messages = validate_view(new_view, allowed_types={"modal"})
                if messages:
                    problem = "invalid view: " + "; ".join(messages)
                else:
                    try:
                        if action == "update":
                            self.ws.update_view(self.ws.views[view["id"]], new_view, None)
                        else:
                            self.ws.push_modal(user_id, new_view)
                    except ApiError as exc:
                        problem = str(exc)
            elif action == "clear":
                self.ws.clear_modals(user_id)
                result.closed = True
            else:
                problem = f"unknown response_action {action!r}"
        if problem:
            result.problem = problem
        self._record(
            "view_submission.ack",
            body,
            200 if problem is None else 400,
            {"ok": problem is None, **({"error": problem} if problem else {})},
        )

    def close(self, user_id: str) -> httpx.Response | None:
        """Press the modal's close button: pop it (all views with ``clear_on_close``);
        sends ``view_closed`` when the view has ``notify_on_close``."""
        view = self._top_modal(user_id)
        cleared = bool(view.get("clear_on_close"))
        with self.ws.lock:
            if cleared:
                self.ws.clear_modals(user_id)
            else:
                self.ws.pop_modal(user_id)
        if not view.get("notify_on_close"):
            return None
        payload = self._base_interaction("view_closed", user_id)
        sent_view = dict(view)
        sent_view["state"] = forms.view_state(view)
        payload.update({"view": sent_view, "is_cleared": cleared})
        return self.send_interaction(payload)


def _ack_response(ack: SocketAck) -> httpx.Response:
    """A Socket Mode ack as the HTTP answer it replaces: 200 with the payload as JSON."""
    request = httpx.Request("POST", "ws://slack-twin/link/")
    extensions = {"socket_mode_ack": ack}
    if ack.payload is None:
        return httpx.Response(200, content=b"", request=request, extensions=extensions)
    return httpx.Response(200, json=ack.payload, request=request, extensions=extensions)
