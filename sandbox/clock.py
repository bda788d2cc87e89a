"""The sandbox's movable clock: jump ahead and see what copbot's scheduler would have run.

``jump(world, to)`` takes every job in the scheduler's store (the standing jobs and those
copbot added, such as a weekly pulse's opening), works out from each job's APScheduler
trigger every time it would have fired between the last time jobs ran and ``to``, and runs
them in time order with the process's clock (``storage.clock``) set to each fire time.
Messages that copbot queued for a later time (a pulse DM at 09:00 in the member's time zone,
a reminder after quiet hours) are delivered when the clock passes their due time, as the
outbox worker would. What ran, and what it did, comes back as readable lines.

Sweeps (interval jobs such as "Pulses: remind, close, send results" every 5 minutes) run
at most once per ``SWEEP`` (30 minutes) of virtual time, and always at the destination.
Each acts on whatever is due by then, so running one every 5 minutes instead of every 30
changes only how late within that half hour something happens; a week's jump takes about
10 s instead of 34 s (bench/sandbox_clock.py) and does the same work.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import and_, bindparam, case, event, func, or_
from sqlmodel import col, select

from bot.platform.scheduling import running_for
from bot.text import counted
from storage import OutboxMessage
from storage.models import OutboxStatus

if TYPE_CHECKING:
    from sandbox.world import World

log = logging.getLogger("copbot.sandbox.clock")

SWEEP = timedelta(minutes=30)
STEP_TIMEOUT = 20.0


# --- destinations for the page's buttons -------------------------------------------------


def _zone(now: datetime, zone: str | tzinfo | None) -> tzinfo:
    if isinstance(zone, str):
        return ZoneInfo(zone)
    if zone is not None:
        return zone
    if now.tzinfo is None:
        raise ValueError("pass an aware datetime")
    return now.tzinfo


def _at(day: date, hour: int, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


TICK_SECONDS = 30.0  # a running sandbox catches its jobs up with real time this often


def next_hour(now: datetime) -> datetime:
    """The next o'clock after ``now`` (in ``now``'s zone; an hour is an hour in any zone)."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return (start + timedelta(hours=1)).astimezone(now.tzinfo)


def tomorrow_at(now: datetime, hour: int = 9, zone: str | tzinfo | None = None) -> datetime:
    """``hour``:00 tomorrow, local time in ``zone`` (default: ``now``'s zone)."""
    where = _zone(now, zone)
    return _at(now.astimezone(where).date() + timedelta(days=1), hour, where)


def next_monday(now: datetime, hour: int = 9, zone: str | tzinfo | None = None) -> datetime:
    """``hour``:00 on the first Monday after today, local time in ``zone``."""
    where = _zone(now, zone)
    today = now.astimezone(where).date()
    return _at(today + timedelta(days=7 - today.weekday()), hour, where)


# --- the jump ----------------------------------------------------------------------------


@dataclass(order=True)
class _Due:
    at: datetime
    order: int
    job: Job


def _after(trigger: BaseTrigger, moment: datetime) -> datetime | None:
    """The trigger's first fire time strictly after ``moment``."""
    fire = trigger.get_next_fire_time(None, moment)
    while fire is not None and fire <= moment:
        fire = trigger.get_next_fire_time(fire, moment + timedelta(microseconds=1))
    return fire


def _next(job: Job, fired: datetime) -> datetime | None:
    return _after(job.trigger, fired)


@dataclass(frozen=True)
class _Outbox:
    rows: int  # every message ever queued
    sent: int
    waiting: int  # due by now, or being sent
    next_due: datetime | None  # the earliest message waiting for a later time


def _outbox_query() -> Any:
    """Built once: a week's jump asks it a few thousand times."""
    status, due_at, now = col(OutboxMessage.status), col(OutboxMessage.due_at), bindparam("now")
    pending = status == OutboxStatus.PENDING

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return select(
        func.count(),
        count(status == OutboxStatus.SENT),
        count(or_(and_(pending, due_at <= now), status == OutboxStatus.SENDING)),
        func.min(case((and_(pending, due_at > now), due_at), else_=None)),
    ).select_from(OutboxMessage)


_OUTBOX = _outbox_query()


def _outbox(world: World) -> _Outbox:
    with world.database.engine.connect() as connection:
        row = connection.execute(_OUTBOX, {"now": world.clock.now()}).one()
    rows, sent, waiting, next_due = row
    if isinstance(next_due, str):  # SQLite hands back MIN() of a datetime column as text
        next_due = datetime.fromisoformat(next_due)
    if next_due is not None and next_due.tzinfo is None:
        next_due = next_due.replace(tzinfo=UTC)
    return _Outbox(int(rows), int(sent), int(waiting), next_due)


def _settled(world: World, timeout: float = STEP_TIMEOUT) -> _Outbox:
    """Wait until copbot's pools are idle and nothing due is left in its outbox."""
    deadline = time.monotonic() + timeout
    while True:
        state = _outbox(world)
        if (not state.waiting and world.deps.idle) or time.monotonic() > deadline:
            return state
        time.sleep(0.02)


class Jumper:
    """One jump; kept as an object so each step can note what it did."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.zone = ZoneInfo(world.deps.settings.copbot_timezone)
        self.lines: list[str] = []
        self.quiet_runs = 0
        self.writes = 0  # statements other than SELECT, from any thread, during the jump
        event.listen(world.database.engine, "after_cursor_execute", self._executed)
        self.state = _settled(world)

    def _executed(self, _connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith("SELECT"):
            self.writes += 1

    def close(self) -> None:
        event.remove(self.world.database.engine, "after_cursor_execute", self._executed)

    def label(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%a %d %b %H:%M")

    def deliver_until(self, before: datetime) -> None:
        """Move the clock through each due time of queued messages before ``before``."""
        world = self.world
        while self.state.next_due is not None and self.state.next_due < before:
            due, sent = self.state.next_due, self.state.sent
            world.clock.set(due)
            self.state = _settled(world)
            count = self.state.sent - sent
            if count:
                noun = "message" if count == 1 else "messages"
                self.lines.append(f"{self.label(due)} Delivered {count} {noun} due then")

    def run(self, job: Job, at: datetime) -> None:
        world = self.world
        calls, before, writes = len(world.twin.calls), self.state, self.writes
        world.clock.set(at)
        try:
            with running_for(at):
                job.func(*job.args, **job.kwargs)
        except Exception:
            log.exception("sandbox clock: job %s failed at %s", job.id, at)
            self.lines.append(f"{self.label(at)} {job.name}: failed (see var/sandbox.log)")
            return
        finally:
            # Most runs are routine checks that find nothing to do: one that wrote nothing,
            # with nothing waiting or still running, left the outbox as it was.
            quiet = self.writes == writes and not before.waiting and world.deps.idle
            self.state = after = before if quiet else _settled(world)
        did = []
        if (count := after.rows - before.rows) > 0:
            did.append(f"{count} queued")
        if (count := after.sent - before.sent) > 0:
            did.append(f"{count} sent")
        direct = len(world.twin.calls) - calls
        if not did and direct > 0:
            did.append(f"{direct} Slack call{'s' if direct != 1 else ''}")
        if did or not isinstance(job.trigger, IntervalTrigger):
            effect = f" ({', '.join(did)})" if did else ""
            self.lines.append(f"{self.label(at)} {job.name}{effect}")
        else:
            self.quiet_runs += 1

    def jump(self, start: datetime, to: datetime, sweep: timedelta) -> None:
        """Every job's fire times after ``start`` up to ``to``, in time order (sweeps at
        most once per ``sweep``), with queued messages delivered at their due times."""
        scheduler = self.world.runtime.scheduling.scheduler
        queue: list[_Due] = []
        for order, job in enumerate(scheduler.get_jobs()):
            first = _after(job.trigger, start)
            if first is not None and first <= to:
                heapq.heappush(queue, _Due(first, order, job))
        last_run: dict[str, datetime] = {}
        while queue:
            due = heapq.heappop(queue)
            following = _next(due.job, due.at)
            if following is not None and following <= to:
                heapq.heappush(queue, _Due(following, due.order, due.job))
            previous = last_run.get(due.job.id)
            thinned = (
                isinstance(due.job.trigger, IntervalTrigger)
                and previous is not None
                and due.at - previous < sweep
                and following is not None
                and following <= to
            )
            if thinned:
                continue
            self.deliver_until(due.at)
            self.run(due.job, due.at)
            last_run[due.job.id] = due.at
        self.deliver_until(to + timedelta(microseconds=1))


def jump(world: World, to: datetime, *, sweep: timedelta = SWEEP) -> list[str]:
    """Move the sandbox's clock to ``to``, running in order every job that would have run
    on the way; returns what ran, one readable line each (routine checks that found
    nothing to do are counted in one last line). A time in the past runs nothing."""
    if to.tzinfo is None:
        raise ValueError("jump needs an aware datetime")
    to = to.astimezone(UTC)
    with world.clock_lock:
        start = world.jobs_ran_until
        if to <= start:
            return []
        jumper = Jumper(world)
        try:
            jumper.jump(start, to, sweep)
        finally:
            jumper.close()
        world.clock.set(to)
        world.jobs_ran_until = to
        reschedule(world, to)
    world.settle()
    lines = jumper.lines
    if jumper.quiet_runs:
        lines.append(f"{counted(jumper.quiet_runs, 'routine check')} found nothing to do")
    return lines


def reschedule(world: World, after: datetime) -> None:
    """Each stored job's next run time from ``after`` on the movable clock, so ``/copbot
    schedule`` reads true (APScheduler worked them out in real time)."""
    scheduler = world.runtime.scheduling.scheduler
    for job in scheduler.get_jobs():
        following = _after(job.trigger, after)
        if following is None:
            scheduler.remove_job(job.id)
        elif following != job.next_run_time:
            scheduler.modify_job(job.id, next_run_time=following)


class Ticker:
    """Keeps the sandbox's jobs running as real time passes between jumps."""

    def __init__(self, world: World, every: float = 30.0) -> None:
        self.world = world
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-clock", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                jump(self.world, self.world.clock.now())
            except Exception:
                log.exception("sandbox clock: catching up failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STEP_TIMEOUT)
