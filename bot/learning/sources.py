"""What a learning digest is made of, before summarising: the kept messages of captured
channels the requester is in, reflections, and the period's ideas, pulse figures already
safe to show and exchanges, each linked to where it came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.config import Settings
from bot.ideas.insights import status_label
from bot.learning.capture import channels as captured_channels
from bot.learning.summariser import Source
from bot.pulse.results import run_results
from bot.slack import SlackPort
from bot.text import escape
from storage import (
    CapturedMessage,
    ExchangeFeedback,
    ExchangeMatch,
    Idea,
    IdeaStatus,
    Pulse,
    PulseRun,
    Reflection,
)

MAX_SOURCES = 20_000  # a digest reads at most this many messages: learning-marked, then newest
TOP = 3  # ideas listed per kind


@dataclass
class Gathered:
    """What a digest is made of, before summarising."""

    sources: list[Source] = field(default_factory=list)
    places: list[tuple[str, str]] = field(default_factory=list)  # (channel, ts) per source
    channels_read: int = 0
    messages_read: int = 0
    ideas: list[str] = field(default_factory=list)
    pulses: list[str] = field(default_factory=list)
    exchanges: list[str] = field(default_factory=list)


def readable_channels(session: Session, slack: SlackPort, team_id: str, user_id: str) -> list[str]:
    """Captured channels the requester is a member of, checked with Slack now."""
    return [c for c in captured_channels(session, team_id) if user_id in slack.channel_members(c)]


def gather(
    session: Session,
    settings: Settings,
    team_id: str,
    channels: Sequence[str],
    start: datetime,
    end: datetime,
) -> Gathered:
    found = Gathered(channels_read=len(channels))
    messages = session.exec(
        select(CapturedMessage)
        .where(
            CapturedMessage.team_id == team_id,
            col(CapturedMessage.channel_id).in_(list(channels)),
            col(CapturedMessage.captured_at) >= start,
            col(CapturedMessage.captured_at) < end,
        )
        .order_by(col(CapturedMessage.learning).desc(), col(CapturedMessage.captured_at).desc())
        .limit(MAX_SOURCES)
    ).all()
    found.messages_read = len(messages)
    for message in messages:
        kind = "thread_reply" if message.thread_ts else "message"
        found.sources.append(Source(text=message.text, kind=kind, author=message.user_id))
        found.places.append((message.channel_id, message.ts))
    for reflection in session.exec(
        select(Reflection).where(
            Reflection.team_id == team_id,
            col(Reflection.created_at) >= start,
            col(Reflection.created_at) < end,
        )
    ):
        found.sources.append(Source(text=reflection.text, kind="reflection"))
        found.places.append(("", ""))
    _ideas(session, team_id, start, end, found)
    _pulses(session, settings, team_id, start, end, found)
    _exchanges(session, team_id, start, end, found)
    return found


def _link(title: str, permalink: str | None) -> str:
    return f"<{permalink}|{escape(title)}>" if permalink else escape(title)


def _ideas(session: Session, team_id: str, start: datetime, end: datetime, found: Gathered) -> None:
    live = (Idea.team_id == team_id, col(Idea.merged_into_id).is_(None))
    new = session.exec(
        select(Idea)
        .where(*live, col(Idea.created_at) >= start, col(Idea.created_at) < end)
        .order_by(col(Idea.supporter_count).desc(), col(Idea.created_at))
    ).all()
    for idea in new:
        found.sources.append(Source(text=f"{idea.title}. {idea.description}", kind="idea"))
        found.places.append(("", ""))
    if new:
        titles = ", ".join(_link(i.title, i.permalink) for i in new[:TOP])
        found.ideas.append(f"{len(new)} new ideas, including {titles}.")
    supported = session.exec(
        select(Idea)
        .where(*live, Idea.supporter_count > 0, col(Idea.status) != IdeaStatus.NOT_TAKEN_FORWARD)
        .order_by(col(Idea.supporter_count).desc())
        .limit(TOP)
    ).all()
    if supported:
        found.ideas.append(
            "Most supported: "
            + ", ".join(f"{_link(i.title, i.permalink)} ({i.supporter_count})" for i in supported)
            + "."
        )
    for idea in session.exec(
        select(Idea)
        .where(*live, col(Idea.decided_at) >= start, col(Idea.decided_at) < end)
        .order_by(col(Idea.decided_at))
        .limit(5)
    ):
        why = f": {escape(idea.rationale, limit=200)}" if idea.rationale else ""
        found.ideas.append(
            f"You said, we did: {_link(idea.title, idea.permalink)} is "
            f"*{status_label(idea.status).lower()}*{why}"
        )


def _pulses(
    session: Session,
    settings: Settings,
    team_id: str,
    start: datetime,
    end: datetime,
    found: Gathered,
) -> None:
    runs = session.exec(
        select(PulseRun, Pulse.name)
        .join(Pulse, col(Pulse.id) == PulseRun.pulse_id)
        .where(
            Pulse.team_id == team_id,
            PulseRun.status == "closed",
            col(PulseRun.closes_at) >= start,
            col(PulseRun.closes_at) < end,
        )
    ).all()
    for run, name in runs:
        results = run_results(session, settings, run.id or 0)
        head = f"*{escape(name)}*: {results.respondents} of {results.invited} answered"
        if results.withheld:
            found.pulses.append(f"{head}; too few answers to show results.")
            continue
        shown = [q for q in results.questions if q.mean is not None and not q.withheld]
        if shown:
            q = shown[0]
            change = f" ({q.change:+.2f} since last time)" if q.change is not None else ""
            head += f"; “{escape(q.text, limit=80)}” averaged {q.mean:.2f}{change}"
        themes = [p for q in results.questions for p, _ in q.phrases][:3]
        if themes:
            head += f"; often said: {escape(', '.join(themes))}"
        found.pulses.append(head + ".")


def _exchanges(
    session: Session, team_id: str, start: datetime, end: datetime, found: Gathered
) -> None:
    done = session.exec(
        select(func.count()).where(
            ExchangeMatch.team_id == team_id,
            col(ExchangeMatch.done_at) >= start,
            col(ExchangeMatch.done_at) < end,
        )
    ).one()
    learned = session.exec(
        select(ExchangeFeedback.learned).where(
            ExchangeFeedback.team_id == team_id,
            col(ExchangeFeedback.created_at) >= start,
            col(ExchangeFeedback.created_at) < end,
            ExchangeFeedback.learned != "",
        )
    ).all()
    for text in learned:
        found.sources.append(Source(text=text, kind="exchange_reflection"))
        found.places.append(("", ""))
    if done:
        found.exchanges.append(f"{done} exchanges completed.")
    if learned:
        quote = escape(learned[0], limit=200)
        found.exchanges.append(f"{len(learned)} reflections shared, such as: “{quote}”")
