"""Refusal at input: what copbot must never store (NHS numbers, dates of birth, hospital
numbers) is refused with a message naming the field and quoting what to take out."""

from __future__ import annotations

from bot.errors import UserError
from bot.redaction.engine import find, redact_identifiers
from bot.redaction.recognisers import NEVER_STORED, Finding
from bot.text import escape

# ---------------------------------------------------------------------- refusal at input

# How a refusal names the field it concerns (the keys are the forms' block ids).
FIELD_NAMES: dict[str, str] = {
    "title": "The title",
    "description": "The description",
    "rationale": "The rationale",
    "reflection": "Your reflection",
    "learned": "What you learned",
    "answer": "Your answer",
    "response": "Your response",
    "other": "Other interests",
    "offers": "I can offer",
    "wants": "I want to learn",
    "background": "Background",
    "approach": "Our approach",
    "challenges": "Challenges",
    "impact": "Impact",
    "lessons": "Lessons learned and next steps",
}
_QUOTE_LIMIT = 40


def patient_identifiers(text: str) -> list[Finding]:
    """What in ``text`` copbot must never store: NHS numbers, dates of birth, hospital numbers."""
    return [f for f in find(text, tuple(NEVER_STORED)) if f.kind in NEVER_STORED]


def without_patient_identifiers(text: str) -> str:
    """``text`` with what copbot must never store replaced by its label: for words copbot
    keeps but cannot refuse, such as a channel's captured messages."""
    return redact_identifiers(text, tuple(NEVER_STORED))


def refuse_patient_identifiers(text: str, field: str) -> None:
    """Raise a kind ``UserError`` naming the field and what to remove, when there is any.

    The message quotes what was found (only the person who typed it sees it) so they know
    exactly what to take out.
    """
    found = patient_identifiers(text)
    if not found:
        return
    what = []
    for finding in found:
        quoted = " ".join(finding.text.split())
        if len(quoted) > _QUOTE_LIMIT:
            quoted = quoted[: _QUOTE_LIMIT - 1] + "…"
        item = f"{NEVER_STORED[finding.kind]} (“{escape(quoted)}”)"
        if item not in what:
            what.append(item)
    named = FIELD_NAMES.get(field, "This text")
    listed = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " and " + what[-1]
    raise UserError(
        f"{named} contains {listed}. Please remove {'it' if len(what) == 1 else 'them'} and "
        "try again: copbot must never hold anything that identifies a patient.",
        field=field,
    )
