"""What a language model's answer must be before the summariser uses it: the JSON
schemas the requests ask for and the answers are checked against (``conforms``), every
string made harmless to show (``neutralise``), and, when an answer can't be used, why, in
words a lead understands (``Fallback`` and the ``NOTICE_`` lines)."""

from __future__ import annotations

import re
from typing import Any

from bot.redaction import Labeller, redact

SECTIONS = ("key_themes", "whats_working", "challenges")
CASE_STUDY_FIELDS = ("title", "background", "approach", "challenges", "impact", "lessons")

NOTICE_NO_MODEL = "offline summary: no language model is configured"
NOTICE_EMPTY = "offline summary: there was nothing to summarise"
NOTICE_TIMEOUT = "offline summary: the language model did not answer in time"
NOTICE_CONNECTION = "offline summary: the language model could not be reached"
NOTICE_RATE_LIMIT = "offline summary: the language model is busy (rate limited); try again later"
NOTICE_SERVER = "offline summary: the language model service had an error"
NOTICE_AUTH = "offline summary: the language model did not accept copbot's credentials"
NOTICE_REJECTED = "offline summary: the language model rejected the request"
NOTICE_UNUSABLE = "offline summary: the language model's answer could not be used"
NOTICE_REFUSED = "offline summary: the language model declined to summarise this"
NOTICE_FAILED = "offline summary: the language model step failed"

# ---------------------------------------------------------------------- failures


class Fallback(Exception):
    """The model path gave up; ``notice`` says why in words a lead understands."""

    def __init__(self, notice: str) -> None:
        super().__init__(notice)
        self.notice = notice


def reason(exc: Exception) -> tuple[str, str]:
    """(notice, short error for ``Usage``) for an OpenAI SDK error; no URLs, keys or bodies."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return NOTICE_TIMEOUT, "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return NOTICE_CONNECTION, "connection failed"
    if isinstance(exc, openai.RateLimitError):
        return NOTICE_RATE_LIMIT, "rate limited (HTTP 429)"
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in (401, 403):
            return NOTICE_AUTH, f"not authorised (HTTP {status})"
        if status >= 500:
            return NOTICE_SERVER, f"server error (HTTP {status})"
        return NOTICE_REJECTED, f"rejected (HTTP {status})"
    return NOTICE_FAILED, type(exc).__name__


# ---------------------------------------------------------------------- output safety

_MARKUP_START = re.compile(r"<(?=\s*[!@#])")
_AT_WORD = re.compile(r"[@＠](?=\w)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_ONE_LINE = re.compile(r"\s+")


def neutralise(text: str, people: Labeller | None = None, *, one_line: bool = True) -> str:
    """A model's string made harmless: redacted again, no ping or mention can form.

    ``redact`` removes ``<!channel>``/``@here``-style pings and turns ``<@U..>`` into labels;
    whatever markup is left cannot open (``<!`` becomes ``‹!``) and a remaining ``@word``
    gets a word joiner, so even a client that links names finds nothing to ping.
    """
    text = _CONTROL.sub("", text)
    text = redact(text, people)
    text = _MARKUP_START.sub("‹", text)
    text = _AT_WORD.sub("@\u2060", text)
    return _ONE_LINE.sub(" ", text).strip() if one_line else text.strip()


# ---------------------------------------------------------------------- schemas


def point_schema(ref_field: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            ref_field: {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["text", ref_field],
        "additionalProperties": False,
    }


def digest_schema(ref_field: str) -> dict[str, Any]:
    """Strict structured-output schema; bounds are checked in code, since strict mode on
    some servers (Azure among them) rejects minimum/maxItems-style keywords."""
    return {
        "type": "object",
        "properties": {
            name: {"type": "array", "items": {"$ref": "#/$defs/point"}} for name in SECTIONS
        },
        "required": list(SECTIONS),
        "additionalProperties": False,
        "$defs": {"point": point_schema(ref_field)},
    }


CASE_STUDY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in CASE_STUDY_FIELDS},
    "required": list(CASE_STUDY_FIELDS),
    "additionalProperties": False,
}


def conforms(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> bool:
    """Whether ``value`` fits the subset of JSON Schema these schemas use (types, required,
    no extra properties, array items, local ``$ref``)."""
    root = root if root is not None else schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        node: Any = root
        for key in ref.removeprefix("#/").split("/"):
            node = node[key]
        return conforms(value, node, root)
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return False
        properties = schema.get("properties", {})
        if any(key not in value for key in schema.get("required", ())):
            return False
        if schema.get("additionalProperties") is False and set(value) - set(properties):
            return False
        return all(conforms(value[k], properties[k], root) for k in value if k in properties)
    if kind == "array":
        items = schema.get("items", {})
        return isinstance(value, list) and all(conforms(v, items, root) for v in value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return True
