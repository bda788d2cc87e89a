"""Slack's markup as plain words before a text goes to a model: mentions become neutral
labels ("Person 1", one ``Labeller`` per job), pings vanish, links keep their words."""

from __future__ import annotations

import html
import re

# ---------------------------------------------------------------------- Slack markup


class Labeller:
    """Neutral, stable labels for Slack user ids: the first id seen is "Person 1".

    Use one per job (one digest, one case study) so "Person 2" means the same colleague in
    every text of that job and nothing outside it.
    """

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}

    def label(self, user_id: str) -> str:
        key = user_id.strip().upper()
        if key not in self._labels:
            self._labels[key] = f"Person {len(self._labels) + 1}"
        return self._labels[key]

    def __len__(self) -> int:
        return len(self._labels)


# <@U123>, <@U123|jane>, <@W123>
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", re.IGNORECASE)
# <!channel>, <!here|here>, <!everyone>, <!subteam^S123|@nurses>, <!date^...|fallback>
_SPECIAL = re.compile(r"<!([^>|]*)(?:\|([^>]*))?>")
_CHANNEL_REF = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>", re.IGNORECASE)
_LINK = re.compile(r"<((?:https?|mailto|tel):[^>|\s]*)(?:\|([^>]*))?>", re.IGNORECASE)
# A bare user id typed or pasted as text (U024BE7LH): at least one digit, so words survive.
_BARE_USER_ID = re.compile(r"\b[UW](?=[A-Z0-9]*\d)[A-Z0-9]{6,14}\b")
# @channel, @here, @everyone typed as words (Slack may parse them with link_names).
_BROADCAST = re.compile(r"(?<!\w)[@＠]\s?(?:channel|here|everyone)\b", re.IGNORECASE)


def _special(match: re.Match[str]) -> str:
    """Channel-wide and group pings vanish; a date keeps its readable fallback."""
    command, label = match.group(1).lower(), match.group(2)
    if command.startswith("date") and label:
        return label
    return ""


def _link(match: re.Match[str]) -> str:
    url, label = match.group(1), match.group(2)
    if label:
        return label
    if url.lower().startswith(("mailto:", "tel:")):
        return url.split(":", 1)[1]  # the address itself: redacted afterwards
    return url


def slack_markup_to_text(text: str, people: Labeller) -> str:
    """Slack's ``<...>`` markup (and bare pings and user ids) as plain, ping-free words."""
    # Slack escapes &, < and > in message text; read them back so typed markup is seen too.
    text = html.unescape(text) if "&" in text else text
    text = _USER_MENTION.sub(lambda m: people.label(m.group(1)), text)
    text = _CHANNEL_REF.sub(lambda m: "#" + (m.group(2) or "channel"), text)
    text = _SPECIAL.sub(_special, text)
    text = _LINK.sub(_link, text)
    text = _BARE_USER_ID.sub(lambda m: people.label(m.group(0)), text)
    return _BROADCAST.sub("", text)
