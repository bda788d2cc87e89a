"""chat.*, reactions.* and response_url: posting, updating and deleting messages with
Slack's argument checks (blocks, attachments, metadata, the 40,000-character cut), and
``apply_response``, shared by response_url posts and slash command answers (the HTTP
body an app returns to a command)."""

from __future__ import annotations

import copy
import time
from typing import Any

from slacktwin.errors import ApiError
from slacktwin.registry import Args, method
from slacktwin.state import (
    MAX_TEXT_LENGTH,
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    Channel,
    ResponseUrl,
    Workspace,
    normalize_blocks,
)
from slacktwin.validation import MESSAGE_BLOCK_LIMIT, validate_blocks


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


def public_message(message: dict[str, Any], *, include_metadata: bool = True) -> dict[str, Any]:
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


def bot_message(ws: Workspace, channel: Channel, ts: str) -> dict[str, Any]:
    message = ws.find_message(channel, ts)
    if message is None:
        raise ApiError("message_not_found")
    return message


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
    answer = {"channel": channel.id, "ts": message["ts"], "message": public_message(message)}
    if truncated:
        answer["response_metadata"] = copy.deepcopy(TRUNCATED_WARNING)
    return answer


@method("chat.update")
def chat_update(ws: Workspace, a: Args) -> dict[str, Any]:
    # A DM is named by its D id here, never a user id (chat.update's "channel" argument).
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    message = bot_message(ws, channel, a.text("ts", required=True, error="message_not_found") or "")
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
    public = public_message(message)
    return {"channel": channel.id, "ts": message["ts"], "text": message["text"], "message": public}


@method("chat.delete")
def chat_delete(ws: Workspace, a: Args) -> dict[str, Any]:
    channel = ws.conversation(a.text("channel", required=True, error="channel_not_found"))
    ts = a.text("ts", required=True, error="message_not_found") or ""
    message = bot_message(ws, channel, ts)
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
