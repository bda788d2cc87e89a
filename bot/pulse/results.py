"""What leads see when a run closes: safe by construction.

Nothing is shown for fewer than the run's anonymity minimum (the one in force when it
opened, or higher: ``runs.minimum_for``): not the run (fewer respondents), not a
question (fewer answers to it), not a group in a breakdown (folded, complementary
suppression included), not a group's mean when any group's answers to that question are
too few to subtract safely. Written answers need the comment minimum: a phrase or theme is
shown only when at least that many people's words carry it, and never one person's
sentence (``themes``). Only closed runs have results: an open run has no answer rows at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot import audit
from bot.config import Settings
from bot.errors import UserError
from bot.ideas.insights import NOT_GIVEN, OTHER_GROUPS, Breakdown, GroupCount
from bot.ids import as_id
from bot.platform import outbox
from bot.platform.rendering import render
from bot.privacy import refuse_patient_identifiers
from bot.pulse.design import by_name
from bot.pulse.messages import LoopClosed, PulseResults
from bot.pulse.questions import FREE_TEXT, NPS_0_10, SCALE_1_5, SINGLE_CHOICE, YES_NO
from bot.pulse.runs import CLOSED, comment_minimum_for, minimum_for
from bot.pulse.themes import phrases, theme_points, themes
from bot.roles import Actor, Role
from bot.text import truncate
from bot.workspaces import community_settings
from storage import Pulse, PulseAnswer, PulseParticipation, PulseRun

TREND_RUNS = 12
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
    comment_min: int = 0  # written answers: shown only from at least this many people

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
        PulseAnswer.respondent,
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


def _question_result(
    index: int, question: Mapping[str, Any], rows: list[Any], minimum: int, comment_min: int
) -> QuestionResult:
    mine = [row for row in rows if row.question == index]
    kind, text = question["kind"], question["text"]
    if len(mine) < (comment_min if kind == FREE_TEXT else minimum):
        return QuestionResult(index, kind, text, len(mine), withheld=True)
    if kind == FREE_TEXT:
        texts = [row.text for row in mine if row.text]
        found = phrases(texts, comment_min)
        return QuestionResult(index, kind, text, len(mine), False, phrases=found)
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
        group_of.setdefault(row.respondent, label)
    breakdown = _fold(Counter(group_of.values()), minimum)
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
                label = group_of[row.respondent]
                values[label if label in shown else OTHER_GROUPS].append(row.value)
        if any(0 < len(found) < minimum for found in values.values()):
            continue
        ordered = [group.label for group in breakdown.groups] + [OTHER_GROUPS]
        means[index] = tuple(
            (label, sum(values[label]) / len(values[label]))
            for label in ordered
            if values.get(label)
        )
    return GroupResults(breakdown, means)


def _fold(counts: Mapping[str, int], minimum: int) -> Breakdown:
    """Groups of at least ``minimum`` people, the rest in Other (``fold_small_groups``);
    answers stored as Other at close stay in Other, never shown as a group of their own."""
    total = sum(counts.values())
    if total == 0:
        return Breakdown()
    if total < minimum:
        return Breakdown(suppressed=True)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = [item for item in ordered if item[1] >= minimum and item[0] != OTHER_GROUPS]
    other = total - sum(people for _, people in shown)
    while shown and 0 < other < minimum:
        other += shown.pop()[1]
    return Breakdown(tuple(GroupCount(label, people) for label, people in shown), other)


def _compute(session: Session, settings: Settings, run: PulseRun, pulse: Pulse) -> RunResults:
    minimum = minimum_for(session, settings, run, pulse.team_id)
    comment_min = comment_minimum_for(session, settings, run, pulse.team_id)
    rows = _rows(session, run.id)  # type: ignore[arg-type]
    respondents = len({row.respondent for row in rows})
    if run.respondents is not None:  # counted at close: a withheld run keeps no answers
        respondents = run.respondents
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
        _question_result(index, question, rows, minimum, comment_min)
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
        comment_min=comment_min,
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
    results = _compute(session, settings, run, pulse)
    previous = _previous(session, run)
    if results.withheld or previous is None:
        return results
    before = _compute(session, settings, previous, pulse)
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
    runs = session.exec(
        select(PulseRun)
        .where(PulseRun.pulse_id == pulse_id, PulseRun.status == CLOSED)
        .order_by(col(PulseRun.opens_at).desc())
        .limit(limit)
    ).all()
    points = []
    for run in reversed(runs):
        results = _compute(session, settings, run, pulse)
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
    points, notice = theme_points(session, settings, pulse, found)
    queued = 0
    for channel in (pulse.created_by, pulse.results_channel):
        if not channel:
            continue
        lead = channel == pulse.created_by
        shown = render(PulseResults(found, points, notice, for_lead=lead))
        queued += outbox.enqueue(
            session,
            team_id=pulse.team_id,
            key=f"pulse:{run_id}:results:{channel}",
            kind="pulse.results",
            channel=channel,
            user_id=channel if lead else None,
            text=shown.text,
            blocks=shown.blocks,
            essential=True,
        )
    return queued


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
    said = render(LoopClosed(pulse.name, text))
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
            text=said.text,
            blocks=said.blocks,
            essential=True,
        )
        for user_id in answered
    )
