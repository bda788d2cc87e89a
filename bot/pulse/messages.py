"""What pulses say to people, as typed domain messages; ``handlers/pulse/views.py`` draws them.

The member's DM (``PulseDM``) carries its run, questions and, once the member has
answered, their answer token: the first DM carries no token (the outbox keeps what it
sends, so a token there would sit beside the member's user ID); the reply to the first
answer replaces the member's own message with one whose buttons carry the token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.blocks import section
from bot.text import escape, truncate

if TYPE_CHECKING:
    from bot.pulse.results import RunResults


def delivery_text(pulse_name: str, reminder: bool = False) -> str:
    """The notification text (what a phone's lock screen shows)."""
    if reminder:
        return f"A reminder: the {pulse_name} pulse closes soon. It takes seconds to answer."
    return f"The {pulse_name} pulse check is here: a few quick questions."


@dataclass(frozen=True)
class PulseDM:
    """The member's pulse DM: the invitation, the reminder, or the one they answered
    (their ``token`` in its buttons and their ``chosen`` values marked)."""

    run_id: int
    pulse_name: str
    questions: Sequence[Mapping[str, Any]]
    anonymous: bool
    anonymity_min: int
    closes_at: datetime
    token: str | None = None
    chosen: Mapping[int, int] = field(default_factory=dict)
    reminder: bool = False

    def fallback(self) -> str:
        return delivery_text(self.pulse_name, self.reminder)


def results_blocks(results: RunResults) -> list[dict[str, Any]]:
    rate = results.response_rate
    head = (
        f"*Pulse {escape(results.pulse_name)}*: {results.respondents} of {results.invited} answered"
        + (f" ({rate:.0%})" if rate is not None else "")
    )
    if results.withheld:
        return [section(f"{head}\n{escape(results.notice or 'Results are withheld.')}")]
    lines = [head]
    for question in results.questions:
        lines.append(f"*{question.index + 1}. {escape(question.text)}*")
        if question.withheld:
            lines.append("_Too few answers to show._")
            continue
        if question.distribution:
            lines.append(" · ".join(f"{escape(label)}: {n}" for label, n in question.distribution))
        if question.mean is not None:
            mean = f"Average {question.mean:.2f}"
            if question.change is not None:
                mean += f" ({question.change:+.2f} since last time)"
            lines.append(mean)
        if question.phrases:
            lines.append("Often said: " + ", ".join(escape(p) for p, _ in question.phrases))
    for name, group in results.breakdowns.items():
        rows = group.respondents.rows()
        if rows:
            lines.append(f"*By {escape(name)}:* " + ", ".join(f"{escape(g)} {n}" for g, n in rows))
    lines.append(f"_Groups under {results.anonymity_min} people are never shown on their own._")
    return [section(truncate("\n".join(lines), 3000))]
