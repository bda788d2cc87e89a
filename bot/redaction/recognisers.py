"""What redaction finds, and copbot's own recognisers for it: the kinds and their labels,
the text as detection reads it (``normalise``), and one finder of spans per kind (NHS
numbers with their checksum, dates of birth, hospital numbers, email, UK phone numbers and
postcodes, titled names, ward beds). Pure functions of a text: no Presidio here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

# ---------------------------------------------------------------------- what is found

NHS_NUMBER = "NHS_NUMBER"
HOSPITAL_NUMBER = "HOSPITAL_NUMBER"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"
POSTCODE = "UK_POSTCODE"
NAME = "TITLED_NAME"
BED = "WARD_BED"

# The label each kind becomes, in order of precedence when two findings overlap.
LABELS: dict[str, str] = {
    NHS_NUMBER: "[NHS number]",
    HOSPITAL_NUMBER: "[hospital number]",
    DATE_OF_BIRTH: "[date of birth]",
    EMAIL: "[email]",
    PHONE: "[phone]",
    POSTCODE: "[postcode]",
    NAME: "[name]",
    BED: "[bed]",
}
PRECEDENCE = {kind: rank for rank, kind in enumerate(LABELS)}

# What copbot refuses to store at all, and how the refusal names it.
NEVER_STORED: dict[str, str] = {
    NHS_NUMBER: "an NHS number",
    DATE_OF_BIRTH: "a date of birth",
    HOSPITAL_NUMBER: "a hospital or patient number",
}


@dataclass(frozen=True)
class Finding:
    """An identifier found in a text: its kind and its span in the text as given."""

    kind: str
    start: int
    end: int
    text: str


# ---------------------------------------------------------------------- normalising

# Zero-width and invisible characters that hide a number from a pattern (and the soft hyphen).
_INVISIBLE = frozenset(
    "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
)


def normalise(text: str) -> tuple[str, list[int]]:
    """``text`` as detection reads it, and for each of its characters the original index.

    NFKC one character at a time (odd spaces become spaces, full-width digits ASCII), other
    Unicode decimal digits as ASCII digits, zero-width characters gone.
    """
    if text.isascii():
        return text, list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        if char in _INVISIBLE:
            continue
        if char.isdecimal() and not char.isascii():
            mapped = str(unicodedata.decimal(char))
        else:
            mapped = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        for piece in mapped:
            if piece in _INVISIBLE:
                continue
            out.append(piece)
            where.append(index)
    return "".join(out), where


# ---------------------------------------------------------------------- recognisers

_SEP = r"[ \t\r\n.,:/_()\[\]\-\u2010-\u2015\u2212\u00b7]"
# A chain of digit groups joined by short separator runs ("943 476 5919", "943.476.5919",
# "(943) 476-5919", one group a line).
_DIGIT_CHAIN = re.compile(rf"(?<![0-9])[0-9]+(?:{_SEP}{{1,4}}[0-9]+)*(?![0-9])")
_GROUP = re.compile(r"[0-9]+")
# "NHS", "NHS-", "NHS#", "NHS No:", "NHS number is" just before a chain: any grouping counts.
_NHS_PREFIX = re.compile(
    r"(?i)\bNHS(?:\s*(?:number|num|no)\b\.?)?\s*(?:[:#=\-]|\bis\b)?\s*(?:[:#=\-]\s*)?$"
)

_DIALLING_CODE = re.compile(r"(?:\+|\b00)\s?44\s*(?:\(0\)\s*)?\(?$")


def is_valid_nhs_number(digits: str) -> bool:
    """Modulus 11: weights 10..2 on the first nine digits; 11 means 0 and 10 is never valid."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    if len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _nhs_numbers(text: str) -> Iterator[tuple[int, int]]:
    """Spans of NHS numbers with a valid check digit.

    Any run of consecutive digit groups adding up to ten digits is a candidate. Without an
    "NHS" prefix every group must have at least three digits (10, 3-3-4, 4-3-3...), so dates
    and lists of small numbers never join into one; after a prefix any grouping counts.
    """
    for chain in _DIGIT_CHAIN.finditer(text):
        groups = list(_GROUP.finditer(chain.group(0)))
        base = chain.start()
        prefix = _NHS_PREFIX.search(text, max(0, base - 24), base)
        for first in range(len(groups)):
            size = 0
            for last in range(first, len(groups)):
                size += len(groups[last].group(0))
                if size >= 10:
                    break
            if size != 10:
                continue
            window = groups[first : last + 1]
            digits = "".join(g.group(0) for g in window)
            prefixed = first == 0 and prefix is not None
            if not prefixed and any(len(g.group(0)) < 3 for g in window):
                continue
            start = base + window[0].start()
            if not prefixed and _DIALLING_CODE.search(text, max(0, start - 12), start):
                continue  # "+44 7700 900123" is a phone number, whatever its check digit
            if is_valid_nhs_number(digits):
                start = prefix.start() if prefixed and prefix else start
                yield start, base + window[-1].end()


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_SPACED_DATE = r"\d{1,2} \d{1,2} (?:\d{4}|\d{2})"
_WORDED_DATE = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+(?:\d{{4}}|'?\d{{2}})"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:\d{{4}}|'?\d{{2}}))"
)
_DOB_LABEL = (
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth\b|\bbirth\s?date\b|\bborn\b(?:\s+on)?"
    r"|\bb\.(?=\s*\d))"
)
# A labelled date in any form: "DOB 1 Feb 1950", "born 1950-02-01", "d.o.b: 1/2/50".
_LABELLED_DOB = re.compile(
    rf"{_DOB_LABEL}\s*(?:[:\-=]|\bis\b|\bwas\b)?\s*"
    rf"(?:{_WORDED_DATE}|(?:\d{{1,2}}([/.\-])\d{{1,2}}\1(?:\d{{4}}|\d{{2}}))|{_SPACED_DATE}"
    rf"|(?:\d{{4}}([/.\-])\d{{1,2}}\2\d{{1,2}}))",
    re.IGNORECASE,
)
# An unlabelled full date: a date of birth when its year is one a person was born in.
_BARE_DATE = re.compile(
    r"(?<![0-9/.\-])(?:(?P<d>\d{1,2})(?P<s>[/.\-])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4})"
    r"|(?P<y2>\d{4})(?P<s2>[/.\-])(?P<m2>\d{1,2})(?P=s2)(?P<d2>\d{1,2}))(?![0-9/.\-]*[0-9])"
)
_YEAR = re.compile(r"(\d{4})\b")
# A worded date in brackets after someone ("Mr Smith (1 Feb 1950)").
_BRACKETED_WORDED_DATE = re.compile(rf"(?<=\()\s*{_WORDED_DATE}(?=\s*\))", re.IGNORECASE)
ADULT_AGE = 16


def _birth_year(year: int) -> bool:
    return 1900 <= year <= date.today().year - ADULT_AGE


def _bare_birth_dates(text: str) -> Iterator[tuple[int, int]]:
    for match in _BARE_DATE.finditer(text):
        if match.group("d"):
            day, month, year = (int(match.group(k)) for k in ("d", "m", "y"))
        else:
            day, month, year = (int(match.group(k)) for k in ("d2", "m2", "y2"))
        plausible = (1 <= day <= 31 and 1 <= month <= 12) or (1 <= month <= 31 and 1 <= day <= 12)
        if plausible and _birth_year(year):
            yield match.span()
    for match in _BRACKETED_WORDED_DATE.finditer(text):
        year = _YEAR.search(match.group(0))
        if year and _birth_year(int(year.group(1))):
            yield match.span()


# Hospital numbers and MRNs, labelled: "MRN 1234567", "hospital number RJ1-234567",
# "Hosp no. K123456", "patient id 99887766", "case note number...".
_HOSPITAL_LABEL = (
    r"(?:\bM\.?R\.?N\b\.?|\bCRN\b|\bhosp(?:ital)?\b\.?\s*(?:number|num|no\b\.?|#)"
    r"|\bpatient\s*(?:id|number|no\b\.?|#)|\bunit\s*(?:number|no\b\.?)"
    r"|\bcase[\s-]?notes?\s*(?:number|no\b\.?)|\bmedical\s+records?\s*(?:number|no\b\.?))"
)
_LABELLED_HOSPITAL_NUMBER = re.compile(
    rf"{_HOSPITAL_LABEL}\s*(?:\bis\b\s*|[:#=]\s*)?"
    r"[A-Z]{0,4}[0-9]{0,3}[ \-/]?[0-9]{4,}[A-Z]?\b",
    re.IGNORECASE,
)
# Unlabelled, in the shapes trusts use: "K1234567", "RJ1234567", "RJ1-234567".
_BARE_HOSPITAL_NUMBER = re.compile(
    r"\b(?:[A-Z][0-9]{6,9}|[A-Z]{2,3}[0-9]{6,9}|[A-Z]{2,3}[0-9][\-/][0-9]{5,8})[A-Z]?\b"
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# UK numbers: 0 or +44/0044 (optionally "(0)"), then 9 or 10 digits in any grouping. Beside
# Presidio's phonenumbers recogniser, which rejects Ofcom's drama ranges ("07700 900123").
_PHONE = re.compile(
    r"(?<![\w+/.])"
    r"(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?\(?|\(?0)"
    r"[1-9](?:[ \-]?\)?[ \-]?\d){8,9}"
    r"(?![\d])"
)
# Full postcodes only (an outward code alone, "HR1", names an area, not a home). The inward
# code's letters never include C, I, K, M, O or V. Lower case is accepted with a space,
# except where it reads as an ordinal ("m62 5th", but "hr7 7nd" is a postcode).
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b"
    r"|\b(?:[a-pr-uwyz][a-hk-y]?\d[a-z\d]? (?!1st\b|2nd\b|3rd\b|[04-9]th\b)\d[abd-hjlnp-uw-z]{2})\b"
)

# A title, then up to three capitalised names or initials: "Mrs Jane Smith", "Dr Patel",
# "Prof. A. O'Neill-Khan", "MRS SMITH", "Sister McDonald".
_NAME_WORD = (
    r"(?:[A-Z](?:[a-z]+|[A-Z]+)?(?:['’\-]?[A-Z][a-z]+|['’\-][a-z]+|['’\-][A-Z]{2,})*\.?)"
    r"(?![\w'’])"  # a whole word: "Mrs Jane Smith HR1 2ER" names her, not "HR"
)
_TITLED_NAME = re.compile(
    r"\b(?:(?i:mrs|mr|ms|mx|dr|prof|professor)\b\.?|Miss\b|MISS\b|Sister\b|SISTER\b"
    r"|Nurse\b|NURSE\b|Matron\b)"
    rf"(?P<names>(?:[ \t]+{_NAME_WORD})+)"
)
_TITLE_WORDS = {"miss", "sister", "nurse", "matron"}
# Capitalised words that follow a title without naming anyone ("Nurse Practitioner",
# "Sister Ward", "MS Teams").
_NOT_NAMES = frozenset(
    """
    an and as at by for from in is it of on or the to was we who will with if he she they
    said told says asked has had have led lead leads
    practitioner practitioners specialist specialists associate associates consultant
    consultants manager managers educator educators prescriber prescribers prescribing
    staffing bank agency station ward wards unit team teams rota training apprentice
    apprentices champion champions navigator navigators advocate advocates director directors
    practice education network forum council midwife midwives call triage clinic clinics
    recruitment retention wellbeing cover day days week weeks shift shifts handover
    word excel forms office outlook access powerpoint sharepoint
    """.split()  # noqa: SIM905
)

# Findings that are well-known names in NHS improvement work, not people.
ALLOWED = ("Dr Foster",)  # NHS hospital benchmarking data


def _titled_names(text: str) -> Iterator[tuple[int, int]]:
    for match in _TITLED_NAME.finditer(text):
        kept_end = None
        for word in re.finditer(r"\S+", match.group("names")):
            bare = word.group(0).rstrip(".").lower()
            if bare in _NOT_NAMES:
                break
            kept_end = match.start("names") + word.end()
        if kept_end is not None:
            yield match.start(), kept_end


# Bed and bay references with a ward: "ward 7 bed 12", "bay 3 bed 4", "bed 12 on Oak Ward".
_WARD = r"(?:ward\s*(?:[0-9]{1,3}[A-Za-z]?|[A-Za-z])\b|[A-Z][a-z]+\s+[Ww]ard\b)"
_BAY = r"(?:bay\s*(?:[0-9]{1,2}[A-Za-z]?|[A-Za-z])\b)"
_BED = r"(?:bed\s*(?:no\.?\s*|number\s*)?[0-9]{1,3}[A-Za-z]?\b)"
_ROOM = r"(?:(?:side\s*room|cubicle)\s*[0-9]{1,3}\b)"
_PLACE = rf"(?:{_WARD}|{_BAY}|{_BED}|{_ROOM})"
_BED_PLACE = re.compile(
    rf"(?i:{_PLACE}(?:\s*(?:[,/;\-]|\b(?:on|in|of|at)\b)?\s*{_PLACE})+)".replace(
        "[A-Z][a-z]+", "(?-i:[A-Z][a-z]+)"
    )
)
_NEEDS_BED_OR_BAY = re.compile(r"(?i)\b(?:bed|bay|side\s*room|cubicle)\b")


def _bed_places(text: str) -> Iterator[tuple[int, int]]:
    for match in _BED_PLACE.finditer(text):
        if _NEEDS_BED_OR_BAY.search(match.group(0)):
            yield match.span()


Spans = Callable[[str], Iterator[tuple[int, int]]]


def _spans(pattern: re.Pattern[str]) -> Spans:
    return lambda text: (m.span() for m in pattern.finditer(text))


def _both(*finders: Spans) -> Spans:
    return lambda text: (span for finder in finders for span in finder(text))


# copbot's recognisers: one finder of spans per kind.
FINDERS: dict[str, Spans] = {
    NHS_NUMBER: _nhs_numbers,
    HOSPITAL_NUMBER: _both(_spans(_LABELLED_HOSPITAL_NUMBER), _spans(_BARE_HOSPITAL_NUMBER)),
    DATE_OF_BIRTH: _both(_spans(_LABELLED_DOB), _bare_birth_dates),
    EMAIL: _spans(_EMAIL),
    PHONE: _spans(_PHONE),
    POSTCODE: _spans(_POSTCODE),
    NAME: _titled_names,
    BED: _bed_places,
}
