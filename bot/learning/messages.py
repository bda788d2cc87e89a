"""Block Kit for digests: the lead's private preview (Publish, Edit) and the published
digest. Section texts are already escaped mrkdwn (``bot.learning.digest.compose``)."""

from __future__ import annotations

from typing import Any

from bot.text import escape, truncate
from storage import Digest

PUBLISH = "digest_publish"
EDIT = "digest_edit"


def progress_text(messages: int, channels: int) -> str:
    return (
        f"Reading {messages:,} messages from {channels:,} "
        f"{'channel' if channels == 1 else 'channels'}…"
    )


def _period(digest: Digest) -> str:
    last = digest.period_end
    return f"{digest.period_start:%-d %B} to {last:%-d %B %Y}"


def _sections(digest: Digest) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": truncate(f"*{escape(s['title'])}*\n{s['text']}", 3000),
            },
        }
        for s in digest.sections
    ]


def preview_blocks(digest: Digest) -> list[dict[str, Any]]:
    head = f"*Learning digest, {_period(digest)}*: a preview only you can see."
    if digest.notice:
        head += f"\n_{escape(digest.notice)}_"
    value = str(digest.id)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        *_sections(digest),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Publish"},
                    "style": "primary",
                    "action_id": PUBLISH,
                    "value": value,
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Edit"},
                    "action_id": EDIT,
                    "value": value,
                },
            ],
        },
    ]


def published_blocks(digest: Digest) -> list[dict[str, Any]]:
    head = f"*Learning digest, {_period(digest)}*"
    if digest.notice:
        head += f"\n_{escape(digest.notice)}_"
    return [{"type": "section", "text": {"type": "mrkdwn", "text": head}}, *_sections(digest)]


def published_note(digest: Digest) -> list[dict[str, Any]]:
    where = f"<#{digest.published_channel}>" if digest.published_channel else "the channel"
    return [
        *published_blocks(digest),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Published to {where}."}]},
    ]
