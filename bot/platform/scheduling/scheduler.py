"""copbot's one scheduler: APScheduler 3, its jobs in the application database, one leader.

Every copbot process builds the same :class:`Scheduling`. Its scheduler is always started
*paused*, so any process (a web process under ``--no-scheduler`` too) can add, replace and
list jobs in the shared ``apscheduler_jobs`` table (``store``). Only the holder of the leader
lease (``lease``) resumes it and runs jobs; on SQLite the single process is the leader.

Jobs are functions registered by name (``registry``); a standing job (one with a schedule)
is kept in the store by whoever leads, a one-off is added by the use case that needs it
through :func:`ensure_job`, with a trigger from ``triggers``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.platform.scheduling.context import configure
from bot.platform.scheduling.lease import DEFAULT_POLL_SECONDS, LEASE_KEY, LeaderLease, brief
from bot.platform.scheduling.registry import RUN, RegisteredJob, standing
from bot.platform.scheduling.store import (
    DEFAULT_MAX_WORKERS,
    DEFAULT_MISFIRE_GRACE_SECONDS,
    build_scheduler,
)
from bot.platform.scheduling.triggers import weekly_trigger

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.slack import SlackPort
    from storage import Database

log = logging.getLogger("copbot.scheduling")


def _noop() -> None:
    return None


# --- adding jobs ----------------------------------------------------------------------------

_SIMPLE = (str, int, float, bool, type(None))


def _check_simple(value: object, where: str) -> None:
    """Stored jobs are pickled: allow ids, strings and numbers, never live objects."""
    if isinstance(value, _SIMPLE):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_simple(item, where)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: keyword names must be strings")
            _check_simple(item, where)
        return
    raise TypeError(
        f"{where}: job arguments must be simple values (ids, strings, numbers), "
        f"not {type(value).__name__}; jobs get live objects from job_context()"
    )


def _trigger_key(trigger: BaseTrigger) -> tuple[object, ...]:
    """What makes two triggers the same schedule (an interval's start date does not)."""
    if isinstance(trigger, IntervalTrigger):
        return (
            type(trigger).__qualname__,
            str(trigger),
            str(trigger.timezone),
            trigger.end_date,
            trigger.jitter,
        )
    return (type(trigger).__qualname__, repr(trigger))


def ensure_job(
    scheduler: BackgroundScheduler,
    job_id: str,
    job: RegisteredJob[Any],
    trigger: BaseTrigger,
    *,
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    name: str | None = None,
) -> Job:
    """Add or replace the job ``job_id`` running ``job``; an identical stored job is left
    untouched.

    Leaving it untouched keeps its next run time: re-adding at every start would move an
    interval job's schedule and would drop a run that is due but not yet run. The store
    keeps :data:`RUN` and the job's name, so the function can move without stranding it.
    """
    if not isinstance(job, RegisteredJob):
        raise TypeError(f"{job_id}: schedule a function registered with @job, not {job!r}")
    kwargs = dict(kwargs or {})
    _check_simple(list(args), job_id)
    _check_simple(kwargs, job_id)
    stored_args = [job.name, *args]
    name = name or job_id
    try:
        existing = scheduler.get_job(job_id)
    except Exception as error:  # stored by a release whose function is gone: replace it
        log.warning("replacing scheduled job %r that cannot be loaded (%s)", job_id, brief(error))
        existing = None
    if (
        existing is not None
        and existing.func_ref == RUN
        and tuple(existing.args) == tuple(stored_args)
        and dict(existing.kwargs) == kwargs
        and existing.name == name
        and _trigger_key(existing.trigger) == _trigger_key(trigger)
    ):
        return existing
    return scheduler.add_job(
        RUN,
        trigger,
        id=job_id,
        name=name,
        args=stored_args,
        kwargs=kwargs,
        replace_existing=True,
    )


def add_weekly_job(
    scheduler: BackgroundScheduler,
    job_id: str,
    job: RegisteredJob[Any],
    *,
    weekday: int | str,
    at: str | time,
    zone: str | tzinfo,
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    name: str | None = None,
) -> Job:
    """The job ``job_id`` runs every ``weekday`` at ``at`` local time in ``zone``."""
    trigger = weekly_trigger(weekday, at, zone)
    return ensure_job(scheduler, job_id, job, trigger, args=args, kwargs=kwargs, name=name)


@dataclass(frozen=True)
class JobSpec:
    """A job copbot always has (digests, delivery sweeps...), ensured by whoever leads."""

    id: str
    job: RegisteredJob[Any]
    trigger: BaseTrigger
    args: tuple[object, ...] = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)
    name: str | None = None


def standing_jobs(zone: str | tzinfo) -> list[JobSpec]:
    """Every registered job with a schedule, under its name, in the community's ``zone``."""
    return [
        JobSpec(found.name, found, found.schedule.trigger(zone), name=found.title)
        for found in standing()
        if found.schedule is not None
    ]


# --- the whole ------------------------------------------------------------------------------


class UpcomingJob(NamedTuple):
    id: str
    name: str
    next_run_time: datetime | None  # in UTC; None when the job is paused


class Scheduling:
    """The scheduler as a process runs it: ``copbot serve`` and ``copbot worker``.

    With ``run_jobs=False`` (``copbot serve --no-scheduler``) the process only reads and
    writes jobs; otherwise it contends for the lease and runs jobs while it leads. While
    leading it ensures the ``jobs`` specs, resumes the scheduler, then calls ``on_lead``;
    stepping down pauses the scheduler (runs in progress finish), then calls ``on_follow``.
    With ``manual=True`` the leader ensures the specs but never resumes the scheduler: the
    jobs run only when a movable clock is moved (``sandbox.clock.jump``).
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        run_jobs: bool = True,
        jobs: Iterable[JobSpec] = (),
        slack_port_factory: Callable[[], SlackPort] | None = None,
        on_lead: Callable[[], None] | None = None,
        on_follow: Callable[[], None] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        lease_key: str = LEASE_KEY,
        max_workers: int = DEFAULT_MAX_WORKERS,
        misfire_grace_seconds: int = DEFAULT_MISFIRE_GRACE_SECONDS,
        manual: bool = False,
    ) -> None:
        self.database = database
        self.settings = settings
        self.slack_port_factory = slack_port_factory
        self.manual = manual
        self.scheduler = build_scheduler(
            database, max_workers=max_workers, misfire_grace_seconds=misfire_grace_seconds
        )
        self._specs: dict[str, JobSpec] = {spec.id: spec for spec in jobs}
        self._on_lead = on_lead or _noop
        self._on_follow = on_follow or _noop
        self.lease: LeaderLease | None = None
        if run_jobs:
            # Each confirmed poll wakes the scheduler, so jobs that other processes add
            # to the shared table are picked up within poll_seconds.
            self.lease = LeaderLease(
                database,
                lease_key,
                on_lead=self._lead,
                on_follow=self._follow,
                poll_seconds=poll_seconds,
                on_tick=self.scheduler.wakeup,
            )

    @property
    def is_leader(self) -> bool:
        return self.lease is not None and self.lease.is_leader

    def start(self) -> Scheduling:
        configure(self.database, self.settings, self.slack_port_factory)
        self.scheduler.start(paused=True)
        if self.lease is not None:
            self.lease.start()
        return self

    def stop(self, wait: bool = True) -> None:
        """Step down (releasing the lease) and shut down; ``wait`` lets running jobs finish."""
        if self.lease is not None:
            self.lease.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def define(self, spec: JobSpec) -> None:
        """Add a job copbot always has; ensured now if this process leads, else on leading."""
        self._specs[spec.id] = spec
        if self.is_leader:
            self._ensure(spec)

    def ensure_job(
        self,
        job_id: str,
        job: RegisteredJob[Any],
        trigger: BaseTrigger,
        *,
        args: Sequence[object] = (),
        kwargs: Mapping[str, object] | None = None,
        name: str | None = None,
    ) -> Job:
        """Add or replace one job from any process (see :func:`ensure_job`)."""
        return ensure_job(self.scheduler, job_id, job, trigger, args=args, kwargs=kwargs, name=name)

    def remove_job(self, job_id: str) -> bool:
        """Remove a job if it exists; True when it did."""
        try:
            self.scheduler.remove_job(job_id)
        except JobLookupError:
            return False
        return True

    def upcoming(self, limit: int | None = 10) -> list[UpcomingJob]:
        """The next jobs to run, soonest first (paused jobs last), for ``/copbot schedule``."""
        rows = [
            UpcomingJob(job.id, job.name, job.next_run_time and job.next_run_time.astimezone(UTC))
            for job in self.scheduler.get_jobs()
        ]
        never = datetime.max.replace(tzinfo=UTC)
        rows.sort(key=lambda row: row.next_run_time or never)
        return rows[:limit]

    def _ensure(self, spec: JobSpec) -> None:
        ensure_job(
            self.scheduler,
            spec.id,
            spec.job,
            spec.trigger,
            args=spec.args,
            kwargs=spec.kwargs,
            name=spec.name,
        )

    def _lead(self) -> None:
        try:
            self.scheduler.store.upgrade_stored()
        except Exception:  # they are still read in today's form; the next leader tries again
            log.exception("could not rewrite the jobs an older release stored")
        for spec in list(self._specs.values()):
            self._ensure(spec)
        if not self.manual:
            self.scheduler.resume()
        self._on_lead()

    def _follow(self) -> None:
        if self.scheduler.running:
            self.scheduler.pause()
        self._on_follow()
