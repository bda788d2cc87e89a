"""What people wrote in a pulse, shown only as what many of them said: frequent phrases,
and themes the summariser finds that quote nobody.

A phrase is shown only when at least the comment minimum of people used it (and never
fewer than two); a theme only when at least that many people's words carry it and no run
of words in it comes from fewer. Only closed runs have written answers to read.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.learning.summariser import Point, Source, make_summariser
from bot.learning.usage import record_usage
from bot.pulse.questions import FREE_TEXT
from bot.similarity import STOPWORDS
from storage import Pulse, PulseAnswer

if TYPE_CHECKING:
    from bot.pulse.results import RunResults

TOP_PHRASES = 5
_WORD = re.compile(r"[a-z][a-z'-]*")


def phrases(
    texts: Sequence[str], minimum: int, limit: int = TOP_PHRASES
) -> tuple[tuple[str, int], ...]:
    """Most frequent words and two-word phrases, counted once per person (one text each),
    kept only when at least ``minimum`` people used them (a phrase few people wrote could
    identify them)."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = [word.strip("'-") for word in _WORD.findall(text.lower())]
        words = [word for word in words if word and word not in STOPWORDS and len(word) > 2]
        found = set(words) | {f"{a} {b}" for a, b in pairwise(words)}
        counts.update(found)
    common = [(phrase, people) for phrase, people in counts.items() if people >= max(minimum, 2)]
    common.sort(key=lambda item: (-item[1], -item[0].count(" "), item[0]))
    return tuple(common[:limit])


def written_answers(session: Session, results: RunResults) -> list[str]:
    """Each respondent's written answers to the questions shown, one text per person."""
    shown = [q.index for q in results.questions if q.kind == FREE_TEXT and not q.withheld]
    if results.withheld or not shown:
        return []
    rows = session.exec(
        select(PulseAnswer.respondent, PulseAnswer.text).where(
            PulseAnswer.run_id == results.run_id,
            col(PulseAnswer.question).in_(shown),
            col(PulseAnswer.text).is_not(None),
        )
    )
    by_person: dict[str, list[str]] = defaultdict(list)
    for respondent, text in rows:
        if text and text.strip():
            by_person[respondent].append(text.strip())
    return sorted("\n".join(texts) for texts in by_person.values())


QUOTE_WORDS = 5  # this many words in a row from fewer people than the minimum is a quote


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + QUOTE_WORDS]) for i in range(len(words) - QUOTE_WORDS + 1)}


def safe_theme(point: Point, texts: Sequence[str], minimum: int) -> bool:
    """A theme may be shown when at least ``minimum`` people's words carry it and it
    quotes nobody: no run of words in it comes from fewer than ``minimum`` people."""
    if len(set(point.sources)) < minimum:
        return False
    said = [_shingles(text) for text in texts]
    for shingle in _shingles(point.text):
        people = sum(1 for words in said if shingle in words)
        if 0 < people < minimum:
            return False
    return True


def theme_points(
    session: Session, settings: Settings, pulse: Pulse, results: RunResults
) -> tuple[tuple[str, ...], str | None]:
    """Themes in what people wrote, by the learning summariser (redacted before any model
    sees it; the offline engine without one): each from at least the comment minimum of
    people, one source per person, and never anyone's own sentence. With the summariser's
    notice, if it gave one."""
    texts = written_answers(session, results)
    minimum = max(results.comment_min, results.anonymity_min)
    if len(texts) < minimum:
        return (), None
    summary = make_summariser(settings).digest(
        [Source(t, kind="pulse_comment") for t in texts], min_sources=minimum
    )
    record_usage(session, pulse.team_id, "pulse_themes", summary.usage, None)
    found = (*summary.key_themes, *summary.challenges, *summary.whats_working)
    points = tuple(p.text for p in found if safe_theme(p, texts, minimum))[:5]
    return points, summary.notice


def themes(results: RunResults) -> list[str]:
    """The free-text phrases safe to show (two or more people, group above the minimum),
    most frequent first, each once: what a lead can turn into a challenge."""
    if results.withheld:
        return []
    found = [phrase for q in results.questions if not q.withheld for phrase, _ in q.phrases]
    return list(dict.fromkeys(found))
