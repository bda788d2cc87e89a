"""Scheduled job functions and the process-level context they run in.

Jobs live in the database (APScheduler's SQLAlchemy job store), so a job is stored as a
textual reference such as ``"bot.jobs:heartbeat"`` plus simple picklable arguments (ids,
strings, numbers). Live objects (the database, settings, a Slack port) cannot be stored, so
each process calls :func:`configure` once at start and jobs fetch them with :func:`context`.

Job functions must be module-level, keep their names (a stored job names its function; see
``bot.scheduling``) and be idempotent: APScheduler runs a job at least once per scheduled
time, and a leader killed between starting a run and recording it lets the next leader run
that scheduled time again. Derive idempotency keys from :func:`scheduled_time`, not the clock.

A workspace the app was uninstalled from (``bot.workspaces``) is skipped by every job that
would reach Slack; jobs that work across workspaces (exchanges, digests) skip their run
while no workspace is installed, which for copbot's one bot token is the same thing.
Skipped work is picked up by the first run after a reinstall.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import members, rights, workspaces
from bot import retention as retention_rules
from bot.exchange import followup
from bot.ideas import challenges, publish
from bot.learning import digest
from bot.learning.summariser import make_summariser
from bot.nudges import kinds
from bot.pulse import results as pulse_results
from bot.pulse import service as pulse_service
from bot.pulse.chart import trend_png
from storage import Challenge, Pulse, PulseRun, utcnow

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.slack import SlackPort
    from storage import Database

log = logging.getLogger("copbot.jobs")

HEARTBEAT = "bot.jobs:heartbeat"


@dataclass(frozen=True)
class JobContext:
    """What a job needs that cannot be stored with it."""

    database: Database
    settings: Settings
    slack_port_factory: Callable[[], SlackPort] | None = None

    def slack(self) -> SlackPort:
        """A Slack port for this run; a factory, so each job gets a fresh client."""
        if self.slack_port_factory is None:
            raise RuntimeError("no Slack port was configured for scheduled jobs in this process")
        return self.slack_port_factory()


_context: JobContext | None = None
_scheduled_for: ContextVar[datetime | None] = ContextVar("copbot_scheduled_for", default=None)


def configure(
    database: Database,
    settings: Settings,
    slack_port_factory: Callable[[], SlackPort] | None = None,
) -> JobContext:
    """Set this process's job context; called by ``Scheduling.start()`` (or a test)."""
    global _context
    _context = JobContext(database, settings, slack_port_factory)
    return _context


def context() -> JobContext:
    if _context is None:
        raise RuntimeError("bot.jobs.configure() has not been called in this process")
    return _context


def reset() -> None:
    """Forget the context (tests, and ``Scheduling.stop()``)."""
    global _context
    _context = None


def scheduled_time() -> datetime | None:
    """The time this run was scheduled for (not when it started), or None outside a job.

    A run that starts late, or after a leader takeover, still reports its scheduled time,
    so keys such as "pulse X for the week of <scheduled time>" stay stable.
    """
    return _scheduled_for.get()


@contextmanager
def running_for(scheduled: datetime) -> Iterator[None]:
    """Mark the current thread as running the occurrence scheduled for ``scheduled``."""
    token = _scheduled_for.set(scheduled)
    try:
        yield
    finally:
        _scheduled_for.reset(token)


@dataclass
class Heartbeats:
    """How often, and when last, this process's scheduler ran the heartbeat job."""

    count: int = 0
    last_run: datetime | None = None
    last_scheduled: datetime | None = None


HEARTBEATS = Heartbeats()
_heartbeat_lock = threading.Lock()


def heartbeat(path: str | None = None) -> None:
    """Record that the scheduler ran: a log line, ``HEARTBEATS``, and optionally a file.

    With ``path``, appends ``"<pid> <scheduled unix time> <ran unix time>"`` as one line (one
    ``write`` on an append-mode file, so lines from several processes never interleave).
    """
    ran = utcnow()
    scheduled = scheduled_time() or ran
    with _heartbeat_lock:
        HEARTBEATS.count += 1
        HEARTBEATS.last_run = ran
        HEARTBEATS.last_scheduled = scheduled
    log.info("scheduler heartbeat in pid %s (scheduled for %s)", os.getpid(), scheduled)
    if path:
        line = f"{os.getpid()} {scheduled.timestamp():.3f} {ran.timestamp():.3f}\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)


CHALLENGE_STEPS = "bot.jobs:challenge_steps"
IDEAS_AWAITING_REVIEW = "bot.jobs:ideas_awaiting_review"


def _held() -> set[str]:
    """Workspaces whose scheduled work is held because the app is uninstalled."""
    with context().database.session() as session:
        return workspaces.uninstalled_teams(session)


def _nothing_installed() -> bool:
    """True when copbot knows workspaces and the app is installed in none of them."""
    with context().database.session() as session:
        held = workspaces.uninstalled_teams(session)
        return bool(held) and not workspaces.installed_teams(session)


def challenge_steps() -> None:
    """Announce, remind and close every challenge whose time has come; each in its own
    transaction, so one failing challenge doesn't hold up the others."""
    ctx, now = context(), utcnow()
    held = _held()
    with ctx.database.session() as session:
        due = challenges.due(session, now)
        ids = sorted(
            {
                challenge.id
                for group in due.values()
                for challenge in group
                if challenge.team_id not in held
            }
        )
    for challenge_id in ids:
        try:
            with ctx.database.session() as session:
                challenge = session.get(Challenge, challenge_id)
                if challenge is not None:
                    challenges.advance(
                        session, ctx.slack(), challenge, settings=ctx.settings, now=now
                    )
        except Exception:
            log.exception(
                "challenge %s: its next step failed; it is tried again next run", challenge_id
            )


UNPOSTED_CARDS = "bot.jobs:unposted_cards"


def unposted_cards() -> None:
    """Idea cards a crash cut short: linked (or posted), redrawn, their authors thanked."""
    ctx = context()
    if _nothing_installed():
        return
    mended = publish.recover_unposted_cards(ctx.database, ctx.slack(), held=_held())
    if mended:
        log.info("unposted idea cards: mended %s", mended)


UNFINISHED_FORGETS = "bot.jobs:unfinished_forgets"


def unfinished_forgets() -> None:
    """Forget me requests a crash cut short after the confirmation: carried out now."""
    ctx = context()
    finished = rights.finish_forgets(ctx.database, ctx.slack(), ctx.settings)
    if finished:
        log.info("forget me: finished %s cut short", finished)


def ideas_awaiting_review() -> None:
    """Monday morning: each lead hears which ideas have waited over 14 days."""
    ctx = context()
    when = scheduled_time() or utcnow()
    with ctx.database.session() as session:
        for team_id in workspaces.installed_teams(session):
            kinds.ideas_awaiting_review(session, ctx.settings, team_id, when)


PROFILE_SYNC = "bot.jobs:profile_sync"


def profile_sync() -> None:
    """Nightly: the directory from users.list (new people added, profiles, time zones and
    deactivations refreshed), a page at Tier 2's pace, so a fan-out to thousands never
    asks Slack about each member at send time and every audience is the whole workspace.
    Uninstalled workspaces are skipped."""
    ctx = context()
    with ctx.database.session() as session:
        teams = workspaces.installed_teams(session)
    for team_id in teams:
        try:
            count = members.sync_directory(ctx.database, team_id, ctx.slack(), ctx.settings)
        except Exception:
            log.exception("profile sync of %s failed; the next run tries again", team_id)
            continue
        log.info("profile sync: %s people in the directory of %s", count, team_id)


PULSE_OPEN = "bot.jobs:pulse_open"
PULSE_STEPS = "bot.jobs:pulse_steps"


def pulse_open(pulse_id: int) -> None:
    """A weekly pulse's day has come: open its run; each member's DM is due at the local
    time in their own time zone, so this runs early in the day."""
    ctx = context()
    when = scheduled_time() or utcnow()
    with ctx.database.session() as session:
        pulse = session.get(Pulse, pulse_id)
        if pulse is None or pulse.paused or pulse.team_id in workspaces.uninstalled_teams(session):
            return
    people = pulse_service.read_audience(ctx.database, ctx.slack(), pulse, ctx.settings)
    with ctx.database.session() as session:
        pulse = session.get(Pulse, pulse_id)
        if pulse is None:
            return
        local_day = when.astimezone(ZoneInfo(pulse.timezone)).date()
        pulse_service.open_run(
            session, ctx.settings, pulse, now=when, on_date=local_day, channel_members=people
        )


def pulse_steps() -> None:
    """Remind non-responders once, close runs that are over, and send their results."""
    ctx, now = context(), utcnow()
    if _nothing_installed():
        return
    with ctx.database.session() as session:
        to_remind, to_close = pulse_service.runs_due(session, now)
    for run_id in to_remind:
        with ctx.database.session() as session:
            pulse_service.send_reminders(session, ctx.settings, run_id, now=now)
    for run_id in to_close:
        with ctx.database.session() as session:
            pulse_service.close_run(session, ctx.settings, run_id, now=now)
        with ctx.database.session() as session:
            pulse_results.announce(session, ctx.settings, run_id)
        _send_trend_chart(run_id)


def _send_trend_chart(run_id: int) -> None:
    """The lead's trend chart, uploaded once the results are queued (a file, so not
    through the outbox); skipped when no run has figures safe to show."""
    ctx = context()
    with ctx.database.session() as session:
        run = session.get(PulseRun, run_id)
        pulse = session.get(Pulse, run.pulse_id) if run else None
        if run is None or pulse is None or not pulse.created_by:
            return
        points = pulse_results.trend(session, ctx.settings, pulse.id or 0)
        png = trend_png(pulse.name, run.questions, points)
    if png is not None and not workspaces.INSTALLS.uninstalled(pulse.team_id):
        ctx.slack().upload_file(
            pulse.created_by,
            f"pulse-{pulse.name}-trend.png",
            png,
            title=f"Pulse {pulse.name}: trend",
            comment="How the averages have moved over the last runs.",
        )


EXCHANGE_STEPS = "bot.jobs:exchange_steps"


def exchange_steps() -> None:
    """Propose rounds whose sign-ups have closed, introduce approved matches, nudge
    matches with no date, and tell leads about stalled ones."""
    ctx = context()
    if _nothing_installed():
        return
    followup.steps(ctx.database.session, ctx.slack(), ctx.settings, utcnow())


WEEKLY_DIGESTS = "bot.jobs:weekly_digests"
RETENTION = "bot.jobs:retention"


def weekly_digests() -> None:
    """Each lead's private preview of the week's learning digest."""
    ctx = context()
    if _nothing_installed():
        return
    digest.weekly(
        ctx.database.session,
        ctx.slack(),
        ctx.settings,
        make_summariser(ctx.settings),
        scheduled_time() or utcnow(),
    )


UNFINISHED_DIGESTS = "bot.jobs:unfinished_digests"


def unfinished_digests() -> None:
    """Finish digests that were asked for but not prepared (a process died, or a try
    failed and is due again)."""
    ctx = context()
    if _nothing_installed():
        return
    digest.resume(ctx.database.session, ctx.slack(), ctx.settings, make_summariser(ctx.settings))


def retention() -> None:
    """Delete captured messages, audit entries and sent outbox rows past their limits."""
    ctx = context()
    with ctx.database.session() as session:
        deleted = retention_rules.enforce(session)
    log.info("retention: deleted %s", deleted)
