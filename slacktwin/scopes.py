"""OAuth scopes: which bot scopes the twin's token holds and which scope each method needs.

Slack answers a method whose scope the token lacks with HTTP 200
``{"ok": false, "error": "missing_scope", "needed": "<scope>", "provided": "<scopes>"}``
and puts the token's scopes in the ``x-oauth-scopes`` response header of every Web API
answer (and the scopes the method accepts in ``x-accepted-oauth-scopes``). The table
follows the "Scopes" facts of each method page on docs.slack.dev/reference/methods.

By default the twin grants exactly the bot scopes in the repository's ``manifest.json``
(``oauth_config.scopes.bot``), so a scope copbot needs but does not request fails in
tests as it would in a real install.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from slacktwin.state import Channel, Workspace

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.json"

# Methods whose bot-token scope does not depend on the arguments ("" = no scope needed).
FIXED_SCOPES: dict[str, str] = {
    "auth.test": "",
    "chat.getPermalink": "",
    "views.open": "",
    "views.push": "",
    "views.update": "",
    "views.publish": "",
    "bots.info": "users:read",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "team.info": "team:read",
    "conversations.join": "channels:join",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.scheduleMessage": "chat:write",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "reactions.get": "reactions:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
}

# Methods whose scope depends on the kind of conversation: method -> family suffix.
KIND_SCOPES: dict[str, str] = {
    "conversations.info": "read",
    "conversations.members": "read",
    "conversations.history": "history",
    "conversations.replies": "history",
}
_FAMILY = {
    "public_channel": "channels",
    "private_channel": "groups",
    "im": "im",
    "mpim": "mpim",
}


def manifest_bot_scopes(path: Path = MANIFEST) -> tuple[str, ...]:
    """The bot scopes ``manifest.json`` requests (``oauth_config.scopes.bot``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(data["oauth_config"]["scopes"]["bot"])


def grant(scopes: Iterable[str] | None) -> tuple[str, ...]:
    """The granted scopes: manifest.json's bot scopes for None, else exactly these."""
    if scopes is None:
        return manifest_bot_scopes()
    if isinstance(scopes, str):
        raise TypeError("scopes must be an iterable of scope names, not one string")
    return tuple(dict.fromkeys(scopes))


def _kind(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    if channel.is_mpim:
        return "mpim"
    return "private_channel" if channel.is_private else "public_channel"


def _channel_of(ws: Workspace, channel_id: Any) -> Channel | None:
    return ws.channels.get(str(channel_id or ""))


def _types(args: dict[str, Any]) -> list[str]:
    raw = args.get("types") or "public_channel"
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return [t.strip() for t in items if str(t).strip() in _FAMILY]


def accepted_scopes(ws: Workspace, method: str, args: dict[str, Any]) -> list[str]:
    """The scopes one of which this call needs ([] when it needs none).

    For calls that name a conversation Slack cannot resolve the handler answers
    ``channel_not_found`` first, so an unknown channel needs no scope here.
    """
    if method in FIXED_SCOPES:
        scope = FIXED_SCOPES[method]
        return [scope] if scope else []
    if method in KIND_SCOPES:
        channel = _channel_of(ws, args.get("channel"))
        if channel is None:
            return []
        return [f"{_FAMILY[_kind(channel)]}:{KIND_SCOPES[method]}"]
    if method in ("conversations.list", "users.conversations"):
        return [f"{_FAMILY[t]}:read" for t in dict.fromkeys(_types(args))]
    if method == "conversations.open":
        if args.get("channel"):
            channel = _channel_of(ws, args.get("channel"))
            if channel is None:
                return []
            return ["mpim:write" if channel.is_mpim else "im:write"]
        users = args.get("users") or ""
        count = (
            len(users)
            if isinstance(users, list)
            else len([u for u in str(users).split(",") if u.strip()])
        )
        if count == 0:
            return []
        return ["mpim:write"] if count > 1 else ["im:write"]
    return []


def missing_scope(
    ws: Workspace, method: str, args: dict[str, Any], granted: Iterable[str]
) -> str | None:
    """The scope this call needs and the token lacks, or None.

    For conversations.list and users.conversations every requested type's ``:read``
    scope is needed (the first missing one is named, as Slack does)."""
    held = set(granted)
    needed = accepted_scopes(ws, method, args)
    if method in ("conversations.list", "users.conversations"):
        return next((s for s in needed if s not in held), None)
    if needed and not held.intersection(needed):
        return needed[0]
    return None
