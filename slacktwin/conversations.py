"""conversations.* and users.conversations: listing, joining, opening and reading
conversations, with Slack's types, membership errors and paging."""

from __future__ import annotations

from typing import Any

from slacktwin.chat import public_message
from slacktwin.errors import ApiError
from slacktwin.registry import Args, method, paginate
from slacktwin.state import Channel, Workspace, ts_key

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
        public_message(m, include_metadata=with_metadata)
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
    messages = [public_message(root, include_metadata=with_metadata)] + [
        public_message(m, include_metadata=with_metadata)
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
