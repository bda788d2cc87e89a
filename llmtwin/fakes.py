"""The twin's deterministic stand-ins for a model: embeddings, summaries and schema answers.

Nothing here is clever on purpose. Embeddings are a signed hashing trick over words and
character trigrams, so texts that share words (or word stems) point the same way and
unrelated texts are near orthogonal: enough for similarity code to behave as it would with
a real model. Chat answers are derived from the user's own words, so tests can predict them.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, date, datetime
from typing import Any

DEFAULT_DIMENSIONS = 256
WORD_WEIGHT = 1.0
TRIGRAM_WEIGHT = 0.3

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPWORD_TEXT = """
a an and are as at be but by for from has have i in into is it its of on or our so that the
their them there these this those to was we were will with you your
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _stem(word: str) -> str:
    """Fold the commonest English endings so 'beds'/'bed' and 'waiting'/'wait' share a word
    feature; trigrams catch the rest."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def features(text: str) -> dict[str, float]:
    """Weighted features of a text: each content word, and each trigram of each word."""
    weights: dict[str, float] = {}
    for raw in _WORD.findall(text.casefold()):
        if raw in _STOPWORDS:
            continue
        word = _stem(raw)
        weights["w:" + word] = weights.get("w:" + word, 0.0) + WORD_WEIGHT
        padded = f"#{raw}#"
        for i in range(len(padded) - 2):
            key = "t:" + padded[i : i + 3]
            weights[key] = weights.get(key, 0.0) + TRIGRAM_WEIGHT
    return weights


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    index = int.from_bytes(digest[:4], "little") % dimensions
    sign = 1.0 if digest[4] & 1 else -1.0
    return index, sign


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """A unit vector for ``text`` (stable across runs and processes).

    Signed hashing keeps collisions from adding up, so unrelated texts score near 0 and
    texts sharing most of their words score well above 0.5 by cosine similarity.
    """
    vector = [0.0] * dimensions
    for feature, weight in features(text).items():
        index, sign = _bucket(feature, dimensions)
        vector[index] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def sentences(text: str) -> list[str]:
    """Non-empty sentences (or lines) of a text, in order."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def first_sentence(text: str, limit: int = 200) -> str:
    found = sentences(text)
    sentence = found[0] if found else ""
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def summary(text: str) -> str:
    """The twin's plain-text chat answer."""
    return "Summary: " + (first_sentence(text) or "(nothing to summarise)")


def count_tokens(text: str) -> int:
    """A rough token count (about four characters a token), for ``usage``."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


# ---------------------------------------------------------------------- JSON schema answers

_MAX_DEPTH = 12
_FORMATS: dict[str, str] = {
    "date": date(2026, 1, 15).isoformat(),
    "date-time": datetime(2026, 1, 15, 9, 30, tzinfo=UTC).isoformat(),
    "time": "09:30:00Z",
    "email": "someone@example.org",
    "uri": "https://example.org/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


class SchemaWalker:
    """Builds one value that is valid for a JSON schema, with strings from a source text.

    Covers what structured outputs allow: objects (every property, required or not, as
    strict mode lists them all), arrays (1 to 3 items within minItems/maxItems), strings
    (sentences of the text, within min/maxLength), numbers and integers within bounds,
    booleans, null, enum and const (first value), anyOf/oneOf (first branch), allOf
    (merged objects), type lists, and ``$ref`` into ``$defs``/``definitions``.
    """

    def __init__(self, schema: dict[str, Any], text: str) -> None:
        self.root = schema
        self.parts = sentences(text) or ["Nothing to report"]
        self._next = 0

    def value(self) -> Any:
        return self._walk(self.root, 0)

    def _string(self) -> str:
        part = self.parts[self._next % len(self.parts)]
        self._next += 1
        return part

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        node: Any = self.root
        for key in ref.lstrip("#").strip("/").split("/"):
            if not key:
                continue
            key = key.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                raise ValueError(f"cannot resolve $ref {ref}")
            node = node[key]
        if not isinstance(node, dict):
            raise ValueError(f"$ref {ref} is not a schema")
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return {**node, **extra}

    def _walk(self, schema: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("schema nests too deeply (recursive $ref?)")
        if schema is True or not isinstance(schema, dict):
            return self._string()
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                non_null = [
                    o for o in options if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                return self._walk((non_null or options)[0], depth + 1)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged: dict[str, Any] = {}
            for part in all_of:
                value = self._walk(part, depth + 1)
                if not isinstance(value, dict):
                    return value
                merged.update(value)
            return merged
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else None
        return self._typed(schema, kind, depth)

    def _typed(self, schema: dict[str, Any], kind: Any, depth: int) -> Any:
        if kind == "object":
            properties = schema.get("properties") or {}
            return {name: self._walk(sub, depth + 1) for name, sub in properties.items()}
        if kind == "array":
            low = int(schema.get("minItems", 0))
            high = int(schema.get("maxItems", max(low, 3)))
            count = min(max(1, low, min(len(self.parts), 3)), high)
            return [self._walk(schema.get("items", {}), depth + 1) for _ in range(count)]
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        fmt = schema.get("format")
        text = _FORMATS[fmt] if isinstance(fmt, str) and fmt in _FORMATS else self._string()
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if len(text) < low:
            text = text + "." * (low - len(text))
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        return text


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    """1 (or the nearest value the bounds allow)."""
    value: float = 1
    low = schema.get("minimum")
    if isinstance(low, int | float):
        value = max(value, low)
    xlow = schema.get("exclusiveMinimum")
    if isinstance(xlow, int | float) and value <= xlow:
        value = xlow + 1 if integer else xlow + 0.5
    high = schema.get("maximum")
    if isinstance(high, int | float):
        value = min(value, high)
    xhigh = schema.get("exclusiveMaximum")
    if isinstance(xhigh, int | float) and value >= xhigh:
        value = xhigh - 1 if integer else xhigh - 0.5
    if not integer:
        return float(value)
    whole = math.ceil(value)
    if isinstance(high, int | float) and whole > high:
        whole = math.floor(high)
    return int(whole)


def schema_answer(schema: dict[str, Any], text: str) -> Any:
    """A value valid for ``schema`` whose strings are sentences of ``text``."""
    return SchemaWalker(schema, text).value()
