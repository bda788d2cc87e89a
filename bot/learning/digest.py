"""Learning digests: what the community said and did in a period, short and linked to
its sources, drafted privately for a lead and published only when they approve.

Only what the requester may see goes in: captured channels they are a member of, and
pulse figures already safe to show (``bot.pulse.results``). Nothing of a private channel
the lead is not in is read, so it cannot leak through a summary.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, func, select

from bot import audit, members
from bot.config import Settings
from bot.errors import UserError
from bot.ideas.insights import status_label
from bot.learning.capture import channels as captured_channels
from bot.learning.messages import preview_blocks, progress_text
from bot.learning.summariser import DigestSummary, Point, Source, Summariser
from bot.learning.usage import record_usage
from bot.pulse.results import run_results
from bot.roles import Actor, Role
from bot.slack import SlackPort
from bot.text import escape, truncate
from storage import (
    CapturedMessage,
    Digest,
    ExchangeFeedback,
    ExchangeMatch,
    Idea,
    IdeaStatus,
    Pulse,
    PulseRun,
    Reflection,
    Workspace,
    utcnow,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PERIOD = timedelta(days=7)
MAX_SOURCES = 20_000  # a digest reads at most this many messages: learning-marked, then newest
TOP = 3
QUIET = "A quiet week: nothing new was shared in the channels you follow. Enjoy the calm."


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


def count_messages(
    session: Session, team_id: str, channels: Sequence[str], end: datetime | None = None
) -> int:
    """How many kept messages a digest ending ``end`` will read (for its progress line)."""
    end = end or utcnow()
    return session.exec(
        select(func.count()).where(
            CapturedMessage.team_id == team_id,
            col(CapturedMessage.channel_id).in_(list(channels)),
            col(CapturedMessage.captured_at) >= end - PERIOD,
            col(CapturedMessage.captured_at) < end,
        )
    ).one()


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
        why = f": {escape(truncate(idea.rationale, 200))}" if idea.rationale else ""
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
            head += f"; “{escape(truncate(q.text, 80))}” averaged {q.mean:.2f}{change}"
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
        quote = escape(truncate(learned[0], 200))
        found.exchanges.append(f"{len(learned)} reflections shared, such as: “{quote}”")


def _point_line(point: Point, link: Callable[[int], str | None]) -> str:
    refs = [(n, link(i)) for n, i in enumerate(point.sources[:3], start=1)]
    cites = " ".join(f"<{url}|[{n}]>" for n, url in refs if url)
    return f"• {escape(point.text)}" + (f" {cites}" if cites else "")


def compose(
    summary: DigestSummary, found: Gathered, link: Callable[[int], str | None]
) -> list[dict[str, str]]:
    """Sections of mrkdwn: the summary's three, then ideas, pulse and exchanges."""
    sections = []
    for title, points in (
        ("Key themes", summary.key_themes),
        ("What's working", summary.whats_working),
        ("Challenges and opportunities", summary.challenges),
    ):
        if points:
            sections.append(
                {"title": title, "text": "\n".join(_point_line(p, link) for p in points)}
            )
    for title, lines in (
        ("Ideas", found.ideas),
        ("Pulse", found.pulses),
        ("Exchanges", found.exchanges),
    ):
        if lines:
            sections.append({"title": title, "text": "\n".join(f"• {line}" for line in lines)})
    return sections or [{"title": "Quiet week", "text": QUIET}]


def permalinker(slack: SlackPort, found: Gathered) -> Callable[[int], str | None]:
    """Links to the sources a point cites, fetched only for those (one call each)."""
    cache: dict[int, str | None] = {}

    def link(index: int) -> str | None:
        if index not in cache:
            channel, ts = found.places[index] if 0 <= index < len(found.places) else ("", "")
            cache[index] = slack.permalink(channel, ts) if channel and ts else None
        return cache[index]

    return link


def build(
    session: Session,
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
    *,
    team_id: str,
    requested_by: str,
    channels: Sequence[str],
    end: datetime | None = None,
) -> Digest:
    """Gather, summarise and store a draft digest for ``requested_by`` to preview."""
    end = end or utcnow()
    start = end - PERIOD
    found = gather(session, settings, team_id, channels, start, end)
    summary = summariser.digest(found.sources)
    record_usage(session, team_id, "digest", summary.usage, requested_by)
    digest = Digest(
        team_id=team_id,
        requested_by=requested_by,
        period_start=start,
        period_end=end,
        engine=summary.engine,
        notice=summary.notice if summary.engine == "offline" and found.sources else "",
        sections=compose(summary, found, permalinker(slack, found)),
    )
    session.add(digest)
    session.flush()
    return digest


def publishable(session: Session, actor: Actor, digest_id: int) -> Digest:
    """The draft a lead may still edit or publish (checked before anything is posted)."""
    actor.require(Role.LEAD, "publish digests")
    digest = session.get(Digest, digest_id)
    if digest is None or digest.team_id != actor.team_id:
        raise UserError("That digest no longer exists.")
    if digest.published_at is not None:
        raise UserError("This digest is already published.")
    return digest


def edit(session: Session, actor: Actor, digest_id: int, texts: dict[str, str]) -> Digest:
    """A lead's edits, section by section; an emptied section is left out."""
    digest = publishable(session, actor, digest_id)
    edited = []
    for index, section in enumerate(digest.sections):
        text = (texts.get(f"section_{index}") or "").strip()
        if text:
            edited.append({"title": section["title"], "text": text[:3000]})
    if not edited:
        raise UserError("Keep at least one section.", field="section_0")
    digest.sections = edited
    session.add(digest)
    return digest


def mark_published(session: Session, actor: Actor, digest_id: int, channel: str, ts: str) -> Digest:
    digest = publishable(session, actor, digest_id)
    digest.published_channel, digest.published_ts = channel, ts
    digest.published_at = utcnow()
    session.add(digest)
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="digest.published",
        target=f"digest:{digest_id}",
        after={"channel": channel},
    )
    return digest


RETRY_WAITS = (2.0, 4.0, 8.0)  # seconds: rides out a short Slack outage or rate limit


def _patiently(call: Callable[[], T]) -> T:
    """Slack calls that a short 5xx or 429 should not defeat (the client's own retries
    give up within a few seconds)."""
    for wait in (*RETRY_WAITS, None):
        try:
            return call()
        except SlackApiError as error:
            status = error.response.status_code if error.response is not None else 0
            if wait is None or not (status == 429 or status >= 500):
                raise
            log.warning("Slack answered %s while preparing a digest; trying again", status)
            time.sleep(wait)
    raise AssertionError("unreachable")


def prepare(
    session_factory: Callable[[], Any],
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
    *,
    team_id: str,
    user_id: str,
    end: datetime | None = None,
) -> Digest:
    """A lead's private preview in their DM: one message that first says what is being
    read, then becomes the preview (Publish, Edit). If it can't be finished, that message
    says so rather than promising a preview that will not come."""

    def readable() -> tuple[list[str], int]:
        with session_factory() as session:
            found = readable_channels(session, slack, team_id, user_id)
            return found, count_messages(session, team_id, found, end)

    channels, count = _patiently(readable)
    channel = _patiently(lambda: slack.open_conversation([user_id]))
    ts = _patiently(lambda: slack.post_message(channel, progress_text(count, len(channels))))
    try:
        with session_factory() as session:
            draft = build(
                session,
                slack,
                settings,
                summariser,
                team_id=team_id,
                requested_by=user_id,
                channels=channels,
                end=end,
            )
            draft.preview_channel, draft.preview_ts = channel, ts
            session.add(draft)
            blocks = preview_blocks(draft)
        _patiently(
            lambda: slack.update_message(channel, ts, "Your learning digest preview", blocks=blocks)
        )
    except Exception:
        with contextlib.suppress(Exception):
            slack.update_message(channel, ts, UNFINISHED)
        raise
    return draft


UNFINISHED = "Sorry, I couldn't finish this digest. Please try `/digest` again in a few minutes."


def weekly(
    session_factory: Callable[[], Any],
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
    now: datetime | None = None,
) -> int:
    """Every lead of every workspace gets this week's preview; a failure for one lead is
    logged and the others still get theirs."""
    with session_factory() as session:
        teams = list(session.exec(select(Workspace.team_id)))
        leads = {
            team: [lead.user_id for lead in members.leads(session, team, settings)]
            for team in teams
        }
    sent = 0
    for team, people in leads.items():
        for user_id in people:
            try:
                prepare(
                    session_factory,
                    slack,
                    settings,
                    summariser,
                    team_id=team,
                    user_id=user_id,
                    end=now,
                )
                sent += 1
            except Exception:
                log.exception("the weekly digest for %s could not be prepared", user_id)
    return sent
