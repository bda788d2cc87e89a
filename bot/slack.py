"""The one outbound port through which ``bot`` reaches Slack.

Services depend on the ``SlackPort`` protocol; ``WebClientPort`` adapts slack_sdk's
``WebClient`` (against real Slack or the twin) to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackProfile:
    user_id: str
    display_name: str
    real_name: str
    tz: str | None
    is_admin: bool
    is_bot: bool
    deleted: bool = False


def profile_from_user(user: dict[str, Any]) -> SlackProfile:
    """A profile from a Slack user object (``users.info``, ``users.list``, ``user_change``)."""
    profile = user.get("profile") or {}
    return SlackProfile(
        user_id=user["id"],
        display_name=profile.get("display_name") or user.get("name") or "",
        real_name=profile.get("real_name") or user.get("real_name") or "",
        tz=user.get("tz"),
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
        deleted=bool(user.get("deleted")),
    )


def tagged(message: dict[str, Any], event_type: str, key: str) -> bool:
    """Whether a message was posted with metadata ``event_type`` and payload ``{"key": key}``
    (how copbot finds a message again after a crash between posting and recording it)."""
    metadata = message.get("metadata") or {}
    return metadata.get("event_type") == event_type and (
        (metadata.get("event_payload") or {}).get("key") == key
    )


@dataclass(frozen=True)
class Posted:
    """Where Slack put a message: the conversation ID it answered (a ``D…`` ID when the
    message was posted to a user ID) and the message's ts.

    Keep ``channel`` for any message copbot later updates or deletes: chat.update and
    chat.delete take a conversation ID, never a user ID (``channel_not_found``)."""

    channel: str
    ts: str


class SlackPort(Protocol):
    def identity(self) -> tuple[str, str] | None: ...

    def user_info(self, user_id: str) -> SlackProfile | None: ...

    def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Posted: ...

    def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str: ...

    def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    def post_ephemeral(
        self, channel: str, user: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def channel_members(self, channel: str) -> list[str]: ...

    def list_users(
        self, cursor: str | None = None, limit: int = 200
    ) -> tuple[list[SlackProfile], str | None]: ...

    def upload_file(
        self, user_id: str, filename: str, content: str | bytes, *, title: str, comment: str
    ) -> None: ...

    def open_conversation(self, user_ids: list[str]) -> str: ...

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]: ...

    def find_tagged(self, channel: str, event_type: str, key: str) -> str | None: ...


def make_web_client(token: str | None, base_url: str, timeout: int = 10) -> WebClient:
    """A WebClient that retries on 429 (honouring Retry-After), 5xx and dropped connections."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class WebClientPort:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def identity(self) -> tuple[str, str] | None:
        """``auth.test``: the token's workspace as (team id, name), or None when Slack
        refuses the token (the app was uninstalled, its token revoked) or can't be reached."""
        try:
            answer = self.client.auth_test()
        except SlackApiError as error:
            log.warning("auth.test failed: %s", error.response.get("error"))
            return None
        except OSError as error:
            log.warning("auth.test failed: %s", error)
            return None
        team_id = str(answer.get("team_id") or "")
        return (team_id, str(answer.get("team") or "")) if team_id else None

    def user_info(self, user_id: str) -> SlackProfile | None:
        """The person's profile, or None when Slack cannot say (the caller keeps what it has)."""
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            log.warning("users.info for %s failed: %s", user_id, error.response.get("error"))
            return None
        except OSError as error:
            log.warning("users.info for %s failed: %s", user_id, error)
            return None
        return profile_from_user(user)

    def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Posted:
        """Post a message; returns the conversation ID and ts Slack answered with."""
        response = self.client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, metadata=metadata
        )
        return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

    def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post a message and return its ts only: for messages never updated or deleted,
        or posted to a conversation ID already (use ``post`` for a user ID's DM)."""
        return self.post(channel, text, blocks=blocks, thread_ts=thread_ts, metadata=metadata).ts

    def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def post_ephemeral(
        self, channel: str, user: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self.client.views_publish(user_id=user_id, view=view)

    def list_users(
        self, cursor: str | None = None, limit: int = 200
    ) -> tuple[list[SlackProfile], str | None]:
        """One page of ``users.list`` (Tier 2): profiles in bulk, never one call a member."""
        page = self.client.users_list(cursor=cursor, limit=limit)
        profiles = [profile_from_user(user) for user in page.get("members") or []]
        following = (page.get("response_metadata") or {}).get("next_cursor") or None
        return profiles, following

    def channel_members(self, channel: str) -> list[str]:
        """Everyone in a channel, page by page (for a pulse whose audience is a channel)."""
        people: list[str] = []
        cursor = None
        while True:
            page = self.client.conversations_members(channel=channel, cursor=cursor, limit=500)
            people += page.get("members") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return people

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except SlackApiError as error:
            log.warning("chat.getPermalink failed: %s", error.response.get("error"))
            return None

    def open_conversation(self, user_ids: list[str]) -> str:
        """copbot's DM with one person, or group DM with several (the same one each time)."""
        return str(self.client.conversations_open(users=user_ids)["channel"]["id"])

    def find_tagged(self, channel: str, event_type: str, key: str) -> str | None:
        """The ts of one of copbot's latest messages in ``channel`` posted with metadata
        ``event_type`` and payload ``{"key": key}``, or None. One page of history, a Tier 3
        call: only for recovering after a crash, never on the common path."""
        page = self.client.conversations_history(
            channel=channel, limit=20, include_all_metadata=True
        )
        found = (m for m in page.get("messages") or [] if tagged(m, event_type, key))
        return next((str(m["ts"]) for m in found), None)

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """A thread's messages, parent first (one thread, never a channel's history)."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.client.conversations_replies(
                channel=channel, ts=ts, cursor=cursor, limit=200
            )
            found += page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return found

    def upload_file(
        self, user_id: str, filename: str, content: str | bytes, *, title: str, comment: str
    ) -> None:
        """Send a file to the person in their DM with copbot."""
        channel = self.client.conversations_open(users=user_id)["channel"]["id"]
        self.client.files_upload_v2(
            channel=channel,
            filename=filename,
            content=content,
            title=title,
            initial_comment=comment,
        )
