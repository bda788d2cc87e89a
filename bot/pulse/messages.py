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

from bot.text import escape

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


@dataclass(frozen=True)
class PulseResults:
    """A closed run's results as its lead (``for_lead``: with what they can do next) or
    its results channel see them, with the themes safe to show in what people wrote."""

    results: RunResults
    themes: tuple[str, ...] = ()
    themes_notice: str | None = None  # the summariser's, when it said something
    for_lead: bool = False

    def fallback(self) -> str:
        return f"Results of the {self.results.pulse_name} pulse"


@dataclass(frozen=True)
class LoopClosed:
    """The lead's answer to a run's results ("you said, we did"), to each who answered."""

    pulse_name: str
    response: str

    def fallback(self) -> str:
        return (
            f"*You said, we did.* About the {escape(self.pulse_name)} pulse you answered:\n"
            f"> {escape(self.response)}"
        )
