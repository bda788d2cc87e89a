"""What leads see when a run closes: safe by construction.

Nothing is shown for fewer than the anonymity minimum: not the run (fewer respondents),
not a question (fewer answers to it), not a group in a breakdown (folded by
``fold_small_groups``, complementary suppression included), not a group's mean when any
group's answers to that question are too few to subtract safely. Only closed runs have
results: figures of an open run, read twice, would reveal the one answer in between.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlmodel import Session, col, select

from bot import audit, outbox
from bot.blocks import section
from bot.config import Settings
from bot.errors import UserError
from bot.ideas.insights import NOT_GIVEN, Breakdown, fold_small_groups
from bot.ids import as_id
from bot.learning.summariser import Source, make_summariser
from bot.learning.usage import record_usage
from bot.privacy import refuse_patient_identifiers
from bot.pulse.messages import results_blocks
from bot.pulse.questions import FREE_TEXT, NPS_0_10, SCALE_1_5, SINGLE_CHOICE, YES_NO
from bot.pulse.service import CLOSED, by_name
from bot.roles import Actor, Role
from bot.similarity import STOPWORDS
from bot.text import escape, truncate
from bot.workspaces import community_settings
from storage import Pulse, PulseAnswer, PulseParticipation, PulseRun

TREND_RUNS = 12
TOP_PHRASES = 5
_WORD = re.compile(r"[a-z][a-z'-]*")
DIMENSIONS = ("staff_group", "organisation_type")


@dataclass(frozen=True)
class QuestionResult:
    index: int
    kind: str
    text: str
    answers: int
    withheld: bool
    distribution: tuple[tuple[str, int], ...] = ()  # (label, count) in scale order
    mean: float | None = None  # numeric kinds; yes/no: share answering yes
    change: float | None = None  # mean minus the previous run's, when both are shown
    phrases: tuple[tuple[str, int], ...] = ()  # free text: (phrase, people), 2+ people


@dataclass(frozen=True)
class GroupResults:
    """Respondents per group (safe ``Breakdown``) and, per numeric question, means for
    the groups shown and for "Other (small groups)"; a question is absent when any of
    its groups had too few answers."""

    respondents: Breakdown
    means: Mapping[int, tuple[tuple[str, float], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResults:
    run_id: int
    pulse_name: str
    anonymity_min: int
    invited: int
    respondents: int
    withheld: bool
    notice: str | None
    questions: tuple[QuestionResult, ...] = ()
    breakdowns: Mapping[str, GroupResults] = field(default_factory=dict)
    response_rate_change: float | None = None

    @property
    def response_rate(self) -> float | None:
        return self.respondents / self.invited if self.invited else None


@dataclass(frozen=True)
class TrendPoint:
    run_id: int
    opens_at: datetime
    invited: int
    respondents: int
    means: tuple[float | None, ...]  # per question; None where withheld or not numeric

    @property
    def response_rate(self) -> float | None:
        return self.respondents / self.invited if self.invited else None


def _rows(session: Session, run_id: int) -> list[Any]:
    query = select(
        PulseAnswer.answer_token_hash,
        PulseAnswer.question,
        PulseAnswer.value,
        PulseAnswer.text,
        PulseAnswer.staff_group,
        PulseAnswer.organisation_type,
    ).where(PulseAnswer.run_id == run_id)
    return list(session.exec(query))


def _labels(question: Mapping[str, Any]) -> list[tuple[int, str]]:
    kind = question["kind"]
    if kind == SCALE_1_5:
        return [(value, str(value)) for value in range(1, 6)]
    if kind == NPS_0_10:
        return [(value, str(value)) for value in range(0, 11)]
    if kind == YES_NO:
        return [(1, "Yes"), (0, "No")]
    if kind == SINGLE_CHOICE:
        return list(enumerate(question.get("options") or []))
    return []


def phrases(texts: Sequence[str], limit: int = TOP_PHRASES) -> tuple[tuple[str, int], ...]:
    """Most frequent words and two-word phrases, counted once per person, kept only when
    two or more people used them (a phrase one person wrote could identify them)."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = [word.strip("'-") for word in _WORD.findall(text.lower())]
        words = [word for word in words if word and word not in STOPWORDS and len(word) > 2]
        found = set(words) | {f"{a} {b}" for a, b in pairwise(words)}
        counts.update(found)
    common = [(phrase, people) for phrase, people in counts.items() if people >= 2]
    common.sort(key=lambda item: (-item[1], -item[0].count(" "), item[0]))
    return tuple(common[:limit])


def _question_result(
    index: int, question: Mapping[str, Any], rows: list[Any], minimum: int
) -> QuestionResult:
    mine = [row for row in rows if row.question == index]
    kind, text = question["kind"], question["text"]
    if len(mine) < minimum:
        return QuestionResult(index, kind, text, len(mine), withheld=True)
    if kind == FREE_TEXT:
        texts = [row.text for row in mine if row.text]
        return QuestionResult(index, kind, text, len(mine), False, phrases=phrases(texts))
    values = Counter(row.value for row in mine)
    distribution = tuple((label, values.get(value, 0)) for value, label in _labels(question))
    mean = None
    if kind in (SCALE_1_5, NPS_0_10, YES_NO):
        mean = sum(row.value for row in mine) / len(mine)
    return QuestionResult(index, kind, text, len(mine), False, distribution, mean)


def _group_results(
    questions: Sequence[Mapping[str, Any]], rows: list[Any], dimension: str, minimum: int
) -> GroupResults:
    group_of: dict[str, str] = {}
    for row in rows:
        label = getattr(row, dimension) or NOT_GIVEN
        group_of.setdefault(row.answer_token_hash, label)
    breakdown = fold_small_groups(Counter(group_of.values()), minimum)
    if breakdown.suppressed or not breakdown.groups:
        return GroupResults(breakdown)
    shown = {group.label for group in breakdown.groups}
    means: dict[int, tuple[tuple[str, float], ...]] = {}
    for index, question in enumerate(questions):
        if question["kind"] not in (SCALE_1_5, NPS_0_10, YES_NO):
            continue
        values: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            if row.question == index and row.value is not None:
                label = group_of[row.answer_token_hash]
                values[label if label in shown else "Other (small groups)"].append(row.value)
        if any(0 < len(found) < minimum for found in values.values()):
            continue
        ordered = [group.label for group in breakdown.groups] + ["Other (small groups)"]
        means[index] = tuple(
            (label, sum(values[label]) / len(values[label]))
            for label in ordered
            if values.get(label)
        )
    return GroupResults(breakdown, means)


def _compute(session: Session, run: PulseRun, pulse: Pulse, minimum: int) -> RunResults:
    rows = _rows(session, run.id)  # type: ignore[arg-type]
    respondents = len({row.answer_token_hash for row in rows})
    if respondents < minimum:
        notice = (
            f"Results are withheld: {respondents} "
            f"{'person' if respondents == 1 else 'people'} answered, and results are shown "
            f"only when at least {minimum} have, so nobody's answers can be picked out."
        )
        return RunResults(
            run.id,
            pulse.name,
            minimum,
            run.invited,
            respondents,
            True,
            notice,  # type: ignore[arg-type]
        )
    questions = tuple(
        _question_result(index, question, rows, minimum)
        for index, question in enumerate(run.questions)
    )
    breakdowns = {
        dimension: _group_results(run.questions, rows, dimension, minimum)
        for dimension in DIMENSIONS
    }
    return RunResults(
        run.id,  # type: ignore[arg-type]
        pulse.name,
        minimum,
        run.invited,
        respondents,
        False,
        None,
        questions,
        breakdowns,
    )


def _previous(session: Session, run: PulseRun) -> PulseRun | None:
    query = (
        select(PulseRun)
        .where(
            PulseRun.pulse_id == run.pulse_id,
            PulseRun.status == CLOSED,
            PulseRun.opens_at < run.opens_at,
        )
        .order_by(col(PulseRun.opens_at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def run_results(session: Session, settings: Settings, run_id: int) -> RunResults:
    """Results of a closed run, with the change from the run before it."""
    run = session.get(PulseRun, run_id)
    if run is None:
        raise UserError("I can't find that pulse.")
    if run.status != CLOSED:
        raise UserError("Results are ready when the pulse closes.")
    pulse = session.get(Pulse, run.pulse_id)
    assert pulse is not None
    minimum = community_settings(session, pulse.team_id, settings).anonymity_min
    results = _compute(session, run, pulse, minimum)
    previous = _previous(session, run)
    if results.withheld or previous is None:
        return results
    before = _compute(session, previous, pulse, minimum)
    if before.withheld:
        return results
    old = {(q.index, q.kind, q.text): q for q in before.questions}
    questions = []
    for question in results.questions:
        earlier = old.get((question.index, question.kind, question.text))
        change = None
        if earlier and question.mean is not None and earlier.mean is not None:
            change = question.mean - earlier.mean
        questions.append(replace(question, change=change))
    rate_change = None
    if results.response_rate is not None and before.response_rate is not None:
        rate_change = results.response_rate - before.response_rate
    return replace(results, questions=tuple(questions), response_rate_change=rate_change)


def latest_results(session: Session, settings: Settings, team_id: str, name: str) -> RunResults:
    """``/pulse results <name>``: the latest closed run (the handler checks the role)."""
    pulse = by_name(session, team_id, name)
    run = session.exec(
        select(PulseRun)
        .where(PulseRun.pulse_id == pulse.id, PulseRun.status == CLOSED)
        .order_by(col(PulseRun.opens_at).desc())
        .limit(1)
    ).first()
    if run is None:
        raise UserError(f"The {pulse.name} pulse has no closed runs yet.")
    return run_results(session, settings, run.id)  # type: ignore[arg-type]


def trend(
    session: Session, settings: Settings, pulse_id: int, limit: int = TREND_RUNS
) -> list[TrendPoint]:
    """The last ``limit`` closed runs, oldest first: response and per-question means,
    each mean None where it was withheld."""
    pulse = session.get(Pulse, pulse_id)
    if pulse is None:
        raise UserError("I can't find that pulse.")
    minimum = community_settings(session, pulse.team_id, settings).anonymity_min
    runs = session.exec(
        select(PulseRun)
        .where(PulseRun.pulse_id == pulse_id, PulseRun.status == CLOSED)
        .order_by(col(PulseRun.opens_at).desc())
        .limit(limit)
    ).all()
    points = []
    for run in reversed(runs):
        results = _compute(session, run, pulse, minimum)
        means = tuple(question.mean for question in results.questions) or tuple(
            None for _ in run.questions
        )
        points.append(
            TrendPoint(run.id, run.opens_at, run.invited, results.respondents, means)  # type: ignore[arg-type]
        )
    return points


def announce(session: Session, settings: Settings, run_id: int) -> int:
    """A closed run's results to the lead who designed the pulse (and to its results
    channel if chosen), through the outbox: withheld results say so and show nothing."""
    run = session.get(PulseRun, run_id)
    pulse = session.get(Pulse, run.pulse_id) if run else None
    if run is None or pulse is None:
        return 0
    found = run_results(session, settings, run_id)
    blocks = [*results_blocks(found), *_themes_blocks(session, settings, pulse, found)]
    text = f"Results of the {pulse.name} pulse"
    queued = 0
    for channel in (pulse.created_by, pulse.results_channel):
        if not channel:
            continue
        lead = channel == pulse.created_by
        queued += outbox.enqueue(
            session,
            team_id=pulse.team_id,
            key=f"pulse:{run_id}:results:{channel}",
            kind="pulse.results",
            channel=channel,
            user_id=channel if lead else None,
            text=text,
            blocks=[*blocks, lead_actions(found)] if lead else blocks,
            essential=True,
        )
    return queued


def written_answers(session: Session, results: RunResults) -> list[str]:
    """Free-text answers to the questions shown (each with enough answers to show)."""
    shown = [q.index for q in results.questions if q.kind == FREE_TEXT and not q.withheld]
    if results.withheld or not shown:
        return []
    rows = session.exec(
        select(PulseAnswer.text).where(
            PulseAnswer.run_id == results.run_id,
            col(PulseAnswer.question).in_(shown),
            col(PulseAnswer.text).is_not(None),
        )
    )
    return [text for text in rows if text and text.strip()]


def _themes_blocks(
    session: Session, settings: Settings, pulse: Pulse, results: RunResults
) -> list[dict[str, Any]]:
    """Themes in what people wrote, by the learning summariser (redacted before any model
    sees it; the offline engine without one), only for groups above the minimum."""
    texts = written_answers(session, results)
    if len(texts) < results.anonymity_min:
        return []
    summary = make_summariser(settings).digest([Source(t, kind="pulse_comment") for t in texts])
    record_usage(session, pulse.team_id, "pulse_themes", summary.usage, None)
    points = [p.text for p in (*summary.key_themes, *summary.challenges)][:5]
    if not points:
        return []
    lines = "\n".join(f"• {escape(point)}" for point in points)
    note = f"\n_{escape(summary.notice)}_" if summary.notice else ""
    return [section(f"*Themes in what people wrote*\n{lines}{note}")]


RESPOND_ACTION = "pulse_respond"
CHALLENGE_ACTION = "pulse_challenge"
THEME_BUTTONS = 3


def themes(results: RunResults) -> list[str]:
    """The free-text phrases safe to show (two or more people, group above the minimum),
    most frequent first, each once: what a lead can turn into a challenge."""
    if results.withheld:
        return []
    found = [phrase for q in results.questions if not q.withheld for phrase, _ in q.phrases]
    return list(dict.fromkeys(found))


def lead_actions(results: RunResults) -> dict[str, Any]:
    """Under the lead's copy: close the loop, or open a challenge from a theme in one step."""
    elements: list[dict[str, Any]] = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "What we are doing about it"},
            "action_id": RESPOND_ACTION,
            "value": str(results.run_id),
        }
    ]
    for index, theme in enumerate(themes(results)[:THEME_BUTTONS]):
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": truncate(f"Open a challenge: {theme}", 75)},
                "action_id": f"{CHALLENGE_ACTION}:{index}",
                "value": f"{results.run_id}:{index}",
            }
        )
    return {"type": "actions", "elements": elements}


@dataclass(frozen=True)
class ChallengeDraft:
    title: str
    description: str
    channel_id: str | None


def challenge_draft(
    session: Session, settings: Settings, actor: Actor, value: str
) -> ChallengeDraft:
    """A challenge prefilled from a pulse theme. The theme is found again from the
    results (never taken from the button), so only a phrase safe to show can be used."""
    actor.require(Role.LEAD, "open a challenge")
    run_part, _, index_part = value.partition(":")
    run_id = as_id(run_part)
    if run_id is None or not index_part.isdigit() or len(index_part) > 2:
        raise UserError("That theme is no longer available.")
    index = int(index_part)
    run = session.get(PulseRun, run_id)
    pulse = session.get(Pulse, run.pulse_id) if run else None
    if run is None or pulse is None or pulse.team_id != actor.team_id:
        raise UserError("That pulse no longer exists.")
    found = themes(run_results(session, settings, run_id))
    if not 0 <= index < len(found):
        raise UserError("That theme is no longer available.")
    theme = found[index]
    community = community_settings(session, actor.team_id, settings)
    return ChallengeDraft(
        title=truncate(f"How might we improve {theme}?", 150),
        description=(
            f"Raised in the {pulse.name} pulse: several people mentioned “{theme}”. "
            "Share your ideas for what we could change."
        ),
        channel_id=pulse.results_channel or community.ideas_channel,
    )


def close_the_loop(session: Session, actor: Actor, run_id: int, response: str | None) -> int:
    """The lead's answer to the results, DM'd to everyone who answered (the participation
    record is used to send, never shown). Returns how many were queued."""
    actor.require(Role.LEAD, "answer a pulse's results")
    text = " ".join((response or "").split())
    if not text:
        raise UserError("Say what you are doing about it.", field="response")
    refuse_patient_identifiers(text, "response")
    run = session.get(PulseRun, run_id)
    pulse = session.get(Pulse, run.pulse_id) if run else None
    if run is None or pulse is None or pulse.team_id != actor.team_id:
        raise UserError("That pulse no longer exists.")
    if run.status != CLOSED:
        raise UserError("The loop can be closed once the pulse has closed.")
    answered = session.exec(
        select(PulseParticipation.user_id).where(
            PulseParticipation.run_id == run_id, col(PulseParticipation.answered)
        )
    )
    message = (
        f"*You said, we did.* About the {escape(pulse.name)} pulse you answered:\n> {escape(text)}"
    )
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="pulse.close_the_loop",
        target=f"pulse_run:{run_id}",
        after={"response": text},
    )
    return sum(
        outbox.enqueue(
            session,
            team_id=pulse.team_id,
            key=f"pulse:{run_id}:response:{user_id}",
            kind="pulse.response",
            channel=user_id,
            user_id=user_id,
            text=message,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": message}}],
            essential=True,
        )
        for user_id in answered
    )
