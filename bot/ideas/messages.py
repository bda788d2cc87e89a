"""What Ideas says to people, as typed domain messages: the facts and a plain fallback.
How each looks in Slack is drawn by ``handlers/ideas/views.py`` (``render(message)``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.text import escape


def _link(url: str | None, text: str) -> str:
    return f"<{url}|{escape(text)}>" if url else escape(text)


@dataclass(frozen=True)
class BulbOffer:
    """The private offer, to whoever reacted :bulb: to a message, to make it an idea."""

    channel: str
    ts: str

    def fallback(self) -> str:
        return "Turn this message into an idea? Its author is credited and told."


@dataclass(frozen=True)
class CreditNotice:
    """To the author whose message someone turned into an idea: they are credited, and
    may take their name off it."""

    sharer: str
    idea_id: int
    title: str
    permalink: str | None

    def fallback(self) -> str:
        return (
            f"{escape(self.sharer)} turned your message into an idea and credited you: "
            f"{_link(self.permalink, self.title)}. You'll hear here whenever its status changes."
        )
