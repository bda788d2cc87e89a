"""Small Block Kit builders every feature's ``blocks`` module shares."""

from __future__ import annotations

from typing import Any

from handlers.integrity import seal


def plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(markdown: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": markdown}}
    if accessory:
        block["accessory"] = accessory
    return block


def button(
    label: str, action_id: str, *, value: str | None = None, primary: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain_text(label), "action_id": action_id}
    if value is not None:
        element["value"] = value
    if primary:
        element["style"] = "primary"
    return element


def option(label: str, value: str | None = None) -> dict[str, Any]:
    """A select option; Slack allows 75 characters of text."""
    return {"text": plain_text(label[:75]), "value": value or label}


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str = "",
    dispatch: bool = False,
) -> dict[str, Any]:
    """An input whose action_id is its block_id, so submitted values key by one name.
    ``dispatch``: choosing sends block_actions at once (Slack's ``dispatch_action``), so the
    form can be redrawn with only the fields that apply."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label),
        "element": {"action_id": block_id, **element},
        "optional": optional,
    }
    if dispatch:
        block["dispatch_action"] = True
    if hint:
        block["hint"] = plain_text(hint)
    return block


def static_select(options: list[dict[str, Any]], initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return element


def modal(
    callback_id: str, title: str, submit: str, blocks: list[dict[str, Any]], meta: str = ""
) -> dict[str, Any]:
    """A form with a submit button and Cancel; ``meta`` travels back as private_metadata."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain_text(title),
        "submit": plain_text(submit),
        "close": plain_text("Cancel"),
        "blocks": blocks,
        "private_metadata": seal(callback_id, meta),
    }


def notice(title: str, markdown: str) -> dict[str, Any]:
    """A modal that only tells the person something."""
    return {
        "type": "modal",
        "title": plain_text(title[:24]),
        "close": plain_text("Close"),
        "blocks": [section(markdown)],
    }


def header(text: str) -> dict[str, Any]:
    """A header block: plain text, at most 150 characters (the caller cuts it)."""
    return {"type": "header", "text": plain_text(text)}


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object, for a section's fields or a context block."""
    return {"type": "mrkdwn", "text": text}


def actions(elements: list[dict[str, Any]], block_id: str | None = None) -> dict[str, Any]:
    """A row of buttons (or other interactive elements)."""
    block: dict[str, Any] = {"type": "actions", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*markdown: str) -> dict[str, Any]:
    """Small print under a message: each piece of mrkdwn shown side by side."""
    return {"type": "context", "elements": [mrkdwn(text) for text in markdown]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def fields(*markdown: str) -> dict[str, Any]:
    """A section of short mrkdwn fields, two to a row."""
    return {"type": "section", "fields": [mrkdwn(text) for text in markdown]}
