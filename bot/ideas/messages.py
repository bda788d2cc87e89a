"""What Ideas says to people, as typed domain messages: the facts and a plain fallback.
How each looks in Slack is drawn by ``handlers/ideas/views.py`` (``render(message)``).

Everything people typed is escaped; names are shown as text, not mentions, so a card
never pings anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.ideas.insights import STATUS_LABELS, status_label
from bot.text import counted, escape

if TYPE_CHECKING:
    from bot.ideas.challenges import Summary


def supporters(count: int) -> str:
    """ "1 supporter", "N supporters" (the card's count, as DESIGN.md names it)."""
    return counted(count, "supporter")


def link(url: str | None, text: str) -> str:
    """``text`` escaped, linked to ``url`` when there is one."""
    return f"<{url}|{escape(text)}>" if url else escape(text)


def quoted(text: str) -> str:
    """A rationale as a quote under a message."""
    return "> " + escape(text, limit=2500).replace("\n", "\n> ")


@dataclass(frozen=True)
class Linked:
    """Another idea, as a card or a DM mentions it."""

    title: str
    permalink: str | None


@dataclass(frozen=True)
class IdeaCard:
    """The idea's card in the ideas channel, with what it shows besides the idea itself."""

    idea_id: int
    title: str
    description: str
    status: str
    supporter_count: int
    themes: tuple[str, ...]
    created_at: datetime
    rationale: str | None = None
    next_review: date | None = None
    source_permalink: str | None = None
    author: str | None = None  # None for anonymous ideas
    submitted_by: str | None = None  # when someone else shared the author's words
    owner: str | None = None
    challenge: str | None = None
    merged_into: Linked | None = None

    def fallback(self) -> str:
        label = STATUS_LABELS[self.status]
        return f"Idea: {escape(self.title)} ({label}, {supporters(self.supporter_count)})"


@dataclass(frozen=True)
class StatusDecided:
    """ "You said, we did": what was decided about an idea someone cares about, and why."""

    title: str
    permalink: str | None
    status: str
    rationale: str | None
    owner: str | None
    next_review: date | None

    def fallback(self) -> str:
        return f"Update on “{escape(self.title)}”: now {status_label(self.status)}"


@dataclass(frozen=True)
class MergeDecided:
    """ "You said, we did" for a merge: where the idea's support and updates went."""

    idea: Linked
    into: Linked
    into_supporters: int
    rationale: str | None

    def fallback(self) -> str:
        return f"“{escape(self.idea.title)}” was merged into “{escape(self.into.title)}”"


@dataclass(frozen=True)
class KeptDraft:
    """The idea whose card Slack refused, kept for the person to post again in one tap."""

    draft_id: int
    title: str

    def fallback(self) -> str:
        return (
            f"Slack didn't take the card for your idea *{escape(self.title)}*, so it isn't "
            "posted yet. I've kept it for you."
        )


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
            f"{link(self.permalink, self.title)}. You'll hear here whenever its status changes."
        )


@dataclass(frozen=True)
class ChallengePost:
    """The challenge as posted in its channel, and a day before it closes, the reminder."""

    challenge_id: int
    title: str
    description: str
    tags: tuple[str, ...]
    target_groups: tuple[str, ...]
    closes_at: datetime
    timezone: str
    reminder: bool = False
    ideas_so_far: int = 0

    @property
    def heading(self) -> str:
        return ("Closing soon: " if self.reminder else "Challenge: ") + self.title

    @property
    def last_day(self) -> str:
        """The last whole day it is open, in the community's time zone."""
        last = (self.closes_at - timedelta(seconds=1)).astimezone(ZoneInfo(self.timezone))
        return f"{last:%A %d %B %Y}"

    def fallback(self) -> str:
        return escape(self.heading)


@dataclass(frozen=True)
class ChallengeClosed:
    """What the challenge gathered, for the channel; voices only for groups big enough."""

    title: str
    summary: Summary

    @property
    def heading(self) -> str:
        return f"Challenge closed: {self.title}"

    def fallback(self) -> str:
        return escape(self.heading)
