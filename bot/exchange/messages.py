"""What the exchange says to people on its own: the lead's review of a proposal, a match's
introduction in its group DM, and the feedback request. Typed domain messages; how each
looks in Slack is in ``handlers/exchange/views.py`` (``render`` draws them). People are
named by mention only in the DMs they are in, or in the lead's own review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def people(members: Sequence[str]) -> str:
    names = [f"<@{m}>" for m in members]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Proposed:
    """One match of a proposal: who, its score, and why."""

    members: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Review:
    """A round's proposal as its lead sees it; once approved, who approved it."""

    programme: str
    round_number: int
    round_id: int
    matches: tuple[Proposed, ...]
    carried_over: tuple[str, ...]
    unmatchable: Mapping[str, str]
    figures: str
    approved_by: str | None = None
    certificate: str = ""  # see certificate_line

    def fallback(self) -> str:
        return f"Proposed matches for {self.programme}"


@dataclass(frozen=True)
class Introduction:
    """A match introduced in its group DM, drawn again as its status moves on."""

    match_id: int
    programme: str
    format: str
    members: tuple[str, ...]
    reasons: tuple[str, ...]
    next_step: str
    status: str = "introduced"

    def fallback(self) -> str:
        mentions = ", ".join(f"<@{m}>" for m in self.members)
        return f"You've been matched for {self.programme}: {mentions}"


@dataclass(frozen=True)
class FeedbackRequest:
    match_id: int
    programme: str

    def fallback(self) -> str:
        return f"How did your {self.programme} exchange go?"


def certificate_line(found: Mapping[str, Any] | None) -> str:
    """One line telling the lead how close the round is to the best possible, from the
    certificate stored with the round (empty for rounds stored without one)."""
    if not found:
        return ""
    kind = found.get("kind", "pairs")
    score, bound = float(found.get("score", 0.0)), float(found.get("bound", 0.0))
    gap = max(0.0, (bound - score) / bound) if bound > 0 else 0.0
    considered = int(found.get("candidate_pairs", 0))
    if kind == "mentoring":
        return (
            f"Certified: the best mentoring assignment of the {considered:,} candidate pairs "
            f"considered (score {score:,.1f})"
        )
    if kind == "sets":
        reference = found.get("reference")
        line = (
            f"Sets: score {score:,.1f}; a simple ceiling (everyone with their best partners) "
            f"is {bound:,.1f}"
        )
        if reference is not None:
            line += f"; the best of several random restarts scored {float(reference):,.1f}"
        return line
    best = (
        "the best possible pairing"
        if found.get("complete")
        else f"the best pairing of the {considered:,} candidate pairs considered"
    )
    return f"Certified: within {gap:.2%} of {best} (score {score:,.1f}, bound {bound:,.1f})"
