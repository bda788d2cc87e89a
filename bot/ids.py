"""Ids that arrive from outside (button values, form metadata) are checked before they
reach the database, which can't hold numbers beyond its integer columns."""

from __future__ import annotations

from typing import Any

MAX_ID = 2**31 - 1  # PostgreSQL's integer ids


def as_id(raw: Any) -> int | None:
    """A database id from untrusted input, or None when it can't be one."""
    if isinstance(raw, bool):
        return None
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None
