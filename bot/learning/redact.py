"""Redaction: what leaves copbot for a language model carries no patient, contact or person.

``redact`` runs on every text before it is sent to a model (and on what comes back, so a
model cannot echo or invent an identifier or a ping). It replaces patient identifiers
(NHS numbers with a valid mod-11 check digit, dates of birth, hospital numbers), contact
details (email addresses, UK phone numbers, full UK postcodes) with bracketed labels, and
turns Slack markup into plain words: people become "Person 1", "Person 2" (the same person
gets the same label across one job's texts through one ``Labeller``), channel and group
pings disappear, channel links become "#name" and links their label.

It is deliberately eager: a 10-digit number that passes the NHS check is redacted even if it
was something else, because a false positive costs a word and a false negative a breach.
"""

from __future__ import annotations

import html
import re

from bot.privacy import is_valid_nhs_number

NHS_NUMBER = "[NHS number]"
EMAIL = "[email]"
PHONE = "[phone]"
POSTCODE = "[postcode]"
DATE_OF_BIRTH = "[date of birth]"
HOSPITAL_NUMBER = "[hospital number]"


class Labeller:
    """Neutral, stable labels for Slack user ids: the first id seen is "Person 1".

    Use one per job (one digest, one case study) so "Person 2" means the same colleague in
    every text of that job and nothing outside it.
    """

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}

    def label(self, user_id: str) -> str:
        key = user_id.strip().upper()
        if key not in self._labels:
            self._labels[key] = f"Person {len(self._labels) + 1}"
        return self._labels[key]

    def __len__(self) -> int:
        return len(self._labels)


# ---------------------------------------------------------------------- Slack markup

# <@U123>, <@U123|jane>, <@W123>
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", re.IGNORECASE)
# <!channel>, <!here|here>, <!everyone>, <!subteam^S123|@nurses>, <!date^...|fallback>
_SPECIAL = re.compile(r"<!([^>|]*)(?:\|([^>]*))?>")
_CHANNEL_REF = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>", re.IGNORECASE)
_LINK = re.compile(r"<((?:https?|mailto|tel):[^>|\s]*)(?:\|([^>]*))?>", re.IGNORECASE)
# A bare user id typed or pasted as text (U024BE7LH): at least one digit, so words survive.
_BARE_USER_ID = re.compile(r"\b[UW](?=[A-Z0-9]*\d)[A-Z0-9]{6,14}\b")
# @channel, @here, @everyone typed as words (Slack may parse them with link_names).
_BROADCAST = re.compile(r"(?<!\w)[@＠]\s?(?:channel|here|everyone)\b", re.IGNORECASE)

# ---------------------------------------------------------------------- identifiers

# As bot.privacy: 10 digits, optionally 3-3-4 with spaces or dashes, not inside a longer number.
_NHS_CANDIDATE = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.UNICODE)
# UK numbers: 0 or +44/0044 (optionally "(0)"), then 9 or 10 digits in any grouping
# ("07700 900123", "+44 7700 900 123", "(01432) 355444", "020 7946 0958", "0800-123-4567").
_PHONE = re.compile(
    r"(?<![\w+/.])"
    r"(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?\(?|\(?0)"
    r"[1-9](?:[ \-\u00a0]?\)?[ \-\u00a0]?\d){8,9}"
    r"(?![\d])"
)
# Full postcodes only (an outward code alone, "HR1", names an area, not a home). The
# inward code's letters never include C, I, K, M, O or V. Lower case is accepted with a
# space, except where it reads as an ordinal ("m62 5th").
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b"
    r"|\b(?:[a-pr-uwyz][a-hk-y]?\d[a-z\d]? \d(?!st\b|nd\b|rd\b|th\b)[abd-hjlnp-uw-z]{2})\b"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{2,4}}"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}})"
)
# bot.privacy's date-of-birth labels, widened: "DOB", "d.o.b.", "date of birth", "birth
# date", "born (on)", then ":", "-", "=", "is" or "was", then a date in a common form.
_DATE_OF_BIRTH = re.compile(
    r"\b(?:d\.?o\.?b\b\.?|date\s+of\s+birth|birth\s?date|born(?:\s+on)?)"
    r"\s*(?:[:\-=]|\bis\b|\bwas\b)?\s*" + _DATE,
    re.IGNORECASE,
)
# bot.privacy's hospital-number labels, widened: MRN, hospital/hosp number/no, patient
# id/number, unit number, case-note number, CRN; then an optional short prefix and digits.
_HOSPITAL_NUMBER = re.compile(
    r"\b(?:MRN|CRN|hosp(?:ital)?\.?\s*(?:number|num|no)\b\.?|patient\s*(?:id|number|no)\b\.?"
    r"|unit\s*(?:number|no)\b\.?|case[\s-]?notes?\s*(?:number|no)\b\.?)"
    r"\s*(?:is\s+|[:#=]\s*)?[A-Z]{0,4}[ -]?\d{5,}[A-Z]?\b",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?])")


def _nhs(match: re.Match[str]) -> str:
    return NHS_NUMBER if is_valid_nhs_number("".join(match.groups())) else match.group(0)


def _special(match: re.Match[str]) -> str:
    """Channel-wide and group pings vanish; a date keeps its readable fallback."""
    command, label = match.group(1).lower(), match.group(2)
    if command.startswith("date") and label:
        return label
    return ""


def _link(match: re.Match[str]) -> str:
    url, label = match.group(1), match.group(2)
    if label:
        return label
    if url.lower().startswith(("mailto:", "tel:")):
        return url.split(":", 1)[1]  # the address itself: redacted just below
    return url


def slack_markup_to_text(text: str, people: Labeller) -> str:
    """Slack's ``<...>`` markup (and bare pings and user ids) as plain, ping-free words."""
    # Slack escapes &, < and > in message text; read them back so typed markup is seen too.
    text = html.unescape(text) if "&" in text else text
    text = _USER_MENTION.sub(lambda m: people.label(m.group(1)), text)
    text = _CHANNEL_REF.sub(lambda m: "#" + (m.group(2) or "channel"), text)
    text = _SPECIAL.sub(_special, text)
    text = _LINK.sub(_link, text)
    text = _BARE_USER_ID.sub(lambda m: people.label(m.group(0)), text)
    return _BROADCAST.sub("", text)


def identifiers_to_labels(text: str) -> str:
    """Patient identifiers and contact details replaced by bracketed labels.

    Labelled identifiers go first (a hospital number or a date of birth is recognised by its
    label, and its digits must not be half-eaten by the phone pattern), then emails (before
    phones and postcodes, which could match inside an address), then NHS numbers before
    phones (an NHS number starting with 0 would read as a phone number).
    """
    text = _HOSPITAL_NUMBER.sub(HOSPITAL_NUMBER, text)
    text = _DATE_OF_BIRTH.sub(DATE_OF_BIRTH, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _NHS_CANDIDATE.sub(_nhs, text)
    text = _PHONE.sub(PHONE, text)
    return _POSTCODE.sub(POSTCODE, text)


def redact(text: str, people: Labeller | None = None) -> str:
    """``text`` safe to send to a language model: see the module docstring for what goes.

    Pass one ``Labeller`` for all the texts of a job so labels agree; without one, labels
    are consistent within this text only. Removal repeats until nothing changes, so markup
    nested to survive one pass (``<<!here>!here>``) does not.
    """
    people = people if people is not None else Labeller()
    for _ in range(5):
        cleaned = identifiers_to_labels(slack_markup_to_text(text, people))
        if cleaned == text:
            break
        text = cleaned
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
    return "\n".join(line.strip() for line in text.split("\n")).strip()
