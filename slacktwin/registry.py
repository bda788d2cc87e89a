"""The twin's Web API registry: ``@method`` registers a handler by Slack's method name in
``HANDLERS``; ``Args`` reads a request's arguments; ``paginate`` is Slack's cursor paging.
The handlers themselves are in ``slacktwin.api`` and the modules it imports."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from slacktwin.errors import ApiError
from slacktwin.state import Workspace

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
