"""Digests and case-study drafts from community conversations, by a language model or offline.

``Summariser.digest`` and ``Summariser.case_study`` never raise for model trouble: with no
client, or when the model fails, times out, is rate limited, refuses or answers something
unusable, they return the offline engine's result (``bot.learning.offline``) with a one-line
``notice`` saying so in plain words. Every call to the model is recorded as a ``Usage``.

What leaves copbot: each source's text after ``redact`` (one ``Labeller`` a job, so "Person
2" is the same colleague throughout), its kind and a local id; never its author or link.
The sources travel as a JSON array, one item a line, between BEGIN/END lines in the user
message; JSON escapes newlines, so no text can forge the END line, and the system prompt
says the data is never an instruction. What comes back is validated against the JSON
schema the request asked for, ids outside the data are dropped, and every string is
redacted again and neutralised (no ``<!channel>``, ``@here``, ``<@U...>`` or group ping can
survive; the caller still escapes for mrkdwn) and capped.

Long inputs are map-reduced: sources are packed into chunks of ``token_budget`` tokens, one
"map" call each drafts points citing its sources, then a "reduce" call merges the drafts,
citing draft ids that are mapped back to the sources (reducing in stages if the drafts
themselves overflow the budget).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.learning import offline
from bot.learning.answers import (
    CASE_STUDY_FIELDS,
    CASE_STUDY_SCHEMA,
    NOTICE_EMPTY,
    NOTICE_FAILED,
    NOTICE_NO_MODEL,
    NOTICE_REFUSED,
    NOTICE_UNUSABLE,
    SECTIONS,
    Fallback,
    conforms,
    digest_schema,
    neutralise,
    reason,
)
from bot.learning.prompts import load
from bot.learning.tokens import chunk, count_tokens, truncate_to_tokens
from bot.llm import llm_model, shared_llm_client
from bot.redaction import Labeller, redact
from bot.text import truncate

if TYPE_CHECKING:
    import openai

    from bot.config import Settings

logger = logging.getLogger(__name__)

KINDS = ("message", "reflection", "idea", "pulse_comment", "exchange_reflection", "thread_reply")
_PLURALS = {
    "message": "messages",
    "reflection": "reflections",
    "idea": "ideas",
    "pulse_comment": "pulse comments",
    "exchange_reflection": "exchange reflections",
    "thread_reply": "thread replies",
}
MAX_POINTS = offline.MAX_POINTS
MAX_POINT_CHARS = offline.MAX_POINT_CHARS
MAX_POINT_SOURCES = offline.MAX_POINT_SOURCES
MAX_TITLE_CHARS = 120
MAX_SECTION_CHARS = 1200
MAX_SOURCE_CHARS = 6000  # a longer message is cut before counting: nobody posts a novel
MAX_REDUCE_LEVELS = 3  # stages of reducing before one final reduce over whatever is left


# ---------------------------------------------------------------------- the interface


@dataclass(frozen=True)
class Source:
    """One text to summarise and where it came from (``author`` never leaves copbot)."""

    text: str
    ref: str = ""  # permalink or other link back to the source ("" when none)
    kind: str = "message"  # one of KINDS
    author: str = ""  # Slack user id, used only to label people ("Person 1")


@dataclass(frozen=True)
class Point:
    """One line of a digest and the indices of the sources behind it (for permalinks)."""

    text: str
    sources: tuple[int, ...] = ()


@dataclass(frozen=True)
class Usage:
    """One model call: for cost reports (``/digest usage``) and for spotting failures."""

    model: str
    tokens_in: int
    tokens_out: int
    duration_ms: int
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class DigestSummary:
    key_themes: tuple[Point, ...]
    whats_working: tuple[Point, ...]  # top tips
    challenges: tuple[Point, ...]  # challenges and opportunities
    engine: str  # "llm" | "offline"
    notice: str = ""  # why the summary is offline, in one line; "" for llm
    usage: tuple[Usage, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.key_themes or self.whats_working or self.challenges)


@dataclass(frozen=True)
class CaseStudyDraft:
    title: str
    background: str
    approach: str  # "Our approach"
    challenges: str
    impact: str
    lessons: str  # "Lessons learned and next steps"
    engine: str
    notice: str = ""
    usage: tuple[Usage, ...] = ()


# ---------------------------------------------------------------------- the summariser


@dataclass(frozen=True)
class _Item:
    """A source as the model sees it: a global index, kind, redacted text and the author's
    neutral label ("Person 1"), so the model can tell voices apart without knowing them."""

    index: int
    kind: str
    text: str
    by: str = ""


@dataclass(frozen=True)
class _Draft:
    """A point in progress: section, text and the global source indices behind it."""

    section: str
    text: str
    sources: tuple[int, ...]


class Summariser:
    """Digests and case studies by ``client`` (an OpenAI-compatible client), else offline.

    ``token_budget`` is the size of the source data in one call, by ``count_tokens`` (the
    instructions add about 500 tokens, and the estimate may be 20% off, so the default stays
    far below any current model's context). ``timeout`` and ``max_retries`` apply to each
    call, overriding the client's own.
    """

    def __init__(
        self,
        client: openai.OpenAI | None,
        model: str = "gpt-4o-mini",
        *,
        token_budget: int = 6000,
        timeout: float = 20.0,
        max_retries: int = 2,
    ) -> None:
        self.client = client
        self.model = model
        self.token_budget = max(int(token_budget), 50)
        self.timeout = timeout
        self.max_retries = max_retries

    # ------------------------------------------------------------------ digest

    def digest(self, sources: Sequence[Source], *, min_sources: int = 1) -> DigestSummary:
        """Key themes, what's working and challenges; see the module docstring.

        ``min_sources``: a point is kept only when at least that many distinct sources
        carry it (anonymous pulse comments: the anonymity minimum, one source a person);
        above 1 the offline engine gives themes without quoting anyone's sentence."""
        people = Labeller()
        items = self._items(sources, people)
        if not items:
            return DigestSummary((), (), (), engine="offline", notice=NOTICE_EMPTY)
        if self.client is None:
            return self._offline_digest(items, NOTICE_NO_MODEL, [], min_sources)
        usage: list[Usage] = []
        try:
            drafts = self._llm_digest(items, usage)
        except Fallback as fallback:
            logger.warning("digest: %s", fallback.notice)
            return self._offline_digest(items, fallback.notice, usage, min_sources)
        except Exception:  # a bug must not cost the lead their digest
            logger.exception("digest: the language model path failed unexpectedly")
            return self._offline_digest(items, NOTICE_FAILED, usage, min_sources)
        sections = {
            name: tuple(
                point
                for point in self._points(drafts, name, len(sources), people)
                if min_sources <= 1 or len(set(point.sources)) >= min_sources
            )
            for name in SECTIONS
        }
        return DigestSummary(**sections, engine="llm", usage=tuple(usage))

    def _offline_digest(
        self, items: list[_Item], notice: str, usage: list[Usage], min_sources: int = 1
    ) -> DigestSummary:
        found = offline.digest(
            [i.text for i in items], [i.kind for i in items], min_sources=min_sources
        )

        def points(section: tuple[offline.OfflinePoint, ...]) -> tuple[Point, ...]:
            return tuple(
                Point(p.text, tuple(sorted({items[s].index for s in p.sources}))) for p in section
            )

        return DigestSummary(
            points(found.key_themes),
            points(found.whats_working),
            points(found.challenges),
            engine="offline",
            notice=notice,
            usage=tuple(usage),
        )

    def _llm_digest(self, items: list[_Item], usage: list[Usage]) -> list[_Draft]:
        lines = [self._line(i, item) for i, item in enumerate(items)]
        groups = chunk(lines, self.token_budget)
        drafts: list[_Draft] = []
        for group in groups:
            drafts.extend(self._map([items[i] for i in group], usage))
        if len(groups) == 1:
            return drafts
        # Reduce in stages only while each stage's parts hold several times what a reduce
        # returns (three sections of MAX_POINTS), so every stage shrinks the drafts; a budget
        # too small for that gets one reduce over all drafts, above the budget.
        for level in range(1, MAX_REDUCE_LEVELS + 1):
            lines = [self._draft_line(i, d) for i, d in enumerate(drafts)]
            parts = chunk(lines, self.token_budget)
            crowded = len(drafts) >= len(parts) * 2 * len(SECTIONS) * MAX_POINTS
            if len(parts) == 1 or not crowded or level == MAX_REDUCE_LEVELS:
                break
            drafts = [d for part in parts for d in self._reduce([drafts[i] for i in part], usage)]
        return self._reduce(drafts, usage)

    def _map(self, chunk_items: list[_Item], usage: list[Usage]) -> list[_Draft]:
        """One call over a chunk; the model sees local ids 0..n-1, mapped back here."""
        data = "\n".join(self._line(i, it) for i, it in enumerate(chunk_items))
        kinds = sorted({it.kind for it in chunk_items})
        system, user = load("digest").render(
            max_points=MAX_POINTS,
            max_chars=MAX_POINT_CHARS,
            count=len(chunk_items),
            kinds=", ".join(_PLURALS.get(k, k) for k in kinds),
            sources=data,
        )
        answer = self._call("digest_map", system, user, digest_schema("sources"), usage)
        return [
            _Draft(name, point["text"], self._refs(point["sources"], chunk_items))
            for name in SECTIONS
            for point in answer[name][:MAX_POINTS]
        ]

    def _reduce(self, drafts: list[_Draft], usage: list[Usage]) -> list[_Draft]:
        data = "\n".join(self._draft_line(i, d) for i, d in enumerate(drafts))
        system, user = load("digest_reduce").render(
            max_points=MAX_POINTS, max_chars=MAX_POINT_CHARS, count=len(drafts), points=data
        )
        answer = self._call("digest_reduce", system, user, digest_schema("from_points"), usage)
        merged: list[_Draft] = []
        for name in SECTIONS:
            for point in answer[name][:MAX_POINTS]:
                ids = [i for i in point["from_points"] if 0 <= i < len(drafts)]
                sources = sorted({s for i in ids for s in drafts[i].sources})
                merged.append(_Draft(name, point["text"], tuple(sources)))
        return merged

    @staticmethod
    def _refs(ids: list[int], chunk_items: list[_Item]) -> tuple[int, ...]:
        """Local ids to global source indices; ids the chunk does not have are dropped."""
        return tuple(sorted({chunk_items[i].index for i in ids if 0 <= i < len(chunk_items)}))

    @staticmethod
    def _points(
        drafts: list[_Draft], section: str, total: int, people: Labeller
    ) -> tuple[Point, ...]:
        """A section's final points: neutralised, capped, deduplicated, valid sources only."""
        points: list[Point] = []
        seen: set[str] = set()
        for draft in drafts:
            if draft.section != section:
                continue
            text = truncate(neutralise(draft.text, people), MAX_POINT_CHARS)
            if not text or text.casefold() in seen:
                continue
            seen.add(text.casefold())
            sources = tuple(s for s in draft.sources if 0 <= s < total)[:MAX_POINT_SOURCES]
            points.append(Point(text, sources))
            if len(points) >= MAX_POINTS:
                break
        return tuple(points)

    # ------------------------------------------------------------------ case study

    def case_study(self, sources: Sequence[Source]) -> CaseStudyDraft:
        """A draft case study from a thread (``sources[0]`` is the original post)."""
        people = Labeller()
        items = self._items(sources, people)
        if not items:
            return self._offline_case_study([], NOTICE_EMPTY, [])
        if self.client is None:
            return self._offline_case_study(items, NOTICE_NO_MODEL, [])
        usage: list[Usage] = []
        try:
            answer = self._llm_case_study(items, usage)
        except Fallback as fallback:
            logger.warning("case study: %s", fallback.notice)
            return self._offline_case_study(items, fallback.notice, usage)
        except Exception:
            logger.exception("case study: the language model path failed unexpectedly")
            return self._offline_case_study(items, NOTICE_FAILED, usage)
        fields: dict[str, str] = {}
        for name in CASE_STUDY_FIELDS:
            limit = MAX_TITLE_CHARS if name == "title" else MAX_SECTION_CHARS
            text = truncate(neutralise(answer[name], people, one_line=name == "title"), limit)
            fields[name] = text or ("Case study" if name == "title" else offline.EMPTY_SECTION)
        return CaseStudyDraft(**fields, engine="llm", usage=tuple(usage))

    def _offline_case_study(
        self, items: list[_Item], notice: str, usage: list[Usage]
    ) -> CaseStudyDraft:
        found = offline.case_study([i.text for i in items])
        return CaseStudyDraft(
            title=found.title,
            background=found.background,
            approach=found.approach,
            challenges=found.challenges,
            impact=found.impact,
            lessons=found.lessons,
            engine="offline",
            notice=notice,
            usage=tuple(usage),
        )

    def _llm_case_study(self, items: list[_Item], usage: list[Usage]) -> dict[str, str]:
        """One call; a thread over the budget is condensed to its best sentences first."""
        lines = [self._line(i, item) for i, item in enumerate(items)]
        if sum(count_tokens(line) for line in lines) > self.token_budget:
            overhead = sum(
                count_tokens(self._line(i, _Item(0, it.kind, "", it.by)))
                for i, it in enumerate(items)
            )
            texts = offline.condense(
                [it.text for it in items], max(self.token_budget - overhead, 50), count_tokens
            )
            items = [
                _Item(it.index, it.kind, t, it.by) for it, t in zip(items, texts, strict=True) if t
            ]
            lines = [self._line(i, item) for i, item in enumerate(items)]
        system, user = load("case_study").render(
            max_title=MAX_TITLE_CHARS,
            max_chars=MAX_SECTION_CHARS,
            empty=offline.EMPTY_SECTION,
            count=len(items),
            sources="\n".join(lines),
        )
        return self._call("case_study", system, user, CASE_STUDY_SCHEMA, usage)

    # ------------------------------------------------------------------ plumbing

    def _items(self, sources: Sequence[Source], people: Labeller) -> list[_Item]:
        """Redacted, non-empty sources, each cut to fit a call on its own."""
        items = []
        for index, source in enumerate(sources):
            by = people.label(source.author) if source.author.strip() else ""
            text = redact(source.text, people)[:MAX_SOURCE_CHARS]  # cut after: no half numbers
            text = text.replace("<", "‹").replace(">", "›")  # no markup reaches the model
            if not text.strip():
                continue
            kind = source.kind if source.kind in KINDS else "message"
            line = self._line(0, _Item(index, kind, text, by))
            # A token is at least one character, so only long lines need counting.
            if len(line) > self.token_budget and count_tokens(line) > self.token_budget:
                room = self.token_budget - count_tokens(self._line(0, _Item(index, kind, "", by)))
                text = truncate_to_tokens(text, max(room, 10))
            items.append(_Item(index, kind, text, by))
        return items

    @staticmethod
    def _line(local_id: int, item: _Item) -> str:
        """One source, compact: most are channel messages, so their kind is left out."""
        data: dict[str, Any] = {"id": local_id, "text": item.text}
        if item.kind != "message":
            data["kind"] = item.kind
        if item.by:
            data["by"] = item.by
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def _draft_line(local_id: int, draft: _Draft) -> str:
        return json.dumps(
            {"id": local_id, "section": draft.section, "text": draft.text},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def _call(
        self, name: str, system: str, user: str, schema: dict[str, Any], usage: list[Usage]
    ) -> dict[str, Any]:
        """One chat completion with a strict JSON schema; its ``Usage`` is appended either way.

        Raises ``Fallback`` for any SDK error, a refusal, a cut-off, non-JSON or JSON that
        does not fit ``schema``.
        """
        import openai

        assert self.client is not None
        client = self.client.with_options(timeout=self.timeout, max_retries=self.max_retries)
        tokens_in = count_tokens(system) + count_tokens(user) + 8
        started = time.monotonic()

        def record(ok: bool, tokens_out: int = 0, error: str = "", response: Any = None) -> None:
            counted_in, counted_out = tokens_in, tokens_out
            reported = getattr(response, "usage", None)
            if reported is not None:
                counted_in = getattr(reported, "prompt_tokens", None) or counted_in
                counted_out = getattr(reported, "completion_tokens", None) or counted_out
            elapsed = int((time.monotonic() - started) * 1000)
            usage.append(Usage(self.model, counted_in, counted_out, elapsed, ok, error))

        try:
            response = client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": name, "strict": True, "schema": schema},
                },
            )
        except openai.OpenAIError as exc:
            notice, error = reason(exc)
            record(False, error=error)
            raise Fallback(notice) from None

        choice = response.choices[0] if response.choices else None
        message = choice.message if choice is not None else None
        content = (message.content if message is not None else None) or ""
        tokens_out = count_tokens(content)
        if message is None or getattr(message, "refusal", None) or not content.strip():
            record(False, tokens_out, "refused or empty", response)
            raise Fallback(NOTICE_REFUSED)
        if choice is not None and choice.finish_reason == "content_filter":
            record(False, tokens_out, "content filter", response)
            raise Fallback(NOTICE_REFUSED)
        if choice is not None and choice.finish_reason == "length":
            record(False, tokens_out, "answer cut short", response)
            raise Fallback(NOTICE_UNUSABLE)
        try:
            answer = json.loads(content)
        except ValueError:
            record(False, tokens_out, "not JSON", response)
            raise Fallback(NOTICE_UNUSABLE) from None
        if not conforms(answer, schema):
            record(False, tokens_out, "JSON does not fit the schema", response)
            raise Fallback(NOTICE_UNUSABLE)
        record(True, tokens_out, response=response)
        return answer


def make_summariser(settings: Settings) -> Summariser:
    """The summariser for this deployment: the shared client and chat model, or offline."""
    return Summariser(
        shared_llm_client(settings),
        llm_model(settings, "chat"),
        timeout=settings.copbot_llm_timeout,
    )
