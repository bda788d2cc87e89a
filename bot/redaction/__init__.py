"""Redaction: no patient, contact or person leaves copbot for a language model.

One place for it. ``redact`` is applied to every text before it goes to a model (chat
completions, responses and embeddings alike; ``bot.llm`` also applies ``redact_identifiers``
to every request body as a last guard) and to what comes back. ``refuse_patient_identifiers``
uses the same recognisers at input, for what copbot must never store.

Detection is Microsoft Presidio with pattern recognisers only: its ``AnalyzerEngine`` with
its no-op NLP engine (no spaCy pipeline runs and no model is loaded or downloaded), its
phone-number recogniser for GB, copbot's own recognisers for what the NHS needs, and its
``AnonymizerEngine`` to put labels in. Nothing here touches the network: Presidio's URL and
email recognisers (which call tldextract, and so download the public suffix list) are left
out, and no tokenizer data (tiktoken) is loaded.

Text is normalised before detection (NFKC, Unicode digits as ASCII, zero-width characters
removed) and the spans found are mapped back onto the original, so the text stays as it was
written except for the bracketed labels. Detection is deliberately eager: a false positive
costs a word, a false negative a breach.

The package: ``recognisers`` (what is found, and how), ``engine`` (Presidio: ``find``,
``redact_identifiers``), ``refusal`` (at input), ``markup`` (Slack's markup as words), and
here ``redact``, the one function for text going to a model.
"""

from __future__ import annotations

import re

from bot.redaction.engine import find, redact_identifiers, warm_up
from bot.redaction.markup import Labeller, slack_markup_to_text
from bot.redaction.recognisers import (
    ALLOWED,
    BED,
    DATE_OF_BIRTH,
    EMAIL,
    HOSPITAL_NUMBER,
    LABELS,
    NAME,
    NEVER_STORED,
    NHS_NUMBER,
    PHONE,
    POSTCODE,
    Finding,
    is_valid_nhs_number,
    normalise,
)
from bot.redaction.refusal import (
    FIELD_NAMES,
    patient_identifiers,
    refuse_patient_identifiers,
    without_patient_identifiers,
)

__all__ = [
    "ALLOWED",
    "BED",
    "DATE_OF_BIRTH",
    "EMAIL",
    "FIELD_NAMES",
    "HOSPITAL_NUMBER",
    "LABELS",
    "NAME",
    "NEVER_STORED",
    "NHS_NUMBER",
    "PHONE",
    "POSTCODE",
    "Finding",
    "Labeller",
    "find",
    "is_valid_nhs_number",
    "normalise",
    "patient_identifiers",
    "redact",
    "redact_identifiers",
    "refuse_patient_identifiers",
    "slack_markup_to_text",
    "warm_up",
    "without_patient_identifiers",
]

# @channel, @here, @everyone typed as words (Slack may parse them with link_names).
_BROADCAST = re.compile(r"(?<!\w)[@＠]\s?(?:channel|here|everyone)\b", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?])")


# ---------------------------------------------------------------------- the one function


def redact(text: str, people: Labeller | None = None) -> str:
    """``text`` safe to send to a language model: people, pings and identifiers gone.

    Slack markup first (mentions become "Person 1"..., pings vanish; removal repeats until
    nothing changes, so markup nested to survive one pass does not), then identifiers become
    labels (``redact_identifiers``), then spacing is tidied. Pass one ``Labeller`` for all
    the texts of a job so labels agree.
    """
    people = people if people is not None else Labeller()
    for _ in range(5):
        cleaned = slack_markup_to_text(text, people)
        if cleaned == text:
            break
        text = cleaned
    text = redact_identifiers(text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
    return "\n".join(line.strip() for line in text.split("\n")).strip()
