"""Similar ideas: one ranking interface, two engines.

Before a new idea is posted copbot shows up to three similar open ideas, so people can
support one instead of posting a duplicate. Candidates come from the database's term index
(built with ``terms``); this module only ranks them. TF-IDF works offline and needs nothing;
OpenAI embeddings catch paraphrases when a key is configured, and fall back to TF-IDF the
moment the API misbehaves, so the step never fails because of the model.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from bot.llm import llm_model, shared_llm_client
from bot.redaction import redact

if TYPE_CHECKING:
    import openai

    from bot.config import Settings

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------- terms

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>", re.IGNORECASE)
_SLACK_REF = re.compile(r"<[@#!][^>]*>")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_EMOJI = re.compile(r":[a-z0-9_+'-]+:")
_AMPERSAND_WORD = re.compile(r"(?<=[^\W\d_])&(?=[^\W\d_])")  # A&E -> ae
_APOSTROPHE = re.compile(r"['\u2018\u2019]")
_TOKEN = re.compile(r"[^\W_]+")
MAX_TERM_LENGTH = 40

_ENGLISH = """
a about above after again against all almost along already also although always am among an
and another any anybody anyhow anyone anything anyway anywhere are around as at be became
because become been before being below between both but by can cannot could did do does
doing done down during each either else enough etc even ever every few for from further had
has have having he her here hers herself him himself his how however i if in into is it its
itself just least less let like made many may me might mine more most much must my myself
neither never no nobody none nor not nothing now of off often on once one only onto or other
others otherwise our ours ourselves out over own per quite rather really same shall she should
since so some somebody someone something sometimes still such than that the their theirs them
themselves then there therefore these they this those though through thus to together too
toward towards under until up upon us very via was we well were what whatever when whenever
where whereas wherever whether which while who whoever whole whom whose why will with within
without would yet you your yours yourself yourselves
dont doesnt didnt cant couldnt wont wouldnt shouldnt isnt arent wasnt werent hasnt havent
hadnt im ive id ill youre youve youd theyre theyve weve wed thats theres whats lets hes shes
"""
# Words every Slack message or improvement idea is full of: they say nothing about the topic.
_FILLER = """
hi hello hey thanks thank cheers please pls folks everyone anyone team colleagues guys
idea ideas suggest suggested suggesting suggestion suggestions propose proposed proposing
proposal proposals think thinking thought maybe perhaps
lol fyi asap eg ie eta tbh imo btw ok okay yes yeah
nhs improve improved improves improving improvement improvements better good great new
get gets got getting make makes making use used uses using way ways lot lots bit thing things
stuff need want wants would could
"""
STOPWORDS = frozenset((_ENGLISH + _FILLER).split())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Light suffix folding: plurals, -ier/-ied, -ation/-ate, -ing/-ed and a final e.

    Deliberately simpler than Porter: it only has to map a word's common forms to one key
    (discharge, discharges, discharged, discharging -> discharg), never to a real word.
    Stems must keep four letters (two for plurals) so short words are left alone.
    """
    if len(word) >= 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("sses"):
            word = word[:-2]
        else:
            word = word[:-1]
    if len(word) <= 4:
        return word
    for suffix, replacement in (("iest", "y"), ("ier", "y"), ("ied", "y")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    for suffix in ("ation", "ating", "ated", "ate", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if suffix in ("ing", "ed") and word[-1] == word[-2] and word[-1] not in "aeioulsfz":
                word = word[:-1]  # stopped -> stop, planned -> plan
            return word
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def _plain(text: str) -> str:
    """Lowercase text without accents, Slack markup, links, addresses or emoji codes."""
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    text = _SLACK_LINK.sub(lambda m: " " + (m.group(2) or "") + " ", text)
    text = _SLACK_REF.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _EMOJI.sub(" ", text)
    text = _AMPERSAND_WORD.sub("", text)
    return _APOSTROPHE.sub("", text)


def terms(text: str) -> list[str]:
    """The index terms of a text, in order and with repeats (counts are term frequencies).

    Lowercase words without stopwords (English and Slack/NHS filler), stemmed with ``stem``;
    Slack mentions, channel links, URLs, emails, emoji codes and punctuation are dropped,
    numbers only survive inside words ("covid19"), and single letters go. The same text
    always gives the same terms, so they can be stored in the SQL term index.
    """
    found: list[str] = []
    for token in _TOKEN.findall(_plain(text + " ")):
        if len(token) < 2 or len(token) > MAX_TERM_LENGTH or token in STOPWORDS:
            continue
        if not any(ch.isalpha() for ch in token):
            continue
        found.append(stem(token))
    return found


# ---------------------------------------------------------------------- the interface


@dataclass(frozen=True)
class Candidate:
    """An open idea that might be similar: its id and the text to compare."""

    id: int
    text: str


@dataclass(frozen=True)
class Match:
    """A similar idea and how similar it is, from 0 (unrelated) to 1 (the same)."""

    id: int
    score: float


class Ranker(Protocol):
    """Orders candidates by similarity to a query; ``name`` says which engine did it.

    ``threshold=None`` means the engine's own default: scores are only comparable within
    one engine, so callers should not pass one engine's threshold to another.
    """

    name: str

    def rank(
        self,
        query: str,
        candidates: Sequence[Candidate],
        limit: int = 3,
        threshold: float | None = None,
    ) -> list[Match]: ...


def _top(scored: list[Match], limit: int, threshold: float) -> list[Match]:
    """Best first, ties by id so the order never depends on the input's order."""
    rounded = [Match(m.id, round(m.score, 6)) for m in scored]  # 0.9999999999999999 ties 1.0
    kept = [m for m in rounded if m.score >= threshold and m.score > 0.0]
    kept.sort(key=lambda m: (-m.score, m.id))
    return kept[: max(limit, 0)]


def _unique(candidates: Sequence[Candidate]) -> list[Candidate]:
    seen: set[int] = set()
    unique = []
    for candidate in candidates:
        if candidate.id not in seen:
            seen.add(candidate.id)
            unique.append(candidate)
    return unique


# ---------------------------------------------------------------------- TF-IDF

DocumentFrequency = Callable[[list[str]], tuple[dict[str, int], int]]


class TfidfRanker:
    """Cosine similarity of TF-IDF vectors, in pure Python.

    IDF comes from the candidates themselves, raised to the corpus counts when
    ``document_frequency(terms) -> ({term: ideas containing it}, number of ideas)`` is
    given (the caller answers it from its SQL term index), so words common across the
    community weigh little even when the candidate set is small. Term frequency is
    sublinear (1 + ln tf) and IDF smoothed (ln((1 + N) / (1 + df)) + 1).

    The default threshold, 0.2, keeps ideas that share one incidental word out: a query
    and an idea sharing one of three or four distinctive terms score about 0.25 to 0.3,
    sharing most of them 0.5 and above.
    """

    name = "tf-idf"
    DEFAULT_THRESHOLD = 0.2

    def __init__(
        self,
        document_frequency: DocumentFrequency | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.document_frequency = document_frequency
        self.threshold = threshold

    def rank(
        self,
        query: str,
        candidates: Sequence[Candidate],
        limit: int = 3,
        threshold: float | None = None,
    ) -> list[Match]:
        query_tf = Counter(terms(query))
        if not query_tf or limit <= 0:
            return []
        documents = [(c.id, Counter(terms(c.text))) for c in _unique(candidates)]
        documents = [(idea_id, tf) for idea_id, tf in documents if tf]
        if not documents:
            return []
        idf = self._idf(query_tf, [tf for _, tf in documents])
        query_vector = _weights(query_tf, idf)
        query_norm = _norm(query_vector)
        scored = []
        for idea_id, tf in documents:
            vector = _weights(tf, idf)
            dot = sum(weight * vector.get(term, 0.0) for term, weight in query_vector.items())
            if dot > 0.0:
                scored.append(Match(idea_id, min(1.0, dot / (query_norm * _norm(vector)))))
        return _top(scored, limit, self.threshold if threshold is None else threshold)

    def _idf(self, query_tf: Counter[str], documents: list[Counter[str]]) -> dict[str, float]:
        local = Counter(term for tf in documents for term in tf)
        vocabulary = sorted(set(local) | set(query_tf))
        total = len(documents)
        frequency: dict[str, int] = dict(local)
        if self.document_frequency is not None:
            corpus, corpus_total = self.document_frequency(vocabulary)
            total = max(total, corpus_total)
            for term in vocabulary:
                frequency[term] = max(frequency.get(term, 0), int(corpus.get(term, 0)))
        return {
            term: math.log((1 + total) / (1 + min(frequency.get(term, 0), total))) + 1.0
            for term in vocabulary
        }


def _weights(tf: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    return {term: (1.0 + math.log(count)) * idf[term] for term, count in tf.items()}


def _norm(vector: dict[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


# ---------------------------------------------------------------------- embeddings


class EmbeddingError(Exception):
    """The embeddings API answered, but not with one vector per input."""


class EmbeddingRanker:
    """Cosine similarity of OpenAI embeddings, with TF-IDF as the safety net.

    Each ``rank`` makes one embeddings request for the query and every candidate not yet
    in ``cache`` (id -> vector; pass a shared mapping to keep vectors between calls, and
    drop an idea's entry when its text changes). Inputs are cut to ``MAX_INPUT_CHARS``.
    Any OpenAI error (timeouts, 5xx or 429 once the client's retries are spent) logs one
    warning and returns ``fallback``'s ranking (TF-IDF by default) at its own threshold.

    The default threshold, 0.55, is for text-embedding-3 models, whose cosine scores for
    unrelated short texts sit around 0.1 to 0.3 and for the same idea in other words
    around 0.6 to 0.8 (older ada-002 scores crowd near 0.7 to 1.0 and need about 0.85).
    """

    name = "embeddings"
    DEFAULT_THRESHOLD = 0.55
    MAX_INPUT_CHARS = 2000  # about 500 tokens: an idea's title and description, not a thread
    MAX_BATCH = 512  # inputs a request; 512 x 500 tokens stays under the 300k-token cap
    MAX_OWN_CACHE = 5000  # vectors kept when no cache is passed in

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        cache: MutableMapping[int, list[float]] | None = None,
        fallback: Ranker | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        dimensions: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        if timeout is not None:
            client = client.with_options(timeout=timeout)
        if max_retries is not None:
            client = client.with_options(max_retries=max_retries)
        self.client = client
        self.model = model
        self._owns_cache = cache is None
        self.cache: MutableMapping[int, list[float]] = {} if cache is None else cache
        self.fallback: Ranker = fallback if fallback is not None else TfidfRanker()
        self.threshold = threshold
        self.dimensions = dimensions

    def rank(
        self,
        query: str,
        candidates: Sequence[Candidate],
        limit: int = 3,
        threshold: float | None = None,
    ) -> list[Match]:
        import openai

        pool = [c for c in _unique(candidates) if c.text.strip()]
        if not query.strip() or not pool or limit <= 0:
            return []
        try:
            query_vector, vectors = self._vectors(query, pool)
        except (openai.OpenAIError, EmbeddingError) as exc:
            logger.warning(
                "similar ideas: the embeddings request to %s failed (%s); ranking with %s instead",
                self.model,
                _describe(exc),
                self.fallback.name,
            )
            return self.fallback.rank(query, candidates, limit)
        scored = [
            Match(c.id, max(0.0, min(1.0, _cosine(query_vector, vectors[c.id])))) for c in pool
        ]
        return _top(scored, limit, self.threshold if threshold is None else threshold)

    def _vectors(
        self, query: str, pool: list[Candidate]
    ) -> tuple[list[float], dict[int, list[float]]]:
        """The query's vector and every candidate's, embedding what the cache lacks."""
        cached = {c.id: self.cache.get(c.id) for c in pool}
        missing = [c for c in pool if cached[c.id] is None]
        fresh = self._embed([query, *(c.text for c in missing)])
        query_vector = fresh[0]
        found = {c.id: v for c, v in zip(missing, fresh[1:], strict=True)}
        # Vectors of another size (another model or `dimensions`) cannot be compared: redo them.
        stale = [
            c for c in pool if c.id not in found and len(cached[c.id] or ()) != len(query_vector)
        ]
        if stale:
            found.update(
                zip((c.id for c in stale), self._embed([c.text for c in stale]), strict=True)
            )
        for idea_id, vector in found.items():
            self.cache[idea_id] = vector
        if self._owns_cache:
            while len(self.cache) > self.MAX_OWN_CACHE:
                del self.cache[next(iter(self.cache))]
        return query_vector, {c.id: found.get(c.id) or cached[c.id] or [] for c in pool}

    def _embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.MAX_BATCH):
            # Redacted before the cut, so no identifier is half-kept by it.
            batch = [
                _clip(redact(text), self.MAX_INPUT_CHARS)
                for text in texts[start : start + self.MAX_BATCH]
            ]
            extra = {"dimensions": self.dimensions} if self.dimensions else {}
            response = self.client.embeddings.create(
                model=self.model, input=batch, encoding_format="float", **extra
            )
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(batch) or any(not isinstance(d.embedding, list) for d in data):
                raise EmbeddingError(f"expected {len(batch)} vectors, got {len(data)}")
            vectors.extend([float(x) for x in d.embedding] for d in data)
        return vectors


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text[:limit]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def _describe(exc: Exception) -> str:
    """A short reason for the log: the status for API errors, else the error's class."""
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"{name}, HTTP {status}" if status else name


# ---------------------------------------------------------------------- choosing an engine

# The similar-ideas step runs while someone waits: a short budget, no retries, then TF-IDF.
SIMILARITY_TIMEOUT_SECONDS = 1.5
SIMILARITY_MAX_RETRIES = 0


def make_ranker(
    settings: Settings,
    client: openai.OpenAI | None = None,
    cache: MutableMapping[int, list[float]] | None = None,
    *,
    document_frequency: DocumentFrequency | None = None,
    timeout: float | None = SIMILARITY_TIMEOUT_SECONDS,
    max_retries: int | None = SIMILARITY_MAX_RETRIES,
) -> Ranker:
    """Embeddings when an LLM client is configured (``OPENAI_API_KEY``), else TF-IDF.

    Either way TF-IDF uses ``document_frequency`` (from the SQL term index) when given.
    Without ``client`` the process-wide shared client is used. ``timeout``/``max_retries``
    tighten it for this interactive step (inside Slack's 3 s view-submission deadline);
    pass None to keep the client's own (20 s, two retries). Pass a ``cache`` that outlives
    the call (one per database) or every call embeds every candidate again.
    """
    tfidf = TfidfRanker(document_frequency)
    client = client if client is not None else shared_llm_client(settings)
    if client is None:
        return tfidf
    return EmbeddingRanker(
        client,
        llm_model(settings, "embedding"),
        cache,
        fallback=tfidf,
        timeout=timeout,
        max_retries=max_retries,
    )
