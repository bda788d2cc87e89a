"""Sentences and their ranking, for the offline engine (``bot.learning.offline``).

- Sentences are split per source (lines, bullets, sentence ends; common abbreviations kept).
- Ranking is TF-IDF centroid similarity: a sentence scores by how much it shares the
  vocabulary of the whole set (terms from ``bot.similarity.terms``, weighted by how rare they
  are across sentences), with a small bonus for figures, since digests should mix stories
  with data. Near-duplicates are skipped (and their sources credited to the kept sentence).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.similarity import terms

MAX_POINT_SOURCES = 10
DUPLICATE_SIMILARITY = 0.5

# ---------------------------------------------------------------------- sentences


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ABBREVIATIONS = word_set("e.g i.e etc vs approx dr mr mrs ms prof st no fig dept est incl cf al")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9\[])")
_BULLET = re.compile(r"^\s*(?:[•·▪◦*>\-–—]|\d{1,2}[.)])\s+")
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+:")
_WHITESPACE = re.compile(r"\s+")
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|per ?cent|percent|minutes?|mins?|hours?|hrs?|days?|"
    r"weeks?|beds?|patients?|people|staff|£|k\b)|£\s?\d",
    re.IGNORECASE,
)
LABEL = re.compile(r"\[(?:NHS number|email|phone|postcode|date of birth|hospital number)\]")


@dataclass(frozen=True)
class Sentence:
    """One sentence of one source, with what ranking needs."""

    text: str
    source: int
    position: int  # order within its source
    words: tuple[str, ...]  # lowercase words, for cue matching
    tf: Counter[str] = field(compare=False, hash=False)  # bot.similarity terms


def split_sentences(text: str) -> list[str]:
    """Sentences and bullet items of a text, in order, without emoji codes or extra space."""
    found: list[str] = []
    for line in text.splitlines():
        line = _WHITESPACE.sub(" ", _EMOJI_CODE.sub(" ", _BULLET.sub("", line))).strip()
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            before = line[start : match.start()].rsplit(" ", 1)[-1].lower().rstrip(".")
            if before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                continue  # "e.g. Ward 3", "Dr. Shah", an initial
            found.append(line[start : match.start()].strip())
            start = match.end()
        found.append(line[start:].strip())
    return [s for s in found if s]


def sentences_of(texts: Sequence[str]) -> list[Sentence]:
    """Every usable sentence of ``texts``: at least three words with two content terms.

    Acknowledgements ("Thanks!", "+1") say nothing to a reader; when nothing passes, shorter
    sentences are kept rather than returning nothing.
    """
    every: list[Sentence] = []
    for source, text in enumerate(texts):
        for position, sentence in enumerate(split_sentences(text)):
            words = tuple(WORD.findall(sentence.lower()))
            tf = Counter(terms(LABEL.sub(" ", sentence)))
            if words and tf:
                every.append(Sentence(sentence, source, position, words, tf))
    good = [s for s in every if len(s.words) >= 3 and sum(s.tf.values()) >= 2]
    return good or every


# ---------------------------------------------------------------------- TF-IDF


def _idf(sentences: Sequence[Sentence]) -> dict[str, float]:
    df = Counter(term for s in sentences for term in s.tf)
    total = len(sentences)
    return {term: math.log((1 + total) / (1 + count)) + 1.0 for term, count in df.items()}


def _vector(tf: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    return {term: (1.0 + math.log(count)) * idf.get(term, 1.0) for term, count in tf.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(weight * b.get(term, 0.0) for term, weight in a.items())
    norms = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norms if norms else 0.0


@dataclass
class Ranked:
    """Sentences with TF-IDF vectors and centroid scores, computed once per job."""

    sentences: list[Sentence]
    vectors: list[dict[str, float]]
    scores: list[float]

    @classmethod
    def of(cls, sentences: list[Sentence]) -> Ranked:
        idf = _idf(sentences)
        vectors = [_vector(s.tf, idf) for s in sentences]
        centroid: dict[str, float] = {}
        for vector in vectors:
            for term, weight in vector.items():
                centroid[term] = centroid.get(term, 0.0) + weight
        scores = []
        for sentence, vector in zip(sentences, vectors, strict=True):
            score = _cosine(vector, centroid)
            if FIGURE.search(sentence.text):
                score += 0.1  # stories with data
            if len(sentence.words) < 5:
                score *= 0.7  # fragments read badly on their own
            scores.append(score)
        return cls(sentences, vectors, scores)

    def order(self, indices: Sequence[int]) -> list[int]:
        """Indices best first; ties by source, then position in it."""
        return sorted(
            indices,
            key=lambda i: (-round(self.scores[i], 9), self.sentences[i].source, i),
        )

    def pick(
        self, indices: Sequence[int], limit: int, taken: list[int] | None = None
    ) -> list[tuple[int, tuple[int, ...]]]:
        """Up to ``limit`` sentences, best first, skipping near-duplicates of ones already
        chosen (here or in ``taken``); each comes with the sources that said the same."""
        chosen: list[tuple[int, list[int]]] = []
        earlier = list(taken or [])
        for i in self.order(indices):
            if any(
                _cosine(self.vectors[i], self.vectors[j]) >= DUPLICATE_SIMILARITY for j in earlier
            ):
                continue
            twin = next(
                (
                    entry
                    for entry in chosen
                    if _cosine(self.vectors[i], self.vectors[entry[0]]) >= DUPLICATE_SIMILARITY
                ),
                None,
            )
            if twin is not None:
                if self.sentences[i].source not in twin[1]:
                    twin[1].append(self.sentences[i].source)
                continue
            if len(chosen) < limit:
                chosen.append((i, [self.sentences[i].source]))
        return [(i, tuple(sorted(sources)[:MAX_POINT_SOURCES])) for i, sources in chosen]
