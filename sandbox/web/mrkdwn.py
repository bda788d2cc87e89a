"""Slack mrkdwn to safe HTML, for the sandbox's page.

Everything a person or copbot typed is untrusted: the text is escaped first and only the
markup Slack itself draws is turned into tags (bold, italics, strike, code, quotes,
lists, links, mentions, emoji shortcodes). Links keep only http(s) and mailto targets.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

Resolver = Callable[[str], str | None]

EMOJI = {
    "bulb": "💡",
    "memo": "📝",
    "tada": "🎉",
    "wave": "👋",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "calendar": "📆",
    "date": "📅",
    "bar_chart": "📊",
    "chart_with_upwards_trend": "📈",
    "chart_with_downwards_trend": "📉",
    "handshake": "🤝",
    "thumbsup": "👍",
    "+1": "👍",
    "thumbsdown": "👎",
    "-1": "👎",
    "heart": "❤️",
    "star": "⭐",
    "sparkles": "✨",
    "rocket": "🚀",
    "eyes": "👀",
    "pushpin": "📌",
    "bell": "🔔",
    "no_bell": "🔕",
    "lock": "🔒",
    "mag": "🔍",
    "speech_balloon": "💬",
    "clipboard": "📋",
    "books": "📚",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "alarm_clock": "⏰",
    "clock9": "🕘",
    "seedling": "🌱",
    "raised_hands": "🙌",
    "pray": "🙏",
    "smile": "😄",
    "slightly_smiling_face": "🙂",
    "thinking_face": "🤔",
    "point_right": "👉",
    "arrow_right": "➡️",
    "information_source": "ℹ️",
    "question": "❓",
    "exclamation": "❗",
    "busts_in_silhouette": "👥",
    "bust_in_silhouette": "👤",
    "hospital": "🏥",
    "stethoscope": "🩺",
    "pill": "💊",
    "trophy": "🏆",
    "gear": "⚙️",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "envelope": "✉️",
    "link": "🔗",
    "new": "🆕",
    "construction": "🚧",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "large_blue_circle": "🔵",
    "wastebasket": "🗑️",
}

_ANGLE = re.compile(r"<([^<>\n]{1,1000})>")
_CODE_BLOCK = re.compile(r"```(.*?)```", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+\-]{1,40}):")
_HOLE = re.compile(r"\x00(\d+)\x00")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "del"),
)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _unescape_slack(text: str) -> str:
    """Slack escapes &, < and > in message text; undo that before escaping for HTML."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class _Holes:
    """HTML made for a token, kept out of the text until every style has been applied."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def keep(self, markup: str) -> str:
        self.parts.append(markup)
        return f"\x00{len(self.parts) - 1}\x00"

    def fill(self, text: str) -> str:
        for _ in range(3):  # holes can hold holes (a link label with a mention)
            text = _HOLE.sub(lambda m: self.parts[int(m.group(1))], text)
        return text


def _angle(token: str, holes: _Holes, user: Resolver, channel: Resolver) -> str:
    target, _, label = token.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        name = user(user_id) or label or user_id
        return holes.keep(f'<span class="mention">@{html.escape(name)}</span>')
    if target.startswith("#"):
        channel_id = target[1:]
        name = channel(channel_id) or label or channel_id
        return holes.keep(f'<span class="mention">#{html.escape(name)}</span>')
    if target.startswith("!"):
        special = target[1:].split("^", 1)[0]
        shown = label or (f"@{special}" if special in ("here", "channel", "everyone") else "")
        return holes.keep(f'<span class="mention">{html.escape(shown or special)}</span>')
    unescaped = _unescape_slack(target)
    if unescaped.lower().startswith(_SAFE_SCHEMES):
        shown = _inline(_unescape_slack(label), holes, user, channel) if label else None
        href = html.escape(unescaped, quote=True)
        return holes.keep(
            f'<a href="{href}" target="_blank" rel="noopener noreferrer">'
            f"{shown if shown is not None else html.escape(unescaped)}</a>"
        )
    return holes.keep(html.escape(f"<{_unescape_slack(token)}>"))


def _inline(text: str, holes: _Holes, user: Resolver, channel: Resolver) -> str:
    """One line of text (no code blocks) to HTML with holes for links and code."""
    text = _ANGLE.sub(lambda m: _angle(m.group(1), holes, user, channel), text)
    text = _INLINE_CODE.sub(
        lambda m: holes.keep(f"<code>{html.escape(_unescape_slack(m.group(1)))}</code>"), text
    )
    text = html.escape(_unescape_slack(text), quote=False)
    for pattern, tag in _STYLES:
        text = pattern.sub(lambda m, tag=tag: f"<{tag}>{m.group(1)}</{tag}>", text)
    return _EMOJI.sub(
        lambda m: (
            f'<span class="emoji" role="img" aria-label="{m.group(1)}">{EMOJI[m.group(1)]}</span>'
            if m.group(1) in EMOJI
            else m.group(0)
        ),
        text,
    )


def _no_one(_: str) -> str | None:
    return None


def _pre(code: str) -> str:
    return f"<pre>{html.escape(_unescape_slack(code.strip(chr(10))))}</pre>"


def to_html(text: str, user: Resolver = _no_one, channel: Resolver = _no_one) -> str:
    """Render mrkdwn; ``user``/``channel`` turn ids into names for mentions."""
    holes = _Holes()
    text = text.replace("\x00", "")
    text = _CODE_BLOCK.sub(lambda m: holes.keep(_pre(m.group(1))) + "\n", text)
    out: list[str] = []
    open_list: str | None = None
    quote: list[str] = []

    def flush_quote() -> None:
        if quote:
            out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
            quote.clear()

    def close_list() -> None:
        nonlocal open_list
        if open_list:
            out.append(f"</{open_list}>")
            open_list = None

    lines = text.split("\n")
    for number, raw in enumerate(lines):
        line = raw
        quoted = re.match(r"^(?:>|&gt;) ?(.*)$", line)
        if quoted:
            close_list()
            quote.append(_inline(quoted.group(1), holes, user, channel))
            continue
        flush_quote()
        bullet = re.match(r"^\s*(?:[•◦▪\-*]) +(.*)$", line)
        ordered = re.match(r"^\s*(\d{1,3})[.)] +(.*)$", line)
        if bullet or ordered:
            kind = "ul" if bullet else "ol"
            if open_list != kind:
                close_list()
                out.append(f"<{kind}>")
                open_list = kind
            item = (bullet or ordered).group(1 if bullet else 2)  # type: ignore[union-attr]
            out.append(f"<li>{_inline(item, holes, user, channel)}</li>")
            continue
        close_list()
        rendered = _inline(line, holes, user, channel)
        out.append(rendered + ("<br>" if number < len(lines) - 1 else ""))
    flush_quote()
    close_list()
    return holes.fill("".join(out))


def plain(text: str) -> str:
    """A plain_text object's words, escaped, with emoji shortcodes drawn."""
    escaped = html.escape(text.replace("\x00", ""), quote=False)
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), escaped)


def rich_html(node: Any, user: Resolver, channel: Resolver) -> str:
    """A ``rich_text`` block (what people type, as Slack stores it) as HTML."""
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    children = node.get("elements") or []
    if kind == "text":
        inner = plain(str(node.get("text", ""))).replace("\n", "<br>")
        style = node.get("style") or {}
        styles = (("code", "code"), ("strike", "del"), ("italic", "em"), ("bold", "strong"))
        for flag, tag in styles:
            if style.get(flag):
                inner = f"<{tag}>{inner}</{tag}>"
        return inner
    if kind == "user":
        user_id = str(node.get("user_id", ""))
        return f'<span class="mention">@{html.escape(user(user_id) or user_id)}</span>'
    if kind == "channel":
        name = channel(str(node.get("channel_id", ""))) or ""
        return f'<span class="mention">#{html.escape(name)}</span>'
    if kind == "emoji":
        return plain(f":{node.get('name', '')}:")
    if kind == "link":
        url = str(node.get("url", ""))
        shown = plain(str(node.get("text") or url))
        if url.lower().startswith(("http://", "https://", "mailto:")):
            link = html.escape(url)
            return f'<a href="{link}" target="_blank" rel="noopener noreferrer">{shown}</a>'
        return shown
    inner = "".join(rich_html(child, user, channel) for child in children)
    if kind == "rich_text_list":
        tag = "ol" if node.get("style") == "ordered" else "ul"
        items = "".join(f"<li>{rich_html(child, user, channel)}</li>" for child in children)
        return f"<{tag}>{items}</{tag}>"
    if kind == "rich_text_quote":
        return f"<blockquote>{inner}</blockquote>"
    if kind == "rich_text_preformatted":
        return f"<pre>{inner}</pre>"
    if kind == "rich_text_section":
        return f"<div>{inner}</div>"
    return inner
