"""The workspace's messages: posting (the app's and people's), threads, deletion with
Slack's tombstones, reactions and ephemeral messages. A mixin of ``Workspace``."""

from __future__ import annotations

import copy
import secrets
import threading
from typing import Any

from slacktwin.errors import ApiError
from slacktwin.records import Channel, TsClock, short_id
from slacktwin.validation import INTERACTIVE_TYPES, block_elements


def normalize_blocks(blocks: list[Any]) -> list[dict[str, Any]]:
    """Copy blocks and fill in the block_id/action_id Slack generates when they are missing."""
    result: list[dict[str, Any]] = copy.deepcopy(blocks)
    for block in result:
        block.setdefault("block_id", short_id())
        for element in block_elements(block):
            if element.get("type") in INTERACTIVE_TYPES:
                element.setdefault("action_id", short_id())
    return result


class Messages:
    """What is said in the conversations; the state is ``Workspace``'s, under its lock."""

    lock: threading.RLock
    clock: TsClock
    team_id: str
    bot_user_id: str
    bot_id: str
    app_id: str
    bot_name: str
    created: int
    ephemerals: list[dict[str, Any]]

    def bot_profile(self) -> dict[str, Any]:
        image = "https://avatars.slack-twin.invalid/bot"
        return {
            "id": self.bot_id,
            "deleted": False,
            "name": self.bot_name,
            "updated": self.created,
            "app_id": self.app_id,
            "icons": {
                "image_36": f"{image}_36.png",
                "image_48": f"{image}_48.png",
                "image_72": f"{image}_72.png",
            },
            "team_id": self.team_id,
        }

    def find_message(self, channel: Channel, ts: str | None) -> dict[str, Any] | None:
        if not ts:
            return None
        for message in channel.messages:
            if message["ts"] == ts:
                return message
        return None

    def top_level(self, channel: Channel) -> list[dict[str, Any]]:
        """Messages shown in the channel itself (thread replies only when broadcast)."""
        return [
            m
            for m in channel.messages
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]

    def thread(self, channel: Channel, ts: str) -> list[dict[str, Any]]:
        """A thread's parent then its replies, oldest first."""
        parent = self.find_message(channel, ts)
        if parent is None:
            return []
        root = parent.get("thread_ts") or parent["ts"]
        root_message = self.find_message(channel, root)
        replies = [m for m in channel.messages if m.get("thread_ts") == root and m["ts"] != root]
        return ([root_message] if root_message else []) + replies

    def _thread_root(self, channel: Channel, thread_ts: str | None) -> dict[str, Any] | None:
        if not thread_ts:
            return None
        parent = self.find_message(channel, thread_ts)
        if parent is None:
            return None
        root_ts = parent.get("thread_ts") or parent["ts"]
        return self.find_message(channel, root_ts)

    def _insert(self, channel: Channel, message: dict[str, Any], thread_ts: str | None) -> None:
        root = self._thread_root(channel, thread_ts)
        if root is not None:
            message["thread_ts"] = root["ts"]
            message["parent_user_id"] = root.get("user", "")
            root["thread_ts"] = root["ts"]
            root["reply_count"] = root.get("reply_count", 0) + 1
            author = message.get("user", "")
            reply_users = root.setdefault("reply_users", [])
            if author and author not in reply_users:
                reply_users.append(author)
            root["reply_users_count"] = len(reply_users)
            root["latest_reply"] = message["ts"]
            root.setdefault("is_locked", False)
            root.setdefault("subscribed", False)
        elif thread_ts:
            # Slack keeps the given thread_ts even when no such parent exists.
            message["thread_ts"] = thread_ts
        channel.messages.append(message)

    def post_bot_message(
        self,
        channel: Channel,
        *,
        text: str = "",
        blocks: list[Any] | None = None,
        attachments: list[Any] | None = None,
        metadata: dict[str, Any] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            message: dict[str, Any] = {
                "user": self.bot_user_id,
                "type": "message",
                "ts": self.clock.next(),
                "bot_id": self.bot_id,
                "app_id": self.app_id,
                "text": text,
                "team": self.team_id,
                "bot_profile": self.bot_profile(),
            }
            if blocks is not None:
                message["blocks"] = normalize_blocks(blocks)
            if attachments:
                message["attachments"] = copy.deepcopy(attachments)
            if metadata is not None:
                message["metadata"] = copy.deepcopy(metadata)
            if extra:
                message.update(extra)
            if reply_broadcast and thread_ts:
                message["subtype"] = "thread_broadcast"
            self._insert(channel, message, thread_ts)
            return message

    def post_user_message(
        self, user_id: str, channel: Channel, text: str, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message typed by a person (the driver's side), rich_text blocks as Slack adds."""
        with self.lock:
            message: dict[str, Any] = {
                "client_msg_id": secrets.token_hex(16),
                "type": "message",
                "text": text,
                "user": user_id,
                "ts": self.clock.next(),
                "team": self.team_id,
                "blocks": [
                    {
                        "type": "rich_text",
                        "block_id": short_id(),
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "text", "text": text}],
                            }
                        ],
                    }
                ],
            }
            self._insert(channel, message, thread_ts)
            return message

    def delete_message(self, channel: Channel, ts: str) -> None:
        with self.lock:
            message = self.find_message(channel, ts)
            if message is None:
                raise ApiError("message_not_found")
            if message.get("reply_count") and message.get("thread_ts") == message["ts"]:
                # Slack keeps a tombstone so the thread survives.
                keep = {k: message[k] for k in ("ts", "thread_ts", "reply_count", "reply_users")}
                keep.update(
                    {
                        "type": "message",
                        "subtype": "tombstone",
                        "text": "This message was deleted.",
                        "user": "USLACKBOT",
                        "hidden": True,
                    }
                )
                message.clear()
                message.update(keep)
                return
            channel.messages.remove(message)
            root = self._thread_root(channel, message.get("thread_ts"))
            if root is not None and root is not message:
                root["reply_count"] = max(0, root.get("reply_count", 1) - 1)
                replies = [
                    m
                    for m in channel.messages
                    if m.get("thread_ts") == root["ts"] and m["ts"] != root["ts"]
                ]
                root["latest_reply"] = replies[-1]["ts"] if replies else root["ts"]

    def add_reaction(self, channel: Channel, ts: str, name: str, user_id: str) -> dict[str, Any]:
        with self.lock:
            message = self.find_message(channel, ts)
            if message is None:
                raise ApiError("message_not_found")
            reactions = message.setdefault("reactions", [])
            for reaction in reactions:
                if reaction["name"] == name:
                    if user_id in reaction["users"]:
                        raise ApiError("already_reacted")
                    reaction["users"].append(user_id)
                    reaction["count"] = len(reaction["users"])
                    return message
            reactions.append({"name": name, "users": [user_id], "count": 1})
            return message

    def remove_reaction(self, channel: Channel, ts: str, name: str, user_id: str) -> None:
        with self.lock:
            message = self.find_message(channel, ts)
            if message is None:
                raise ApiError("message_not_found")
            for reaction in message.get("reactions", []):
                if reaction["name"] == name and user_id in reaction["users"]:
                    reaction["users"].remove(user_id)
                    reaction["count"] = len(reaction["users"])
                    if not reaction["users"]:
                        message["reactions"].remove(reaction)
                    if not message["reactions"]:
                        del message["reactions"]
                    return
            raise ApiError("no_reaction")

    def add_ephemeral(
        self,
        recipient: str,
        channel: Channel,
        *,
        text: str = "",
        blocks: list[Any] | None = None,
        attachments: list[Any] | None = None,
        thread_ts: str | None = None,
        via: str = "chat.postEphemeral",
    ) -> dict[str, Any]:
        with self.lock:
            record: dict[str, Any] = {
                "type": "message",
                "subtype": "ephemeral",
                "ts": self.clock.next(),
                "channel": channel.id,
                "recipient": recipient,
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "text": text,
                "via": via,
            }
            if blocks is not None:
                record["blocks"] = normalize_blocks(blocks)
            if attachments:
                record["attachments"] = copy.deepcopy(attachments)
            if thread_ts:
                record["thread_ts"] = thread_ts
            self.ephemerals.append(record)
            return record

    def find_ephemeral(self, ts: str) -> dict[str, Any] | None:
        return next((e for e in self.ephemerals if e["ts"] == ts), None)
