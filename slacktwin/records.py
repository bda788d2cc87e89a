"""The twin's records: Slack-looking ids and timestamps, and the plain data of users,
conversations, triggers, response URLs and files, each with its Web API shape."""

from __future__ import annotations

import mimetypes
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from slacktwin.state import Workspace

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
