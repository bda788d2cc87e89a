"""Slack's side of the outbound port through which ``bot`` reaches Slack.

``WebClientPort`` adapts slack_sdk's ``WebClient`` (against real Slack or the twin) to
``bot.platform.Messenger`` (what everything, the outbox included, sends through) and to
``SlackPort``, the Messenger plus the reads services need (profiles, members, threads).
A Messenger call Slack refuses raises ``SlackRefused``: a ``SlackApiError`` for callers
that catch those, and a ``bot.platform.Refused`` with Slack's code, status, Retry-After
and method for the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.platform.messenger import History, Messenger, Posted, Refused, tagged

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


class SlackRefused(SlackApiError, Refused):
    """Slack answered a Messenger call with an error (``ok: false`` or an HTTP error)."""

    @classmethod
    def of(cls, error: SlackApiError, method: str) -> SlackRefused:
        response = error.response
        status = getattr(response, "status_code", None)
        data = response.data if isinstance(getattr(response, "data", None), dict) else {}
        refused = cls(str(error), response)
        Refused.__init__(
            refused,
            str(error),
            code=str(data.get("error") or f"http_{status}"),
            status=status,
            retry_after=retry_after(getattr(response, "headers", None)),
            method=method,
        )
        return refused


def retry_after(headers: Any) -> float | None:
    """Slack's ``Retry-After`` header in seconds, or None when absent or unreadable."""
    for name, raw in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            value = raw[0] if isinstance(raw, list | tuple) else raw
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


@contextmanager
def refusals(method: str) -> Iterator[None]:
    """Raise Slack's refusals of ``method`` as ``SlackRefused``."""
    try:
        yield
    except SlackRefused:
        raise
    except SlackApiError as error:
        raise SlackRefused.of(error, method) from error


class SlackPort(Messenger, Protocol):
    """The Messenger plus the reads and replies services need from Slack."""

    def identity(self) -> tuple[str, str] | None: ...

    def user_info(self, user_id: str) -> SlackProfile | None: ...

    def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str: ...

    def post_ephemeral(
        self, channel: str, user: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def message_at(self, channel: str, ts: str) -> dict[str, Any] | None: ...

    def channel_members(self, channel: str) -> list[str]: ...

    def channel_info(self, channel: str) -> dict[str, Any]: ...

    def join_channel(self, channel: str) -> None: ...

    def list_users(
        self, cursor: str | None = None, limit: int = 200
    ) -> tuple[list[SlackProfile], str | None]: ...

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


def delivery_port(client: WebClient) -> WebClientPort:
    """A port on a copy of ``client`` without retry handlers, for the outbox: it handles 429
    itself (one pause for all senders), and an automatic retry after a timeout, a dropped
    connection or a 5xx could post a message twice."""
    return WebClientPort(
        WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=dict(client.headers),
            retry_handlers=[],
        )
    )


class WebClientPort:
    """Slack's Messenger and SlackPort, over slack_sdk's WebClient."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    @property
    def timeout(self) -> float:
        """Seconds a call may take before it counts as unanswered."""
        return float(self.client.timeout)

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
        with refusals("chat.postMessage"):
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
        with refusals("chat.update"):
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def post_ephemeral(
        self, channel: str, user: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        with refusals("views.publish"):
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

    def channel_info(self, channel: str) -> dict[str, Any]:
        """What Slack says of a channel (``conversations.info``): its name, whether copbot
        is a member, private or archived."""
        with refusals("conversations.info"):
            return dict(self.client.conversations_info(channel=channel)["channel"])

    def join_channel(self, channel: str) -> None:
        with refusals("conversations.join"):
            self.client.conversations_join(channel=channel)

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except SlackApiError as error:
            log.warning("chat.getPermalink failed: %s", error.response.get("error"))
            return None

    def message_at(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message posted at ``ts`` in ``channel``, if it is still there."""
        found = self.client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        ).get("messages")
        return next((m for m in found or [] if m.get("ts") == ts), None)

    def open_conversation(self, user_ids: list[str]) -> str:
        """copbot's DM with one person, or group DM with several (the same one each time)."""
        with refusals("conversations.open"):
            return str(self.client.conversations_open(users=user_ids)["channel"]["id"])

    def history(self, channel: str, *, limit: int, cursor: str | None = None) -> History:
        """One page of ``conversations.history`` with message metadata (Tier 3)."""
        with refusals("conversations.history"):
            page = self.client.conversations_history(
                channel=channel, limit=limit, include_all_metadata=True, cursor=cursor
            )
        following = (page.get("response_metadata") or {}).get("next_cursor") or None
        return History(messages=list(page.get("messages") or []), next_cursor=following)

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
        channel = self.open_conversation([user_id])
        with refusals("files.uploadV2"):
            self.client.files_upload_v2(
                channel=channel,
                filename=filename,
                content=content,
                title=title,
                initial_comment=comment,
            )
