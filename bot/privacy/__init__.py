"""Patient-identifiable data stays out: refused on input, redacted before any model.

The recognisers live in ``bot.redaction`` (one place for redaction and refusal alike); this
module keeps the names services have always imported for the refusal at input. The privacy
feature's other files sit beside it (``jobs.py``; its rights are in ``bot.rights`` today).
"""

from __future__ import annotations

import re

from bot.redaction import (
    NEVER_STORED,
    NHS_NUMBER,
    find,
    is_valid_nhs_number,
    normalise,
    refuse_patient_identifiers,
)
from bot.redaction import patient_identifiers as _never_stored

__all__ = [
    "is_valid_nhs_number",
    "nhs_numbers",
    "patient_identifiers",
    "refuse_patient_identifiers",
]

_NOT_DIGIT = re.compile(r"[^0-9]")


def nhs_numbers(text: str) -> list[str]:
    """The valid NHS numbers in ``text``, as ten digits, however they were written."""
    found = []
    for finding in find(text, (NHS_NUMBER,)):
        if finding.kind != NHS_NUMBER:
            continue
        digits = _NOT_DIGIT.sub("", normalise(finding.text)[0])[-10:]
        found.append(digits)
    return found


def patient_identifiers(text: str) -> list[str]:
    """The kinds of patient identifier found in ``text`` (empty when there are none)."""
    kinds: list[str] = []
    for finding in _never_stored(text):
        if NEVER_STORED[finding.kind] not in kinds:
            kinds.append(NEVER_STORED[finding.kind])
    return kinds
