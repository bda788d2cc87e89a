"""Block Kit as readable terminal text, with numbered interactive elements.

For the sandbox and for test failure messages: a message or view becomes lines a person
can read, and every button/menu gets a number (``[1] Support  [2] Discuss``) so a
terminal UI can let someone press it. ``render_interactive`` returns the text and the
numbered ``Interactive`` list; ``render_blocks`` only the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slacktwin.forms import options_of, text_of

NameResolver = Callable[[str], str | None]

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def mrkdwn_to_text(
    text: str,
    *,
    resolve_user: NameResolver | None = None,
    resolve_channel: NameResolver | None = None,
) -> str:
    """Light mrkdwn clean-up: links, mentions and entities; ``*bold*`` is kept."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user_id = target[1:]
            name = label or (resolve_user(user_id) if resolve_user else None)
            return f"@{(name or user_id).lstrip('@')}"
        if target.startswith("#"):
            channel_id = target[1:]
            name = label or (resolve_channel(channel_id) if resolve_channel else None)
            return f"#{(name or channel_id).lstrip('#')}"
        if target.startswith("!"):
            special = target[1:]
            if special.startswith("subteam^"):
                return label or "@group"
            if special.startswith("date^"):
                return label or special
            return f"@{special}"
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_LINK.sub(replace, text))


@dataclass(frozen=True)
class Interactive:
    """A numbered control: what to press, and what the driver needs to press it."""

    number: int
    kind: str
    label: str
    action_id: str | None
    block_id: str | None
    element: dict[str, Any] = field(repr=False)
    options: tuple[str, ...] = ()
    is_input: bool = False


@dataclass(frozen=True)
class Rendered:
    """Text for the terminal plus the controls it numbered."""

    text: str
    elements: list[Interactive]


class _Renderer:
    def __init__(
        self,
        resolve_user: NameResolver | None,
        resolve_channel: NameResolver | None,
        start: int,
    ) -> None:
        self.resolve_user = resolve_user
        self.resolve_channel = resolve_channel
        self.number = start
        self.lines: list[str] = []
        self.elements: list[Interactive] = []

    def text(self, obj: Any) -> str:
        raw = text_of(obj)
        if isinstance(obj, dict) and obj.get("type") == "plain_text":
            return raw
        return mrkdwn_to_text(
            raw, resolve_user=self.resolve_user, resolve_channel=self.resolve_channel
        )

    def control(
        self, block: dict[str, Any], element: dict[str, Any], *, is_input: bool = False
    ) -> str:
        kind = element.get("type", "?")
        options = tuple(text_of(o.get("text")) for o in options_of(element))
        if kind == "button":
            label = text_of(element.get("text"))
        elif kind == "overflow":
            label = "⋯"
        elif is_input:
            label = text_of(block.get("label"))
        else:
            label = text_of(element.get("placeholder")) or kind.replace("_", " ")
        item = Interactive(
            number=self.number,
            kind=kind,
            label=label,
            action_id=element.get("action_id"),
            block_id=block.get("block_id"),
            element=element,
            options=options,
            is_input=is_input,
        )
        self.elements.append(item)
        self.number += 1
        shown = f"[{item.number}] {label}"
        if kind != "button":
            shown += " ▾" if options else f" ({kind.replace('_', ' ')})"
            if options:
                shown += " (" + " | ".join(options) + ")"
        return shown

    def block(self, block: dict[str, Any]) -> None:
        kind = block.get("type")
        if kind == "header":
            title = text_of(block.get("text"))
            self.lines += [title.upper(), "=" * min(len(title), 60)]
        elif kind == "section":
            if block.get("text"):
                self.lines.append(self.text(block["text"]))
            for item in block.get("fields") or []:
                self.lines.append("  " + self.text(item))
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                if accessory.get("type") == "image":
                    self.lines.append(f"  (image: {accessory.get('alt_text', '')})")
                else:
                    self.lines.append("  " + self.control(block, accessory))
        elif kind == "divider":
            self.lines.append("-" * 40)
        elif kind == "context":
            parts = [
                f"(image: {e.get('alt_text', '')})" if e.get("type") == "image" else self.text(e)
                for e in block.get("elements") or []
            ]
            self.lines.append("  " + " · ".join(p for p in parts if p))
        elif kind in {"actions", "context_actions"}:
            self.lines.append(
                "  ".join(self.control(block, e) for e in block.get("elements") or [])
            )
        elif kind == "input":
            element = block.get("element") or {}
            optional = " (optional)" if block.get("optional") else " *"
            self.lines.append(self.control(block, element, is_input=True) + optional)
            if block.get("hint"):
                self.lines.append("    " + text_of(block["hint"]))
        elif kind == "image":
            self.lines.append(f"(image: {block.get('alt_text', '')})")
        elif kind == "rich_text":
            self.lines.append(_rich_text_line(block))
        elif kind == "markdown":
            self.lines.append(str(block.get("text", "")))
        else:
            self.lines.append(f"({kind} block)")


def _rich_text_line(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "link":
        return str(node.get("text") or node.get("url", ""))
    if kind == "user":
        return f"@{node.get('user_id', '')}"
    if kind == "channel":
        return f"#{node.get('channel_id', '')}"
    if kind == "emoji":
        return f":{node.get('name', '')}:"
    return "".join(_rich_text_line(child) for child in node.get("elements") or [])


def render_interactive(
    blocks: list[dict[str, Any]] | None,
    *,
    resolve_user: NameResolver | None = None,
    resolve_channel: NameResolver | None = None,
    start: int = 1,
) -> Rendered:
    """Render blocks; controls are numbered from ``start`` in display order."""
    renderer = _Renderer(resolve_user, resolve_channel, start)
    for block in blocks or []:
        renderer.block(block)
    return Rendered(
        "\n".join(line for line in renderer.lines if line is not None), renderer.elements
    )


def render_blocks(
    blocks: list[dict[str, Any]] | None,
    *,
    resolve_user: NameResolver | None = None,
    resolve_channel: NameResolver | None = None,
) -> str:
    """Render blocks to plain text (see ``render_interactive`` for the numbered controls)."""
    return render_interactive(
        blocks, resolve_user=resolve_user, resolve_channel=resolve_channel
    ).text


def render_message(
    message: dict[str, Any],
    *,
    resolve_user: NameResolver | None = None,
    resolve_channel: NameResolver | None = None,
    start: int = 1,
) -> Rendered:
    """A stored message: its blocks, or its text when it has none; files listed."""
    if message.get("blocks"):
        rendered = render_interactive(
            message["blocks"],
            resolve_user=resolve_user,
            resolve_channel=resolve_channel,
            start=start,
        )
        text = rendered.text
        elements = rendered.elements
    else:
        text = mrkdwn_to_text(
            str(message.get("text", "")), resolve_user=resolve_user, resolve_channel=resolve_channel
        )
        elements = []
    for item in message.get("files") or []:
        text += f"\n[file: {item.get('title') or item.get('name')}]"
    return Rendered(text, elements)


def render_view(
    view: dict[str, Any],
    *,
    resolve_user: NameResolver | None = None,
    resolve_channel: NameResolver | None = None,
) -> Rendered:
    """A modal or home view: title bar, blocks, then its submit/close buttons."""
    rendered = render_interactive(
        view.get("blocks"), resolve_user=resolve_user, resolve_channel=resolve_channel
    )
    lines = []
    if view.get("title"):
        title = text_of(view["title"])
        lines += [f"┌ {title} ┐"]
    lines.append(rendered.text)
    buttons = [text_of(view[k]) for k in ("close", "submit") if view.get(k)]
    if view.get("type") == "modal":
        lines.append("  ".join(f"<{b}>" for b in buttons or ["Close"]))
    return Rendered("\n".join(lines), rendered.elements)
