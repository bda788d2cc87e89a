"""Patient-identifiable data stays out: found on input (and refused), redacted before an LLM."""

from __future__ import annotations

import re

from bot.errors import UserError

# 10 digits, optionally grouped 3-3-4 with spaces or dashes, not inside a longer number.
_NHS_CANDIDATE = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")
_DATE_OF_BIRTH = re.compile(
    r"\b(?:d\.?o\.?b\.?|date of birth|born(?: on)?)\s*[:\-]?\s*"
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\s+\d{2,4})",
    re.IGNORECASE,
)
_HOSPITAL_NUMBER = re.compile(
    r"\b(?:MRN|hospital (?:number|no\.?)|patient (?:id|number|no\.?))\s*[:#]?\s*[A-Z]{0,3}\d{5,}",
    re.IGNORECASE,
)


def is_valid_nhs_number(digits: str) -> bool:
    """Modulus 11: weights 10..2 on the first nine digits; 11 means 0 and 10 is never valid."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def nhs_numbers(text: str) -> list[str]:
    return [
        "".join(match.groups())
        for match in _NHS_CANDIDATE.finditer(text)
        if is_valid_nhs_number("".join(match.groups()))
    ]


def patient_identifiers(text: str) -> list[str]:
    """The kinds of patient identifier found in ``text`` (empty when there are none)."""
    found = []
    if nhs_numbers(text):
        found.append("an NHS number")
    if _DATE_OF_BIRTH.search(text):
        found.append("a date of birth")
    if _HOSPITAL_NUMBER.search(text):
        found.append("a hospital or patient number")
    return found


def refuse_patient_identifiers(text: str, field: str) -> None:
    """Raise a kind, specific error when text would put a patient's identity into copbot."""
    kinds = patient_identifiers(text)
    if kinds:
        raise UserError(
            f"This looks like it contains {' and '.join(kinds)}. Please remove anything that "
            "could identify a patient; copbot must not hold it.",
            field=field,
        )
