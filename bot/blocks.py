"""The few Block Kit pieces the core builds for messages it sends itself (through the
outbox or a job); ``handlers.kit`` has the Slack surface's own."""

from __future__ import annotations

from typing import Any

from bot.text import truncate


def section(markdown: str) -> dict[str, Any]:
    """A mrkdwn section, cut to Slack's 3,000 characters."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(markdown, 3000)}}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element
