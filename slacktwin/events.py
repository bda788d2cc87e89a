"""Events a person or the workspace causes: messages, reactions, joins, Home opened,
app lifecycle events, with Slack's event_callback envelope, retries and url_verification."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import httpx

from slacktwin.errors import TwinUsageError
from slacktwin.state import Channel, random_id
from slacktwin.transport import Transport


class Events(Transport):
    """The driver's events (``SlackDriver`` mixes it in)."""

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
