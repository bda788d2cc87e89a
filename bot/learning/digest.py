"""Learning digests: what the community said and did in a period, short and linked to
its sources, drafted privately for a lead and published only when they approve.

Only what the requester may see goes in: captured channels they are a member of, and
pulse figures already safe to show (``bot.pulse.results``). Nothing of a private channel
the lead is not in is read, so it cannot leak through a summary.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_
from sqlmodel import Session, col, func, select, update

from bot import audit, members
from bot.config import Settings
from bot.errors import UserError
from bot.learning.messages import DigestContent, DigestPreview, progress_text
from bot.learning.sources import Gathered, gather, readable_channels
from bot.learning.summariser import DigestSummary, Point, Summariser
from bot.learning.usage import record_usage
from bot.platform.rendering import render
from bot.roles import Actor, Role
from bot.slack import SlackPort
from bot.text import escape
from storage import (
    CapturedMessage,
    Digest,
    Workspace,
    utcnow,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PERIOD = timedelta(days=7)
QUIET = "A quiet week: nothing new was shared in the channels you follow. Enjoy the calm."

# preparing: asked for; drafted: written but maybe not yet shown; ready: shown to the lead
PREPARING, DRAFTED, READY, FAILED = "preparing", "drafted", "ready", "failed"
UNFINISHED_STATES = (PREPARING, DRAFTED)
LEASE = timedelta(seconds=90)  # a claim not renewed for this long was a process that died
RETRY_AFTER = timedelta(minutes=1)
MAX_ATTEMPTS = 3
UNFINISHED = "Sorry, I couldn't finish this digest. Please try `/digest` again in a few minutes."
TRYING_AGAIN = "This digest hit a problem on the way. I'll try again in a minute."
PROGRESS_EVENT = "copbot_digest"  # metadata on the progress message, to find it after a crash


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
    draft = Digest(
        team_id=team_id, requested_by=requested_by, period_start=end - PERIOD, period_end=end
    )
    fill(session, slack, settings, summariser, draft, channels)
    session.flush()
    return draft


def fill(
    session: Session,
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
    draft: Digest,
    channels: Sequence[str],
) -> None:
    """Write the digest's sections from ``channels`` over its period."""
    found = gather(session, settings, draft.team_id, channels, draft.period_start, draft.period_end)
    summary = summariser.digest(found.sources)
    record_usage(session, draft.team_id, "digest", summary.usage, draft.requested_by)
    draft.engine = summary.engine
    draft.notice = summary.notice if summary.engine == "offline" and found.sources else ""
    draft.sections = compose(summary, found, permalinker(slack, found))
    draft.status = DRAFTED
    session.add(draft)


def publishable(session: Session, actor: Actor, digest_id: int) -> Digest:
    """The draft a lead may still edit or publish (checked before anything is posted)."""
    actor.require(Role.LEAD, "publish digests")
    digest = session.get(Digest, digest_id)
    if digest is None or digest.team_id != actor.team_id or digest.status not in (DRAFTED, READY):
        raise UserError("That digest no longer exists.")
    if digest.published_at is not None:
        raise UserError("This digest is already published.")
    return digest


def edit(session: Session, actor: Actor, digest_id: int, texts: list[str]) -> Digest:
    """A lead's edits: the sections' texts in order; an emptied section is left out."""
    digest = publishable(session, actor, digest_id)
    edited = []
    for index, section in enumerate(digest.sections):
        text = (texts[index] if index < len(texts) else "").strip()
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


def request(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    end: datetime | None = None,
    occasion: str | None = None,
) -> int | None:
    """Write down that a lead is owed a preview, before any work is done, so a process
    that dies half-way leaves it for another to finish. One per ``occasion`` (a weekly
    run that is repeated asks once); None when it was already asked for."""
    if occasion is not None:
        asked = select(Digest.id).where(
            Digest.team_id == team_id, Digest.requested_by == user_id, Digest.occasion == occasion
        )
        if session.exec(asked).first() is not None:
            return None
    end = end or utcnow()
    draft = Digest(
        team_id=team_id,
        requested_by=user_id,
        period_start=end - PERIOD,
        period_end=end,
        status=PREPARING,
        occasion=occasion,
    )
    session.add(draft)
    session.flush()
    return draft.id


def prepare(
    session_factory: Callable[[], Any],
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
    digest_id: int,
) -> bool:
    """Turn a requested digest into the lead's private preview in their DM: one message
    that first says what is being read, then becomes the preview (Publish, Edit).

    Only the process holding the digest's claim works on it; the claim is renewed while it
    works, so only a dead process's claim lapses and ``resume`` hands it to another. The
    same progress message is reused on every try, so the lead never gets two. False when
    another process has it or it is already done."""
    attempt = _claim(session_factory, digest_id)
    if not attempt:
        return False
    if attempt > MAX_ATTEMPTS:  # every try so far died with its process
        _give_up(session_factory, slack, digest_id)
        return False
    with _holding(session_factory, digest_id):
        try:
            with session_factory() as session:
                draft = session.get(Digest, digest_id)
                assert draft is not None
                channel, ts = draft.preview_channel, draft.preview_ts
                drafted = draft.status == DRAFTED
            if not drafted:
                channel, ts = _draft(
                    session_factory, slack, settings, summariser, digest_id, attempt
                )
            with session_factory() as session:
                draft = session.get(Digest, digest_id)
                assert draft is not None and channel and ts
                preview = render(DigestPreview(digest_id, DigestContent.of(draft)))
            _patiently(
                lambda: slack.update_message(channel, ts, preview.text, blocks=preview.blocks)
            )
            with session_factory() as session:
                _set(session, digest_id, status=READY, claimed_until=None)
        except Exception:
            if attempt >= MAX_ATTEMPTS:
                _give_up(session_factory, slack, digest_id)
            else:
                _try_later(session_factory, slack, digest_id)
            raise
    return True


def _draft(
    session_factory: Callable[[], Any],
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
    digest_id: int,
    attempt: int,
) -> tuple[str, str]:
    """Show progress in the lead's DM (one message, reused on a second try), then write
    the digest; returns where the progress message is."""
    with session_factory() as session:
        draft = session.get(Digest, digest_id)
        assert draft is not None
        team_id, user_id, end = draft.team_id, draft.requested_by, draft.period_end
        channel, ts = draft.preview_channel, draft.preview_ts

    def readable() -> tuple[list[str], int]:
        with session_factory() as session:
            found = readable_channels(session, slack, team_id, user_id)
            return found, count_messages(session, team_id, found, end)

    channels, count = _patiently(readable)
    progress = progress_text(count, len(channels))
    tag = {"event_type": PROGRESS_EVENT, "event_payload": {"key": str(digest_id)}}
    if not (channel and ts):
        channel = _patiently(lambda: slack.open_conversation([user_id]))
        if attempt > 1:  # a try that died between posting progress and saving where
            ts = _patiently(lambda: slack.find_tagged(channel, PROGRESS_EVENT, str(digest_id)))
    if ts:
        _patiently(lambda: slack.update_message(channel, ts, progress))
    else:
        ts = _patiently(lambda: slack.post_message(channel, progress, metadata=tag))
    with session_factory() as session:
        _set(session, digest_id, preview_channel=channel, preview_ts=ts)
    with session_factory() as session:
        draft = session.get(Digest, digest_id)
        assert draft is not None
        fill(session, slack, settings, summariser, draft, channels)
    return channel, ts


def resume(
    session_factory: Callable[[], Any],
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
) -> int:
    """Prepare every requested digest nobody is working on (never started, cut short by a
    crash, or waiting to try again); a failure for one is logged and the others go on.
    Returns how many previews were finished."""
    now = utcnow()
    with session_factory() as session:
        waiting = list(
            session.exec(
                select(Digest.id)
                .where(
                    col(Digest.status).in_(UNFINISHED_STATES),
                    or_(col(Digest.claimed_until).is_(None), col(Digest.claimed_until) < now),
                )
                .order_by(col(Digest.id))
            )
        )
    finished = 0
    for digest_id in waiting:
        try:
            finished += prepare(session_factory, slack, settings, summariser, digest_id or 0)
        except Exception:
            log.exception("digest %s could not be prepared; it will be tried again", digest_id)
    return finished


def _set(session: Session, digest_id: int, **values: Any) -> None:
    session.exec(update(Digest).where(col(Digest.id) == digest_id).values(**values))


def _claim(session_factory: Callable[[], Any], digest_id: int) -> int:
    """This try's number, or 0 when another process holds the digest or it is done."""
    now = utcnow()
    with session_factory() as session:
        claimed = session.exec(
            update(Digest)
            .where(
                col(Digest.id) == digest_id,
                col(Digest.status).in_(UNFINISHED_STATES),
                or_(col(Digest.claimed_until).is_(None), col(Digest.claimed_until) < now),
            )
            .values(claimed_until=now + LEASE, attempts=Digest.attempts + 1)
        )
        if not claimed.rowcount:
            return 0
        return int(session.exec(select(Digest.attempts).where(col(Digest.id) == digest_id)).one())


def _give_up(session_factory: Callable[[], Any], slack: SlackPort, digest_id: int) -> None:
    _settle(session_factory, slack, digest_id, UNFINISHED, status=FAILED, claimed_until=None)


def _try_later(session_factory: Callable[[], Any], slack: SlackPort, digest_id: int) -> None:
    retry_at = utcnow() + RETRY_AFTER
    _settle(session_factory, slack, digest_id, TRYING_AGAIN, claimed_until=retry_at)


def _settle(
    session_factory: Callable[[], Any],
    slack: SlackPort,
    digest_id: int,
    say: str,
    **values: Any,
) -> None:
    """After a failed try: record what happens next and say so in the progress message."""
    with session_factory() as session:
        _set(session, digest_id, **values)
        draft = session.get(Digest, digest_id)
        channel, ts = (draft.preview_channel, draft.preview_ts) if draft else (None, None)
    if channel and ts:
        with contextlib.suppress(Exception):
            slack.update_message(channel, ts, say)


@contextlib.contextmanager
def _holding(session_factory: Callable[[], Any], digest_id: int) -> Iterator[None]:
    """Renew the claim while this process works, so it lapses only if the process dies."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(LEASE.total_seconds() / 3):
            with contextlib.suppress(Exception), session_factory() as session:
                session.exec(
                    update(Digest)
                    .where(col(Digest.id) == digest_id, col(Digest.status).in_(UNFINISHED_STATES))
                    .values(claimed_until=utcnow() + LEASE)
                )

    threading.Thread(target=renew, name=f"digest-{digest_id}-claim", daemon=True).start()
    try:
        yield
    finally:
        done.set()


def weekly(
    session_factory: Callable[[], Any],
    slack: SlackPort,
    settings: Settings,
    summariser: Summariser,
    now: datetime | None = None,
) -> int:
    """Every lead of every workspace is owed this week's preview: all are written down
    first, then prepared, so a run cut short is finished by ``resume``."""
    now = now or utcnow()
    occasion = f"weekly {now:%Y-%m-%dT%H:%M}"
    with session_factory() as session:
        for team in list(session.exec(select(Workspace.team_id))):
            for lead in members.leads(session, team, settings):
                request(session, team_id=team, user_id=lead.user_id, end=now, occasion=occasion)
    return resume(session_factory, slack, settings, summariser)
