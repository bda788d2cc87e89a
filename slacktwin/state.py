"""The twin's workspace: users, conversations, messages, views, files, triggers.

Everything here is plain data guarded by one re-entrant lock (``Workspace.lock``): the
server thread, the driver and the test thread all touch it. Methods that return stored
dicts return the live objects; callers outside the lock must copy (``SlackTwin`` does).
Shapes follow Slack's payloads in ``shared/slack-samples``.
"""

from __future__ import annotations

import copy
import mimetypes
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slacktwin.errors import ApiError
from slacktwin.validation import INTERACTIVE_TYPES, block_elements

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
MODAL_STACK_LIMIT = 3
MAX_TEXT_LENGTH = 40_000

_ALNUM = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + string.digits


def random_id(prefix: str, length: int = 10) -> str:
    """Slack-looking ids: ``V0A1B2C3D4E``-style, upper-case alphanumerics."""
    return prefix + "".join(secrets.choice(_UPPER) for _ in range(length))


def short_id(length: int = 5) -> str:
    """Slack fills missing block_id/action_id with short random strings like ``aB3x9``."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


class TsClock:
    """Message timestamps: real time in microseconds, strictly increasing. ``now`` (Unix
    seconds) can be swapped for a movable clock: the sandbox's messages are dated by the
    time it shows."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            now = int(self.now() * 1_000_000)
            self._last = max(now, self._last + 1)
            return f"{self._last // 1_000_000}.{self._last % 1_000_000:06d}"


def ts_key(ts: str) -> tuple[int, int]:
    """Sort/compare Slack ts strings exactly (floats lose the microseconds)."""
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int((micros or "0").ljust(6, "0")[:6])


def _tz_details(tz: str) -> tuple[str, int]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return tz, 0
    offset = now.utcoffset()
    return now.tzname() or tz, int(offset.total_seconds()) if offset else 0


@dataclass
class User:
    """A workspace member; ``to_api`` gives the users.info shape."""

    id: str
    name: str
    real_name: str = ""
    tz: str = "Europe/London"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    title: str = ""
    email: str | None = None
    display_name: str = ""
    deleted: bool = False
    is_primary_owner: bool = False
    is_restricted: bool = False
    is_app_user: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    updated: int = field(default_factory=lambda: int(time.time()))

    def to_api(self, team_id: str) -> dict[str, Any]:
        tz_label, tz_offset = _tz_details(self.tz)
        real_name = self.real_name or self.name
        first, _, last = real_name.partition(" ")
        image = f"https://avatars.slack-twin.invalid/{self.id}"
        profile: dict[str, Any] = {
            "title": self.title,
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "fields": {},
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": self.id.lower(),
            "first_name": first,
            "last_name": last,
            "image_24": f"{image}_24.png",
            "image_32": f"{image}_32.png",
            "image_48": f"{image}_48.png",
            "image_72": f"{image}_72.png",
            "image_192": f"{image}_192.png",
            "image_512": f"{image}_512.png",
            "team": team_id,
        }
        if self.email:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = self.app_id or ""
            profile["always_active"] = True
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": self.is_app_user,
            "updated": self.updated,
            "is_email_confirmed": bool(self.email),
            "who_can_share_contact_card": "EVERYONE",
        }


@dataclass
class Channel:
    """A conversation: public/private channel, the app's DM (``is_im``) with one user, or a
    group DM (``is_mpim``) of the app with several users."""

    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    user: str | None = None
    members: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))
    creator: str = ""
    is_archived: bool = False
    is_general: bool = False
    topic: str = ""
    purpose: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def channel_type(self) -> str:
        """The ``channel_type`` of message events: channel, group or im."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        return "group" if self.is_private else "channel"

    def to_api(self, ws: Workspace, *, include_num_members: bool = False) -> dict[str, Any]:
        last_read = self.messages[-1]["ts"] if self.messages else "0000000000.000000"
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": ws.team_id,
                "updated": self.created * 1000,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
                "is_open": True,
                "last_read": last_read,
            }
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": ws.team_id,
            "updated": self.created * 1000,
            "parent_conversation": None,
            "creator": self.creator,
            "shared_team_ids": [ws.team_id],
            "is_member": ws.bot_user_id in self.members,
            "last_read": last_read,
            "topic": {"value": self.topic, "creator": self.creator, "last_set": self.created},
            "purpose": {"value": self.purpose, "creator": self.creator, "last_set": self.created},
            "previous_names": [],
        }
        if include_num_members:
            data["num_members"] = len(self.members)
        return data


@dataclass
class Trigger:
    """A trigger_id the driver handed to the app; exchangeable once, for a few seconds."""

    id: str
    user: str
    context: str
    issued: float
    used: bool = False


@dataclass
class ResponseUrl:
    """What a response_url points back to: the user, the channel and the source message."""

    token: str
    user: str
    channel: str
    source_kind: str | None = None  # "message" | "ephemeral" | None (commands, shortcuts)
    source_ts: str | None = None
    thread_ts: str | None = None
    issued: float = field(default_factory=time.monotonic)
    uses: int = 0
    last_posted: tuple[str, str] | None = None


@dataclass
class FileRecord:
    """An uploaded file (files.getUploadURLExternal + upload + completeUploadExternal)."""

    id: str
    name: str
    length: int
    user: str
    upload_token: str
    title: str = ""
    alt_txt: str = ""
    snippet_type: str = ""
    content: bytes | None = None
    completed: bool = False
    created: int = field(default_factory=lambda: int(time.time()))
    shares: dict[str, list[str]] = field(default_factory=dict)

    def to_api(self, ws: Workspace) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        ext = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary"
        url = f"{ws.base_url}files/{self.id}/{self.name}"
        permalink = f"https://{ws.team_domain}.slack.com/files/{self.user}/{self.id}/{self.name}"
        public: dict[str, list[dict[str, Any]]] = {}
        private: dict[str, list[dict[str, Any]]] = {}
        channels: list[str] = []
        groups: list[str] = []
        ims: list[str] = []
        for channel_id, ts_list in self.shares.items():
            channel = ws.channels.get(channel_id)
            if channel is None:
                continue
            share = [
                {
                    "reply_users": [],
                    "reply_users_count": 0,
                    "reply_count": 0,
                    "ts": ts,
                    "channel_name": channel.name,
                    "team_id": ws.team_id,
                    "share_user_id": self.user,
                    "source": "UNKNOWN",
                }
                for ts in ts_list
            ]
            if channel.is_im:
                ims.append(channel_id)
                private[channel_id] = share
            elif channel.is_private:
                groups.append(channel_id)
                private[channel_id] = share
            else:
                channels.append(channel_id)
                public[channel_id] = share
        shares: dict[str, Any] = {}
        if public:
            shares["public"] = public
        if private:
            shares["private"] = private
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": mimetype,
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": self.user,
            "user_team": ws.team_id,
            "editable": False,
            "size": len(self.content) if self.content is not None else self.length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url,
            "url_private_download": url,
            "permalink": permalink,
            "permalink_public": f"https://slack-files.com/{ws.team_id}-{self.id}",
            "comments_count": 0,
            "is_starred": False,
            "shares": shares,
            "channels": channels,
            "groups": groups,
            "ims": ims,
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
            "alt_txt": self.alt_txt,
        }


def normalize_blocks(blocks: list[Any]) -> list[dict[str, Any]]:
    """Copy blocks and fill in the block_id/action_id Slack generates when they are missing."""
    result: list[dict[str, Any]] = copy.deepcopy(blocks)
    for block in result:
        block.setdefault("block_id", short_id())
        for element in block_elements(block):
            if element.get("type") in INTERACTIVE_TYPES:
                element.setdefault("action_id", short_id())
    return result


def input_action_ids(blocks: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(block_id, action_id) pairs of the input elements of a view."""
    pairs: set[tuple[str, str]] = set()
    for block in blocks:
        element = block.get("element")
        if block.get("type") == "input" and isinstance(element, dict):
            pairs.add((block.get("block_id", ""), element.get("action_id", "")))
    return pairs


class Workspace:
    """All state of one Slack workspace as the twin's app sees it."""

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

    # ------------------------------------------------------------------ messages

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

    # ------------------------------------------------------------------ views

    def _new_view(
        self,
        payload: dict[str, Any],
        *,
        view_id: str,
        user_id: str,
        root_view_id: str | None,
        previous_view_id: str | None,
        old: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        blocks = normalize_blocks(payload.get("blocks") or [])
        values: dict[str, dict[str, Any]] = {}
        if old is not None:
            keep = input_action_ids(blocks)
            for block_id, actions in old.get("state", {}).get("values", {}).items():
                kept = {a: v for a, v in actions.items() if (block_id, a) in keep}
                if kept:
                    values[block_id] = kept
        view = {
            "id": view_id,
            "team_id": self.team_id,
            "type": payload["type"],
            "blocks": blocks,
            "private_metadata": payload.get("private_metadata") or "",
            "callback_id": payload.get("callback_id") or "",
            "state": {"values": values},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": copy.deepcopy(payload.get("title")),
            "clear_on_close": bool(payload.get("clear_on_close", False)),
            "notify_on_close": bool(payload.get("notify_on_close", False)),
            "close": copy.deepcopy(payload.get("close")),
            "submit": copy.deepcopy(payload.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": self.app_id,
            "external_id": payload.get("external_id") or "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if "submit_disabled" in payload:
            view["submit_disabled"] = bool(payload["submit_disabled"])
        self.views[view_id] = view
        self.view_users[view_id] = user_id
        return view

    def _check_external_id(self, payload: dict[str, Any], own_view_id: str | None) -> None:
        external_id = payload.get("external_id")
        if not external_id:
            return
        for view_id, view in self.views.items():
            same = view.get("external_id") == external_id and view_id != own_view_id
            if same and self.is_open(view_id):
                raise ApiError("duplicate_external_id")

    def is_open(self, view_id: str) -> bool:
        return view_id in self.home_views.values() or any(
            view_id in stack for stack in self.modal_stacks.values()
        )

    def open_modal(self, user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """views.open: a new root view; an open stack for that user is replaced."""
        with self.lock:
            self._check_external_id(payload, None)
            view_id = random_id("V")
            view = self._new_view(
                payload, view_id=view_id, user_id=user_id, root_view_id=None, previous_view_id=None
            )
            self.modal_stacks[user_id] = [view_id]
            return view

    def push_modal(self, user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            if not stack:
                raise ApiError(
                    "invalid_arguments",
                    messages=["[ERROR] views.push needs a modal open for this user (twin)"],
                )
            if len(stack) >= MODAL_STACK_LIMIT:
                raise ApiError("push_limit_reached")
            self._check_external_id(payload, None)
            view_id = random_id("V")
            view = self._new_view(
                payload,
                view_id=view_id,
                user_id=user_id,
                root_view_id=stack[0],
                previous_view_id=stack[-1],
            )
            stack.append(view_id)
            return view

    def find_view(self, view_id: str | None, external_id: str | None) -> dict[str, Any]:
        with self.lock:
            if view_id:
                view = self.views.get(view_id)
            else:
                view = next(
                    (
                        v
                        for v in reversed(list(self.views.values()))
                        if external_id and v.get("external_id") == external_id
                    ),
                    None,
                )
            if view is None or not self.is_open(view["id"]):
                raise ApiError("not_found")
            return view

    def update_view(
        self, view: dict[str, Any], payload: dict[str, Any], expected_hash: str | None
    ) -> dict[str, Any]:
        """Replace a view's content in place (views.update, response_action update)."""
        with self.lock:
            if expected_hash and expected_hash != view["hash"]:
                raise ApiError("hash_conflict")
            if payload.get("type") != view["type"]:
                raise ApiError(
                    "invalid_arguments",
                    messages=[f"[ERROR] cannot change a {view['type']} view into another type"],
                )
            self._check_external_id(payload, view["id"])
            return self._new_view(
                payload,
                view_id=view["id"],
                user_id=self.view_users[view["id"]],
                root_view_id=view["root_view_id"],
                previous_view_id=view["previous_view_id"],
                old=view,
            )

    def publish_home(
        self, user_id: str, payload: dict[str, Any], expected_hash: str | None
    ) -> dict[str, Any]:
        with self.lock:
            old_id = self.home_views.get(user_id)
            old = self.views.get(old_id) if old_id else None
            if expected_hash and old is not None and expected_hash != old["hash"]:
                raise ApiError("hash_conflict")
            self._check_external_id(payload, old_id)
            view_id = old_id or random_id("V")
            view = self._new_view(
                payload,
                view_id=view_id,
                user_id=user_id,
                root_view_id=None,
                previous_view_id=None,
                old=old,
            )
            self.home_views[user_id] = view_id
            return view

    def modal_stack(self, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self.views[v] for v in self.modal_stacks.get(user_id, [])]

    def top_modal(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            return self.views[stack[-1]] if stack else None

    def pop_modal(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            return self.views.get(stack.pop()) if stack else None

    def clear_modals(self, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            stack = self.modal_stacks.pop(user_id, [])
            return [self.views[v] for v in stack]

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
