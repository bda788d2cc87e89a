"""Commands, shortcuts and block actions: a person types a slash command, runs a global or
message shortcut, clicks a button or picks from a menu, found by its visible words on a
message, a modal or the Home tab. The app's answer to a command is applied to the twin."""

from __future__ import annotations

import time
from typing import Any

import httpx

from slacktwin import forms
from slacktwin.errors import TwinUsageError
from slacktwin.transport import Transport


class Interactions(Transport):
    """The driver's commands, shortcuts and clicks (``SlackDriver`` mixes it in)."""

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
