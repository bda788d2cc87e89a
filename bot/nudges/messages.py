"""What nudges say to people, as typed domain messages; ``handlers/nudges/views.py``
draws them. The text is mrkdwn with what people wrote escaped, and is also the
notification's fallback."""

from __future__ import annotations

from dataclasses import dataclass

from bot.text import escape


@dataclass(frozen=True)
class ChallengeNudge:
    """A personal invitation to a challenge as it opens, or a reminder as it closes."""

    title: str
    channel_id: str
    closing: bool = False

    def fallback(self) -> str:
        named = f"“{escape(self.title)}” in <#{self.channel_id}>"
        if self.closing:
            return (
                f"The challenge {named} closes soon. "
                "If you have an idea, there is still time to share it."
            )
        return (
            f"A new challenge is open, and your voice is wanted: {named}. "
            "Share an idea from the challenge's post, or with `/idea`."
        )


@dataclass(frozen=True)
class IdeasAwaitingReview:
    """A lead's weekly reminder of the ideas waiting longest for a decision."""

    total: int
    days: int
    oldest: tuple[tuple[str, str | None], ...]  # (title, permalink)

    def fallback(self) -> str:
        lines = [
            f"*{self.total} ideas have waited over {self.days} days for a decision.* "
            "Authors hear nothing until someone decides. The oldest:"
        ]
        lines += [
            f"• <{permalink}|{escape(title)}>" if permalink else f"• {escape(title)}"
            for title, permalink in self.oldest
        ]
        return "\n".join(lines)
