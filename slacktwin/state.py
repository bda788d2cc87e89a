"""The twin's workspace: users, conversations, triggers and files; messages and views in
its mixins (`slacktwin.messages`, `slacktwin.surfaces`), records in `slacktwin.records`.

Everything here is plain data guarded by one re-entrant lock (``Workspace.lock``): the
server thread, the driver and the test thread all touch it. Methods that return stored
dicts return the live objects; callers outside the lock must copy (``SlackTwin`` does).
Shapes follow Slack's payloads in ``shared/slack-samples``.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from slacktwin.errors import ApiError
from slacktwin.messages import Messages, normalize_blocks
from slacktwin.records import (
    Channel,
    FileRecord,
    ResponseUrl,
    Trigger,
    TsClock,
    User,
    random_id,
    short_id,
    ts_key,
)
from slacktwin.surfaces import MODAL_STACK_LIMIT, Surfaces, input_action_ids

__all__ = [
    "MAX_TEXT_LENGTH",
    "MODAL_STACK_LIMIT",
    "RESPONSE_URL_MAX_USES",
    "RESPONSE_URL_TTL_SECONDS",
    "TRIGGER_TTL_SECONDS",
    "Channel",
    "FileRecord",
    "ResponseUrl",
    "Trigger",
    "TsClock",
    "User",
    "Workspace",
    "input_action_ids",
    "normalize_blocks",
    "random_id",
    "short_id",
    "ts_key",
]

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
MAX_TEXT_LENGTH = 40_000


class Workspace(Messages, Surfaces):
    """All state of one Slack workspace as the twin's app sees it: the directory,
    triggers, response URLs, Socket Mode tickets and files here; messages
    (``slacktwin.messages``) and views (``slacktwin.surfaces``) in its mixins."""

    def __init__(
        self,
        *,
        team_id: str,
        team_name: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        bot_name: str,
        trigger_ttl: float = TRIGGER_TTL_SECONDS,
        include_slackbot: bool = True,
    ) -> None:
        self.lock = threading.RLock()
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = "".join(c if c.isalnum() else "-" for c in team_name.lower()).strip("-")
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.bot_name = bot_name
        self.trigger_ttl = trigger_ttl
        # Slack's limits for commercially distributed non-Marketplace apps
        # (conversations.history/replies: at most 15 messages a call).
        self.non_marketplace_limits = False
        self.base_url = "http://127.0.0.1/"
        self.created = int(time.time())
        self.clock = TsClock()
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.view_users: dict[str, str] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files: dict[str, FileRecord] = {}
        self.uploads: dict[str, str] = {}
        self.socket_tickets: set[str] = set()
        self.add_user(
            User(
                id=bot_user_id,
                name=bot_name,
                real_name=bot_name,
                is_bot=True,
                bot_id=bot_id,
                app_id=app_id,
                tz="America/Los_Angeles",
            )
        )
        if include_slackbot:
            # Real users.list includes Slackbot, with is_bot false: apps must skip it.
            self.add_user(User(id="USLACKBOT", name="slackbot", real_name="Slackbot"))

    # ------------------------------------------------------------------ directory

    def add_user(self, user: User) -> User:
        with self.lock:
            self.users[user.id] = user
            return user

    def add_channel(self, channel: Channel) -> Channel:
        with self.lock:
            if channel.id in self.channels:
                channel.messages = self.channels[channel.id].messages
            self.channels[channel.id] = channel
            return channel

    def user(self, user_id: str | None) -> User:
        with self.lock:
            user = self.users.get(user_id or "")
            if user is None:
                raise ApiError("user_not_found")
            return user

    def dm(self, user_id: str) -> Channel:
        """The app's DM with a user; stable id ``D`` + the user id without its first letter."""
        with self.lock:
            for channel in self.channels.values():
                if channel.is_im and channel.user == user_id:
                    return channel
            user = self.user(user_id)
            channel_id = "D" + user.id[1:]
            while channel_id in self.channels:
                channel_id = random_id("D")
            channel = Channel(
                id=channel_id,
                name=user.id,
                is_private=True,
                is_im=True,
                user=user.id,
                members=[user.id, self.bot_user_id],
                creator=self.bot_user_id,
            )
            self.channels[channel_id] = channel
            return channel

    def group_dm(self, user_ids: list[str]) -> tuple[Channel, bool]:
        """The group DM of the app with these users (found again for the same set), and
        whether it already existed. Slack's limit: 2 to 8 people besides the app."""
        with self.lock:
            people = sorted(set(user_ids) - {self.bot_user_id})
            for user_id in people:
                if self.user(user_id).deleted:
                    raise ApiError("user_disabled")
            wanted = {*people, self.bot_user_id}
            for channel in self.channels.values():
                if channel.is_mpim and set(channel.members) == wanted:
                    return channel, True
            channel_id = random_id("C")
            name = "mpdm-" + "--".join(self.users[u].name for u in people) + "-1"
            channel = Channel(
                id=channel_id,
                name=name,
                is_private=True,
                is_mpim=True,
                members=[*people, self.bot_user_id],
                creator=self.bot_user_id,
            )
            self.channels[channel_id] = channel
            return channel, False

    def conversation(self, channel_id: str | None, *, allow_user: bool = False) -> Channel:
        """Look up a conversation id.

        Only chat.postMessage and chat.scheduleMessage take a user id (``allow_user``),
        meaning the app's DM with that person; every other method answers
        ``channel_not_found`` for one, as Slack does (chat.update's page: "For direct
        messages, ensure that this value is a DM ID (starts with D) instead of a User ID").
        """
        with self.lock:
            if not channel_id:
                raise ApiError("channel_not_found")
            if allow_user and channel_id[0] in "UW" and channel_id in self.users:
                if channel_id == self.bot_user_id:
                    raise ApiError("channel_not_found")
                return self.dm(channel_id)
            channel = self.channels.get(channel_id)
            if channel is None:
                raise ApiError("channel_not_found")
            return channel

    def readable(self, channel: Channel) -> Channel:
        """The bot can read this conversation (history, replies): member, else Slack's error."""
        if self.bot_user_id in channel.members:
            return channel
        if channel.is_private:
            raise ApiError("channel_not_found")
        raise ApiError("not_in_channel")

    def writable(self, channel: Channel) -> Channel:
        """The bot can post here; archived and non-member channels fail like Slack."""
        if channel.is_archived:
            raise ApiError("is_archived")
        return self.readable(channel)

    # ------------------------------------------------------------------ triggers, response_url

    def issue_trigger(self, user_id: str, context: str) -> str:
        with self.lock:
            trigger_id = (
                f"{int(time.time())}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}"
            )
            self.triggers[trigger_id] = Trigger(trigger_id, user_id, context, time.monotonic())
            return trigger_id

    def exchange_trigger(self, trigger_id: str | None) -> Trigger:
        """Use a trigger once, within ``trigger_ttl`` seconds, as Slack requires."""
        with self.lock:
            trigger = self.triggers.get(trigger_id or "")
            if trigger is None:
                raise ApiError("invalid_trigger_id")
            if trigger.used:
                raise ApiError("exchanged_trigger_id")
            if time.monotonic() - trigger.issued > self.trigger_ttl:
                raise ApiError("expired_trigger_id")
            trigger.used = True
            return trigger

    def issue_response_url(
        self,
        user_id: str,
        channel_id: str,
        *,
        source_kind: str | None = None,
        source_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:
        with self.lock:
            token = secrets.token_urlsafe(18)
            self.response_urls[token] = ResponseUrl(
                token, user_id, channel_id, source_kind, source_ts, thread_ts
            )
            return f"{self.base_url}response/{token}"

    # ------------------------------------------------------------------ socket mode

    def issue_socket_url(self) -> str:
        """A Socket Mode websocket URL with a fresh ticket (apps.connections.open)."""
        with self.lock:
            ticket = secrets.token_hex(16)
            self.socket_tickets.add(ticket)
            ws_base = "ws://" + self.base_url.split("://", 1)[1]
            return f"{ws_base}link/?ticket={ticket}&app_id={self.app_id}"

    def use_socket_ticket(self, ticket: str) -> bool:
        """Accept a ticket once: each apps.connections.open URL opens one connection."""
        with self.lock:
            if ticket not in self.socket_tickets:
                return False
            self.socket_tickets.discard(ticket)
            return True

    # ------------------------------------------------------------------ files

    def new_file(self, user_id: str, name: str, length: int, **extra: str) -> FileRecord:
        with self.lock:
            record = FileRecord(
                id=random_id("F"),
                name=name,
                length=length,
                user=user_id,
                upload_token=secrets.token_urlsafe(18),
                **extra,
            )
            self.files[record.id] = record
            self.uploads[record.upload_token] = record.id
            return record

    def upload_url(self, record: FileRecord) -> str:
        return f"{self.base_url}upload/v1/{record.upload_token}"
