"""Text that came from people (or a model) is escaped before Slack renders it."""

from __future__ import annotations

import re

_CONTROL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Bare words Slack may turn into pings when a client re-parses text.
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str, limit: int | None = None) -> str:
    """Make text safe for mrkdwn: no ``<!channel>``, ``<@U..>`` or links can form.

    ``&``, ``<`` and ``>`` are Slack's control characters; escaping them means a
    typed ``<!here>`` shows as text. A bare ``@here`` gets a zero-width joiner so
    it can never become a mention either. With ``limit``, the *escaped* text fits in
    that many characters (Slack counts what it receives: 600 typed ``&`` are 3,000).
    """
    escaped = _BROADCAST.sub(lambda m: "@\u2060" + m.group(1), text.translate(_CONTROL))
    return escaped if limit is None else truncate(escaped, limit)


# An entity or a guarded mention that a cut must not split.
_UNIT_AT_END = re.compile(r"(&[a-z]*|@\u2060?)$")


def truncate(text: str, limit: int) -> str:
    """Cut to ``limit`` characters with an ellipsis, for Slack's per-field limits; never
    inside ``&amp;`` and the like, which would show as a broken entity."""
    if len(text) <= limit:
        return text
    kept = _UNIT_AT_END.sub("", text[: max(limit - 1, 0)])
    return kept.rstrip() + "…"


_ANGLES = str.maketrans({"<": "‹", ">": "›"})


def plain(text: str) -> str:
    """People's words for a ``plain_text`` field: Slack shows plain text as typed (entities
    too), so angle brackets become look-alikes and no ``<!here>`` can survive a copy."""
    return _BROADCAST.sub(lambda m: "@\u2060" + m.group(1), text.translate(_ANGLES))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A leading apostrophe stops Excel and Sheets running a cell as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 supporter``, ``3 supporters``: the noun agrees with the number."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
