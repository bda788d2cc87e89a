"""The offline engine: extractive digests and case studies from the sources' own sentences.

It runs when no language model is configured or the model fails, so it must never fail and
never invent: every point is a sentence a member wrote (already redacted), ranked and sorted.

- Sentences are split and ranked by TF-IDF centroid similarity (``bot.learning.sentences``).
- Key themes are the terms found in the most sources, each shown with its best sentence.
- Cue words sort sentences into what is working (worked, helped, reduced, saved, tip...)
  and challenges and opportunities (barrier, delay, struggle, lack, could, should...); a
  negation ("didn't help", "not working") turns a good cue into a challenge.

Everything is deterministic: ties break on source and sentence order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.learning.sentences import (
    FIGURE,
    LABEL,
    MAX_POINT_SOURCES,
    WORD,
    Ranked,
    Sentence,
    sentences_of,
    word_set,
)
from bot.similarity import STOPWORDS, stem
from bot.text import truncate

MAX_POINTS = 5
MAX_POINT_CHARS = 300
EMPTY_SECTION = "Not described in the thread yet."

# ---------------------------------------------------------------------- cue words

_GOOD = word_set(
    """
    work works worked helped helps helping helpful improved improving improves improvement
    success successful successfully tip tips recommend recommended effective easier faster
    quicker freed benefit benefits positive achieved win wins great excellent brilliant
    love loved liked valuable useful smoother trick worth
    """
)
# Changes that improve a problem count double: "reduced delays" is good news.
_BETTER = word_set(
    "reduced reduce reduces reducing reduction saved saves saving cut halved fewer shorter "
    "lower dropped prevented avoided increased increase sped"
)
_BAD = word_set(
    """
    barrier barriers problem problems issue issues delay delays delayed struggle struggled
    struggling difficult difficulty difficulties hard cant cannot couldnt lack lacking lacks
    shortage shortages pressure pressures backlog blocked blocker frustrating frustrated
    frustration worry worried concern concerns risk risks stuck slow waiting confusing
    unclear challenge challenges challenging burnout tired overwhelmed exhausted fail failed
    failing failure missing gap gaps workload understaffed complaint complaints
    obstacle obstacles bottleneck bottlenecks unable resistance tricky
    """
)
_OPPORTUNITY = word_set(
    "could should would opportunity opportunities wish hope idea ideas suggest suggestion "
    "propose proposal potential consider"
)
_NEGATION = word_set(
    "not no never didnt doesnt dont isnt wasnt wont hasnt havent arent werent nothing"
)


def _plain_word(word: str) -> str:
    return word.replace("'", "").replace("’", "")


def cue_scores(sentence: Sentence) -> tuple[float, float]:
    """(working, challenge) cue weights of a sentence; negated good cues count as bad."""
    words = [_plain_word(w) for w in sentence.words]
    good = bad = 0.0
    for i, word in enumerate(words):
        negated = any(w in _NEGATION for w in words[max(0, i - 3) : i])
        if word in _GOOD or word in _BETTER:
            weight = 2.0 if word in _BETTER else 1.0
            if negated:
                bad += weight
            else:
                good += weight
        elif word in _BAD:
            bad += 1.0
        elif word in _OPPORTUNITY:
            bad += 0.5
    return good, bad


# ---------------------------------------------------------------------- themes

_NOT_THEMES = frozenset(
    stem(w)
    for w in word_set(
        """
    week weeks today yesterday tomorrow time times day days month months year years people
    staff team teams patient patients person also know see say said go going come take try
    tried start started look looking still since first last next share shared sharing
    number email phone postcode date birth hospital channel work worked working help helped
    really feel felt keep kept week's everyone somebody
    """
    )
)


def _surface_forms(texts: Sequence[str]) -> dict[str, Counter[str]]:
    """For each stem, the words that produced it, so a theme can be shown as a real word."""
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        for word in WORD.findall(LABEL.sub(" ", text).lower()):
            word = _plain_word(word)
            if len(word) < 3 or word in STOPWORDS or not word.isalpha():
                continue
            forms.setdefault(stem(word), Counter())[word] += 1
    return forms


def theme_terms(
    sentences: Sequence[Sentence], min_sources: int = 1
) -> list[tuple[str, tuple[int, ...]]]:
    """Terms that recur across sources, best first, with the sources that use them.

    A term's weight is the number of sources using it times (1 + ln of its total count);
    with three or more sources a theme must appear in at least two, and always in at
    least ``min_sources``.
    """
    by_term: dict[str, set[int]] = {}
    counts: Counter[str] = Counter()
    for sentence in sentences:
        for term, count in sentence.tf.items():
            if term in _NOT_THEMES or len(term) < 3:
                continue
            by_term.setdefault(term, set()).add(sentence.source)
            counts[term] += count
    active_sources = {s.source for s in sentences}
    least = max(2 if len(active_sources) >= 3 else 1, min_sources)
    ranked = sorted(
        (term for term, sources in by_term.items() if len(sources) >= least),
        key=lambda t: (-len(by_term[t]) * (1.0 + math.log(counts[t])), t),
    )
    return [(term, tuple(sorted(by_term[term]))) for term in ranked]


def _display(term: str, forms: dict[str, Counter[str]]) -> str:
    candidates = forms.get(term)
    word = min(candidates.items(), key=lambda kv: (-kv[1], kv[0]))[0] if candidates else term
    return word[:1].upper() + word[1:]


# ---------------------------------------------------------------------- digest


@dataclass(frozen=True)
class OfflinePoint:
    """A point before it becomes the summariser's ``Point``: text and source indices."""

    text: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class OfflineDigest:
    key_themes: tuple[OfflinePoint, ...]
    whats_working: tuple[OfflinePoint, ...]
    challenges: tuple[OfflinePoint, ...]


def _cap(text: str) -> str:
    return truncate(text, MAX_POINT_CHARS)


def digest(
    texts: Sequence[str],
    kinds: Sequence[str] | None = None,
    *,
    max_points: int = MAX_POINTS,
    min_sources: int = 1,
) -> OfflineDigest:
    """Key themes, what is working and challenges from ``texts`` (redacted source texts).

    Source indices in the points are positions in ``texts``. Ideas count as opportunities,
    so an idea's sentence without a cue of either kind goes to challenges and opportunities.
    With ``min_sources`` above 1 (anonymous comments) only themes are given, each a term
    at least that many sources use and how many, never a sentence: one person's sentence
    could identify them.
    """
    kinds = list(kinds) if kinds is not None else ["message"] * len(texts)
    sentences = sentences_of(texts)
    if not sentences:
        return OfflineDigest((), (), ())
    if min_sources > 1:
        return OfflineDigest(_unquoted_themes(texts, sentences, max_points, min_sources), (), ())
    ranked = Ranked.of(sentences)

    working: list[int] = []
    challenges: list[int] = []
    for i, sentence in enumerate(sentences):
        good, bad = cue_scores(sentence)
        if good > bad:
            working.append(i)
        elif bad or kinds[sentence.source] == "idea":
            challenges.append(i)  # ties go to challenges: "we struggled until X helped"

    forms = _surface_forms(texts)
    themes: list[OfflinePoint] = []
    used: list[int] = []
    total = len({s.source for s in sentences})
    for term, sources in theme_terms(sentences):
        if len(themes) >= max_points:
            break
        holders = [i for i, s in enumerate(sentences) if term in s.tf]
        best = ranked.pick(holders, 1, taken=used)
        if not best:
            continue  # its best sentence already speaks for an earlier theme
        index = best[0][0]
        used.append(index)
        label = _display(term, forms)
        share = f" ({len(sources)} of {total} sources)" if total > 1 else ""
        themes.append(
            OfflinePoint(
                _cap(f"{label}{share}: {sentences[index].text}"), sources[:MAX_POINT_SOURCES]
            )
        )

    def section(indices: list[int]) -> tuple[OfflinePoint, ...]:
        return tuple(
            OfflinePoint(_cap(sentences[i].text), sources)
            for i, sources in ranked.pick(indices, max_points)
        )

    return OfflineDigest(tuple(themes), section(working), section(challenges))


def _unquoted_themes(
    texts: Sequence[str], sentences: Sequence[Sentence], max_points: int, min_sources: int
) -> tuple[OfflinePoint, ...]:
    forms = _surface_forms(texts)
    total = len({s.source for s in sentences})
    return tuple(
        OfflinePoint(f"{_display(term, forms)} (mentioned in {len(sources)} of {total})", sources)
        for term, sources in theme_terms(sentences, min_sources)[:max_points]
    )


# ---------------------------------------------------------------------- case study

_SECTION_CUES: dict[str, frozenset[str]] = {
    "background": word_set(
        "because previously before used problem noticed context currently historically "
        "baseline data showed aim aimed wanted why background often every"
    ),
    "approach": word_set(
        "tried started introduced set setup piloted pilot tested test trialled trial launched "
        "designed codesigned implemented created built changed ran run pdsa "
        "approach brought moved added developed rolled adopted agreed mapped "
        "huddle huddles"
    ),
    "challenges": _BAD,
    "impact": word_set(
        "reduced reduction increased saved fewer shorter impact result results outcome "
        "outcomes improved feedback halved dropped rose fell achieved difference "
        "measured"
    ),
    "lessons": word_set(
        "lesson lessons learned learnt learning next plan plans planning will recommend "
        "tip tips advice spread scale future wish hindsight would key remember"
    ),
}
_SECTION_ORDER = ("background", "approach", "challenges", "impact", "lessons")
_PER_SECTION = 3
_TITLE_CHARS = 90


@dataclass(frozen=True)
class OfflineCaseStudy:
    title: str
    background: str
    approach: str
    challenges: str
    impact: str
    lessons: str


def _title(sentences: Sequence[Sentence], texts: Sequence[str]) -> str:
    first = next((s.text for s in sentences if s.source == 0), "")
    if not first:
        first = next((line.strip() for t in texts for line in t.splitlines() if line.strip()), "")
    title = first.rstrip(" .!?:;,")
    if len(title) > _TITLE_CHARS:
        title = title[:_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return title or "Case study"


def case_study(texts: Sequence[str]) -> OfflineCaseStudy:
    """Six sections from a thread (``texts[0]`` is the original post), by cue and position.

    Each sentence goes to the section whose cue words it matches most (figures count
    towards impact); the original post's opening sentence, and its next ones unless a cue
    says otherwise, are the background. Within a
    section the best sentences are kept in thread order. Empty sections say so.
    """
    sentences = sentences_of(texts)
    ranked = Ranked.of(sentences) if sentences else Ranked([], [], [])
    buckets: dict[str, list[int]] = {name: [] for name in _SECTION_ORDER}
    for i, sentence in enumerate(sentences):
        words = {_plain_word(w) for w in sentence.words}
        scores: dict[str, float] = {n: len(words & cues) for n, cues in _SECTION_CUES.items()}
        if FIGURE.search(sentence.text):
            scores["impact"] += 2
        good, _bad = cue_scores(sentence)
        if good and scores["impact"]:
            scores["impact"] += 1
        if sentence.source == 0 and sentence.position == 0:
            scores["background"] += 100  # the post opens with its context
        elif sentence.source == 0 and sentence.position < 3:
            scores["background"] += 0.5  # early in the post: context unless a cue says otherwise
        best = max(_SECTION_ORDER, key=lambda name: (scores[name], -_SECTION_ORDER.index(name)))
        if scores[best] > 0:
            buckets[best].append(i)

    def text_of(name: str) -> str:
        chosen = sorted(i for i, _ in ranked.pick(buckets[name], _PER_SECTION))
        return " ".join(sentences[i].text for i in chosen) or EMPTY_SECTION

    return OfflineCaseStudy(
        title=_title(sentences, texts),
        background=text_of("background"),
        approach=text_of("approach"),
        challenges=text_of("challenges"),
        impact=text_of("impact"),
        lessons=text_of("lessons"),
    )


def condense(texts: Sequence[str], budget: int, count: Callable[[str], int]) -> list[str]:
    """``texts`` cut to about ``budget`` tokens (by ``count``) by keeping their best sentences.

    For a thread too long for one model call: the original post's first two sentences are
    always kept, then the best-ranked sentences while they fit; each text keeps its chosen
    sentences in order, with "…" where some were left out ("" when none were kept).
    """
    sentences = sentences_of(texts)
    if not sentences:
        return [truncate(t, 400) for t in texts]
    ranked = Ranked.of(sentences)
    first = [i for i, s in enumerate(sentences) if s.source == 0 and s.position < 2]
    keep: set[int] = set()
    used = 0
    for i in [*first, *ranked.order([i for i in range(len(sentences)) if i not in first])]:
        cost = count(sentences[i].text) + 1
        if used + cost > budget and keep:
            continue
        keep.add(i)
        used += cost
    result: list[str] = []
    for source in range(len(texts)):
        mine = [i for i, s in enumerate(sentences) if s.source == source]
        chosen = [sentences[i].text for i in mine if i in keep]
        if not chosen:
            result.append("")
            continue
        joined = " ".join(chosen)
        result.append(joined if len(chosen) == len(mine) else joined + " …")
    return result
