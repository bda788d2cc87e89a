"""Web API methods the twin implements, with Slack's arguments, errors and answer shapes.

Each handler takes the workspace and the request's ``Args`` and returns the JSON answer
(without ``"ok": true``, which the dispatcher adds) or raises ``ApiError``. Handlers run
under the workspace lock. ``apply_response`` is shared by response_url posts and by
slash command answers (the HTTP body an app returns to a command).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from slacktwin.errors import ApiError
from slacktwin.state import (
    MAX_TEXT_LENGTH,
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    Channel,
    ResponseUrl,
    Workspace,
    normalize_blocks,
    ts_key,
)
from slacktwin.validation import MESSAGE_BLOCK_LIMIT, validate_blocks, validate_view

# Arguments that arrive as JSON strings in form bodies.
JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata", "files", "unfurls"})

Handler = Callable[[Workspace, "Args"], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


class Args:
    """Typed access to request arguments, whatever the body encoding was."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = dict(data)

    def has(self, name: str) -> bool:
        return self.data.get(name) not in (None, "")

    def text(self, name: str, *, required: bool = False, error: str | None = None) -> str | None:
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                if error:
                    raise ApiError(error)
                raise ApiError(
                    "invalid_arguments", messages=[f"[ERROR] missing required field: {name}"]
                )
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)

    def integer(self, name: str, default: int) -> int:
        value = self.data.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(
                "invalid_arguments", messages=[f"[ERROR] {name} must be an integer"]
            ) from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"1", "true", "yes"}

    def json(self, name: str) -> Any:
        return self.data.get(name)

    def id_list(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value in (None, ""):
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part.strip() for part in str(value).split(",") if part.strip()]


# ---------------------------------------------------------------------- helpers


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"next:{offset}".encode()).decode()


def paginate(
    items: list[Any], a: Args, *, default_limit: int, max_limit: int = 1000
) -> tuple[list[Any], str]:
    """Slack cursor pagination: ``limit`` and an opaque ``cursor``; next_cursor "" at the end."""
    offset = 0
    cursor = a.text("cursor")
    if cursor:
        try:
            prefix, _, number = base64.b64decode(cursor).decode().partition(":")
            offset = int(number)
            if prefix != "next" or offset < 0:
                raise ValueError(cursor)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ApiError("invalid_cursor") from None
    limit = a.integer("limit", default_limit)
    if limit <= 0:
        limit = default_limit
    limit = min(limit, max_limit)
    page = items[offset : offset + limit]
    end = offset + len(page)
    return page, _encode_cursor(end) if end < len(items) else ""


def _blocks_arg(a: Args) -> list[Any] | None:
    """Decode and validate ``blocks``; Slack's errors for bad JSON and bad Block Kit."""
    if "blocks" not in a.data or a.data["blocks"] is None:
        return None
    blocks = a.data["blocks"]
    if isinstance(blocks, str | bytes):
        raise ApiError("invalid_blocks_format", messages=["[ERROR] blocks must be a JSON array"])
    errors = validate_blocks(blocks, limit=MESSAGE_BLOCK_LIMIT)
    if errors:
        raise ApiError("invalid_blocks", messages=errors)
    return blocks


def _attachments_arg(a: Args) -> list[Any] | None:
    attachments = a.data.get("attachments")
    if attachments in (None, ""):
        return None
    if not isinstance(attachments, list):
        raise ApiError("invalid_attachments")
    for index, attachment in enumerate(attachments):
        if not isinstance(attachment, dict):
            raise ApiError("invalid_attachments")
        if attachment.get("blocks") is not None:
            errors = validate_blocks(attachment["blocks"], pointer=f"/attachments/{index}/blocks")
            if errors:
                raise ApiError("invalid_blocks", messages=errors)
    return attachments


def _metadata_arg(a: Args) -> dict[str, Any] | None:
    metadata = a.data.get("metadata")
    if metadata in (None, ""):
        return None
    if not isinstance(metadata, dict):
        raise ApiError("invalid_metadata_format")
    if not isinstance(metadata.get("event_type"), str) or not metadata["event_type"]:
        raise ApiError(
            "invalid_metadata_schema", messages=["[ERROR] missing required field: event_type"]
        )
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict):
        raise ApiError(
            "invalid_metadata_schema",
            messages=["[ERROR] event_payload must be an object"],
        )
    return {"event_type": metadata["event_type"], "event_payload": payload}


TRUNCATED_WARNING = {
    "messages": [
        "[WARN] Your message was truncated but still posted. "
        "The `text` field accepts up to 40,000 characters."
    ],
    "warnings": ["message_truncated"],
}


def _message_content(a: Args) -> tuple[str, list[Any] | None, list[Any] | None, bool]:
    """Text, blocks and attachments of a new message, and whether the text was cut.

    Slack posts an over-long message cut, rather than refusing it: chat.postMessage's
    ``text`` argument reads "Slack will truncate messages containing more than 40,000
    characters" (docs.slack.dev/reference/methods/chat.postMessage), and the changelog
    "Truncating really long messages" (2018-04) adds the ``message_truncated`` warning for
    chat.postMessage, chat.postEphemeral and response URLs. chat.update still answers
    ``msg_too_long``.
    """
    text = a.text("text") or ""
    blocks = _blocks_arg(a)
    attachments = _attachments_arg(a)
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    truncated = len(text) > MAX_TEXT_LENGTH
    return text[:MAX_TEXT_LENGTH], blocks, attachments, truncated


def _public_message(message: dict[str, Any], *, include_metadata: bool = True) -> dict[str, Any]:
    data = copy.deepcopy(message)
    if not include_metadata:
        data.pop("metadata", None)
    return data


def _permalink(ws: Workspace, channel: Channel, message: dict[str, Any]) -> str:
    compact_ts = message["ts"].replace(".", "")
    link = f"https://{ws.team_domain}.slack.com/archives/{channel.id}/p{compact_ts}"
    thread_ts = message.get("thread_ts")
    if thread_ts and thread_ts != message["ts"]:
        link += f"?thread_ts={thread_ts}&cid={channel.id}"
    return link


def _bot_message(ws: Workspace, channel: Channel, ts: str) -> dict[str, Any]:
    message = ws.find_message(channel, ts)
    if message is None:
        raise ApiError("message_not_found")
    return message


# ---------------------------------------------------------------------- auth, team, users


@method("auth.test")
def auth_test(ws: Workspace, a: Args) -> dict[str, Any]:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@method("apps.connections.open")
def apps_connections_open(ws: Workspace, a: Args) -> dict[str, Any]:
    """Socket Mode's websocket URL; the dispatcher has already required an app-level token."""
    return {"url": ws.issue_socket_url()}


@method("team.info")
def team_info(ws: Workspace, a: Args) -> dict[str, Any]:
    team = a.text("team")
    if team and team != ws.team_id:
        raise ApiError("team_not_found")
    icon = "https://avatars.slack-twin.invalid/team"
    return {
        "team": {
            "id": ws.team_id,
            "name": ws.team_name,
            "domain": ws.team_domain,
            "email_domain": "",
            "icon": {
                "image_34": f"{icon}_34.png",
                "image_44": f"{icon}_44.png",
                "image_68": f"{icon}_68.png",
                "image_88": f"{icon}_88.png",
                "image_102": f"{icon}_102.png",
                "image_132": f"{icon}_132.png",
                "image_230": f"{icon}_230.png",
                "image_default": True,
            },
            "is_verified": False,
            "url": f"https://{ws.team_domain}.slack.com/",
            "avatar_base_url": "https://avatars.slack-twin.invalid/",
            "lob_sales_home_enabled": False,
            "locale": "en-GB",
        }
    }


@method("bots.info")
def bots_info(ws: Workspace, a: Args) -> dict[str, Any]:
    bot = a.text("bot") or ws.bot_id
    if bot != ws.bot_id:
        raise ApiError("bot_not_found")
    profile = ws.bot_profile()
    return {
        "bot": {
            "id": ws.bot_id,
            "deleted": False,
            "name": ws.bot_name,
            "updated": ws.created,
            "app_id": ws.app_id,
            "user_id": ws.bot_user_id,
            "icons": profile["icons"],
        }
    }


@method("users.info")
def users_info(ws: Workspace, a: Args) -> dict[str, Any]:
    user = ws.user(a.text("user", required=True, error="user_not_found"))
    data = user.to_api(ws.team_id)
    if a.flag("include_locale"):
        data["locale"] = "en-GB"
    return {"user": data}


@method("users.list")
def users_list(ws: Workspace, a: Args) -> dict[str, Any]:
    members = [u.to_api(ws.team_id) for u in ws.users.values()]
    page, cursor = paginate(members, a, default_limit=1000)
    return {
        "members": page,
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": cursor},
    }


@method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, a: Args) -> dict[str, Any]:
    email = (a.text("email", required=True, error="users_not_found") or "").lower()
    for user in ws.users.values():
        if user.email and user.email.lower() == email:
            return {"user": user.to_api(ws.team_id)}
    raise ApiError("users_not_found")


_TYPES = {"public_channel", "private_channel", "mpim", "im"}


def _channel_kind(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    if channel.is_mpim:
        return "mpim"
    return "private_channel" if channel.is_private else "public_channel"


def _types_arg(a: Args) -> set[str]:
    types = set(a.id_list("types")) or {"public_channel"}
    if not types <= _TYPES:
        raise ApiError("invalid_types")
    return types


@method("users.conversations")
def users_conversations(ws: Workspace, a: Args) -> dict[str, Any]:
    user_id = a.text("user") or ws.bot_user_id
    ws.user(user_id)
    types = _types_arg(a)
    exclude_archived = a.flag("exclude_archived")
    channels = [
        c.to_api(ws)
        for c in ws.channels.values()
        if user_id in c.members
        and _channel_kind(c) in types
        and not (exclude_archived and c.is_archived)
    ]
    page, cursor = paginate(channels, a, default_limit=100)
    return {"channels": page, "response_metadata": {"next_cursor": cursor}}


# ---------------------------------------------------------------------- conversations


@method("conversations.list")
def conversations_list(ws: Workspace, a: Args) -> dict[str, Any]:
    types = _types_arg(a)
    exclude_archived = a.flag("exclude_archived")
    channels = [
        c.to_api(ws)
        for c in ws.channels.values()
        if _channel_kind(c) in types
        and not (exclude_archived and c.is_archived)
        and (not c.is_private or ws.bot_user_id in c.members)
    ]
    page, cursor = paginate(channels, a, default_limit=100)
    return {"channels": page, "response_metadata": {"next_cursor": cursor}}


@method("conversations.info")
def conversations_info(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    if channel.is_private and ws.bot_user_id not in channel.members:
        raise ApiError("channel_not_found")
    return {"channel": channel.to_api(ws, include_num_members=a.flag("include_num_members"))}


@method("conversations.members")
def conversations_members(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    if channel.is_private and ws.bot_user_id not in channel.members:
        raise ApiError("channel_not_found")
    page, cursor = paginate(list(channel.members), a, default_limit=100)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


@method("conversations.join")
def conversations_join(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    if channel.is_im or channel.is_private:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise ApiError("is_archived")
    answer: dict[str, Any] = {}
    if ws.bot_user_id in channel.members:
        answer["warning"] = "already_in_channel"
        answer["response_metadata"] = {"warnings": ["already_in_channel"]}
    else:
        channel.members.append(ws.bot_user_id)
    return {"channel": channel.to_api(ws), **answer}


@method("conversations.open")
def conversations_open(ws: Workspace, a: Args) -> dict[str, Any]:
    if a.has("channel"):
        channel = ws.conversation(a.text("channel"))
        return {"channel": channel.to_api(ws) if a.flag("return_im") else {"id": channel.id}}
    users = a.id_list("users")
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        if len(users) > 8:
            raise ApiError("too_many_users")
        if ws.bot_user_id in users:
            raise ApiError("cannot_dm_bot")
        channel, existed = ws.group_dm(users)
        answer = {"channel": channel.to_api(ws) if a.flag("return_im") else {"id": channel.id}}
        if existed:
            answer["no_op"] = True
            answer["already_open"] = True
        return answer
    if users[0] == ws.bot_user_id:
        raise ApiError("cannot_dm_bot")
    user = ws.user(users[0])
    if user.deleted:
        raise ApiError("user_disabled")
    existed = any(c.is_im and c.user == user.id for c in ws.channels.values())
    channel = ws.dm(user.id)
    answer: dict[str, Any] = {
        "channel": channel.to_api(ws) if a.flag("return_im") else {"id": channel.id}
    }
    if existed:
        answer["no_op"] = True
        answer["already_open"] = True
    return answer


def _in_range(ts: str, oldest: str | None, latest: str | None, inclusive: bool) -> bool:
    key = ts_key(ts)
    if oldest:
        low = ts_key(oldest)
        if key < low or (key == low and not inclusive):
            return False
    if latest:
        high = ts_key(latest)
        if key > high or (key == high and not inclusive):
            return False
    return True


@method("conversations.history")
def conversations_history(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.readable(
        ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    )
    oldest, latest, inclusive = a.text("oldest"), a.text("latest"), a.flag("inclusive")
    with_metadata = a.flag("include_all_metadata")
    messages = [
        _public_message(m, include_metadata=with_metadata)
        for m in reversed(ws.top_level(channel))
        if _in_range(m["ts"], oldest, latest, inclusive)
    ]
    if ws.non_marketplace_limits:
        page, cursor = paginate(messages, a, default_limit=15, max_limit=15)
    else:
        page, cursor = paginate(messages, a, default_limit=100, max_limit=999)
    return {
        "messages": page,
        "has_more": bool(cursor),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


@method("conversations.replies")
def conversations_replies(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.readable(
        ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    )
    ts = a.text("ts", required=True, error="thread_not_found") or ""
    thread = ws.thread(channel, ts)
    if not thread:
        raise ApiError("thread_not_found")
    oldest, latest, inclusive = a.text("oldest"), a.text("latest"), a.flag("inclusive")
    with_metadata = a.flag("include_all_metadata")
    root, replies = thread[0], thread[1:]
    messages = [_public_message(root, include_metadata=with_metadata)] + [
        _public_message(m, include_metadata=with_metadata)
        for m in replies
        if _in_range(m["ts"], oldest, latest, inclusive)
    ]
    if ws.non_marketplace_limits:
        page, cursor = paginate(messages, a, default_limit=15, max_limit=15)
    else:
        page, cursor = paginate(messages, a, default_limit=1000)
    return {
        "messages": page,
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


# ---------------------------------------------------------------------- chat


@method("chat.postMessage")
def chat_post_message(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.conversation(
        a.text("channel", required=True, error="channel_not_found"), allow_user=True
    )
    ws.writable(channel)
    text, blocks, attachments, truncated = _message_content(a)
    metadata = _metadata_arg(a)
    extra = {k: a.data[k] for k in ("username", "icon_emoji", "icon_url") if a.has(k)}
    message = ws.post_bot_message(
        channel,
        text=text,
        blocks=blocks,
        attachments=attachments,
        metadata=metadata,
        thread_ts=a.text("thread_ts"),
        reply_broadcast=a.flag("reply_broadcast"),
        extra=extra,
    )
    answer = {"channel": channel.id, "ts": message["ts"], "message": _public_message(message)}
    if truncated:
        answer["response_metadata"] = copy.deepcopy(TRUNCATED_WARNING)
    return answer


@method("chat.update")
def chat_update(ws: Workspace, a: Args) -> dict[str, Any]:
    # A DM is named by its D id here, never a user id (chat.update's "channel" argument).
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    message = _bot_message(
        ws, channel, a.text("ts", required=True, error="message_not_found") or ""
    )
    if message.get("bot_id") != ws.bot_id:
        raise ApiError("cant_update_message")
    blocks = _blocks_arg(a)
    attachments = _attachments_arg(a)
    text = a.text("text")
    if text is None and blocks is None and attachments is None:
        raise ApiError("no_text")
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        raise ApiError("msg_too_long")
    metadata = _metadata_arg(a)
    if text is not None:
        message["text"] = text
    if blocks is not None:
        message["blocks"] = normalize_blocks(blocks)
    elif text is not None:
        # chat.update's "blocks" argument: previous blocks are kept only when no text is
        # given; with text and no blocks, the blocks are removed and the text is shown.
        message.pop("blocks", None)
    if attachments is not None:
        message["attachments"] = copy.deepcopy(attachments)
    if metadata is not None:
        message["metadata"] = metadata
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.clock.next()}
    public = _public_message(message)
    return {"channel": channel.id, "ts": message["ts"], "text": message["text"], "message": public}


@method("chat.delete")
def chat_delete(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    ts = a.text("ts", required=True, error="message_not_found") or ""
    message = _bot_message(ws, channel, ts)
    if message.get("bot_id") != ws.bot_id:
        raise ApiError("cant_delete_message")
    ws.delete_message(channel, ts)
    return {"channel": channel.id, "ts": ts}


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, a: Args) -> dict[str, Any]:
    # "Channel, private group, or IM channel": a conversation id, not a user id.
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    user = ws.user(a.text("user", required=True, error="user_not_found"))
    ws.writable(channel)
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks, attachments, truncated = _message_content(a)
    record = ws.add_ephemeral(
        user.id,
        channel,
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=a.text("thread_ts"),
    )
    answer: dict[str, Any] = {"message_ts": record["ts"]}
    if truncated:
        answer["response_metadata"] = copy.deepcopy(TRUNCATED_WARNING)
    return answer


@method("chat.getPermalink")
def chat_get_permalink(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    message = ws.find_message(
        channel, a.text("message_ts", required=True, error="message_not_found")
    )
    if message is None:
        raise ApiError("message_not_found")
    return {"channel": channel.id, "permalink": _permalink(ws, channel, message)}


# ---------------------------------------------------------------------- reactions


def _reaction_target(ws: Workspace, a: Args) -> tuple[Channel, str, str]:
    if not a.has("channel") or not a.has("timestamp"):
        raise ApiError("no_item_specified")
    name = (a.text("name") or "").strip(":")
    if not name or " " in name:
        raise ApiError("invalid_name")
    channel = ws.conversation(a.text("channel"))
    ws.readable(channel)
    return channel, a.text("timestamp") or "", name


@method("reactions.add")
def reactions_add(ws: Workspace, a: Args) -> dict[str, Any]:
    channel, ts, name = _reaction_target(ws, a)
    ws.add_reaction(channel, ts, name, ws.bot_user_id)
    return {}


@method("reactions.remove")
def reactions_remove(ws: Workspace, a: Args) -> dict[str, Any]:
    channel, ts, name = _reaction_target(ws, a)
    ws.remove_reaction(channel, ts, name, ws.bot_user_id)
    return {}


# ---------------------------------------------------------------------- views


def _view_arg(a: Args, allowed: set[str]) -> dict[str, Any]:
    view = a.data.get("view")
    if view in (None, ""):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    if isinstance(view, str | bytes):
        raise ApiError(
            "invalid_arguments", messages=["[ERROR] failed to parse view: not valid JSON"]
        )
    errors = validate_view(view, allowed_types=allowed)
    if errors:
        raise ApiError("invalid_arguments", messages=errors)
    return view


def _view_answer(view: dict[str, Any]) -> dict[str, Any]:
    return {"view": copy.deepcopy(view)}


@method("views.open")
def views_open(ws: Workspace, a: Args) -> dict[str, Any]:
    view = _view_arg(a, {"modal"})
    pointer = a.text("trigger_id") or a.text("interactivity_pointer")
    if not pointer:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
    trigger = ws.exchange_trigger(pointer)
    return _view_answer(ws.open_modal(trigger.user, view))


@method("views.push")
def views_push(ws: Workspace, a: Args) -> dict[str, Any]:
    view = _view_arg(a, {"modal"})
    pointer = a.text("trigger_id") or a.text("interactivity_pointer")
    if not pointer:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
    trigger = ws.exchange_trigger(pointer)
    return _view_answer(ws.push_modal(trigger.user, view))


@method("views.update")
def views_update(ws: Workspace, a: Args) -> dict[str, Any]:
    payload = _view_arg(a, {"modal", "home"})
    if not a.has("view_id") and not a.has("external_id"):
        raise ApiError(
            "invalid_arguments", messages=["[ERROR] either view_id or external_id is required"]
        )
    view = ws.find_view(a.text("view_id"), a.text("external_id"))
    return _view_answer(ws.update_view(view, payload, a.text("hash")))


@method("views.publish")
def views_publish(ws: Workspace, a: Args) -> dict[str, Any]:
    user = ws.user(a.text("user_id", required=True, error="user_not_found"))
    payload = _view_arg(a, {"home"})
    return _view_answer(ws.publish_home(user.id, payload, a.text("hash")))


# ---------------------------------------------------------------------- files


@method("files.getUploadURLExternal")
def files_get_upload_url_external(ws: Workspace, a: Args) -> dict[str, Any]:
    filename = a.text("filename", required=True) or ""
    if not a.has("length"):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: length"])
    length = a.integer("length", 0)
    if length <= 0:
        raise ApiError("invalid_arguments", messages=["[ERROR] length must be greater than 0"])
    record = ws.new_file(
        ws.bot_user_id,
        filename,
        length,
        alt_txt=a.text("alt_txt") or "",
        snippet_type=a.text("snippet_type") or "",
    )
    return {"upload_url": ws.upload_url(record), "file_id": record.id}


@method("files.completeUploadExternal")
def files_complete_upload_external(ws: Workspace, a: Args) -> dict[str, Any]:
    files = a.data.get("files")
    if files in (None, ""):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: files"])
    if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") for f in files):
        raise ApiError("invalid_arguments", messages=["[ERROR] files must be [{id, title}, ...]"])
    records = []
    for item in files:
        record = ws.files.get(str(item["id"]))
        if record is None or record.completed:
            raise ApiError("file_not_found")
        if record.content is None:
            raise ApiError(
                "file_not_found", messages=[f"[ERROR] nothing was uploaded for {record.id}"]
            )
        records.append((record, item))
    targets = [c for c in [a.text("channel_id"), *a.id_list("channels")] if c]
    channels = [ws.writable(ws.conversation(c)) for c in dict.fromkeys(targets)]
    for record, item in records:
        record.title = str(item.get("title") or record.name)
        record.completed = True
    thread_ts = a.text("thread_ts")
    for channel in channels:
        message = ws.post_bot_message(
            channel,
            text=a.text("initial_comment") or "",
            thread_ts=thread_ts,
            extra={
                "files": [record.to_api(ws) for record, _ in records],
                "upload": True,
                "display_as_bot": False,
            },
        )
        for record, _ in records:
            record.shares.setdefault(channel.id, []).append(message["ts"])
        message["files"] = [record.to_api(ws) for record, _ in records]
    return {"files": [record.to_api(ws) for record, _ in records]}


@method("files.info")
def files_info(ws: Workspace, a: Args) -> dict[str, Any]:
    record = ws.files.get(a.text("file", required=True, error="file_not_found") or "")
    if record is None or not record.completed:
        raise ApiError("file_not_found")
    content = record.content or b""
    answer: dict[str, Any] = {"file": record.to_api(ws), "comments": [], "response_metadata": {}}
    with contextlib.suppress(UnicodeDecodeError):
        answer["content"] = content.decode("utf-8")
    return answer


# ---------------------------------------------------------------------- response_url


def apply_response(ws: Workspace, ctx: ResponseUrl, body: dict[str, Any], *, via: str) -> None:
    """Apply a response_url body (or a command's answer body) as Slack shows it.

    ``delete_original`` / ``replace_original`` act on the message the interaction came
    from, or, for commands, on the last message posted through the same response_url.
    Otherwise ``response_type`` ``in_channel`` posts to the channel and ``ephemeral``
    (the default) shows only to the user.
    """
    with ws.lock:
        channel = ws.conversation(ctx.channel)
        target = (ctx.source_kind, ctx.source_ts) if ctx.source_kind else ctx.last_posted
        if _truthy(body.get("delete_original")):
            if target and target[0] == "message":
                ws.delete_message(channel, target[1] or "")
            elif target and target[0] == "ephemeral":
                record = ws.find_ephemeral(target[1] or "")
                if record is not None:
                    ws.ephemerals.remove(record)
            return
        a = Args(body)
        text = a.text("text") or ""
        blocks = _blocks_arg(a)
        attachments = _attachments_arg(a)
        if not text and not blocks and not attachments:
            raise ApiError("no_text")
        if _truthy(body.get("replace_original")) and target:
            kind, ts = target
            original = (
                ws.find_message(channel, ts) if kind == "message" else ws.find_ephemeral(ts or "")
            )
            if original is None:
                raise ApiError("message_not_found")
            original["text"] = text
            if blocks is not None:
                original["blocks"] = normalize_blocks(blocks)
            else:
                original.pop("blocks", None)
            if attachments is not None:
                original["attachments"] = copy.deepcopy(attachments)
            return
        thread_ts = a.text("thread_ts") or ctx.thread_ts
        if body.get("response_type") == "in_channel":
            message = ws.post_bot_message(
                channel, text=text, blocks=blocks, attachments=attachments, thread_ts=thread_ts
            )
            ctx.last_posted = ("message", message["ts"])
        else:
            record = ws.add_ephemeral(
                ctx.user,
                channel,
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=thread_ts,
                via=via,
            )
            ctx.last_posted = ("ephemeral", record["ts"])


def use_response_url(ws: Workspace, token: str) -> ResponseUrl:
    """Count a use of a response_url: at most 5 uses within 30 minutes, like Slack."""
    with ws.lock:
        ctx = ws.response_urls.get(token)
        if ctx is None:
            raise ApiError("invalid_token", status=404)
        if time.monotonic() - ctx.issued > RESPONSE_URL_TTL_SECONDS:
            raise ApiError("expired_url", status=404)
        if ctx.uses >= RESPONSE_URL_MAX_USES:
            raise ApiError("used_url", status=404)
        ctx.uses += 1
        return ctx


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "true"}
    return bool(value)
