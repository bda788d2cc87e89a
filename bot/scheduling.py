"""copbot's one scheduler: APScheduler 3, its jobs in the application database, one leader.

Every copbot process builds the same :class:`Scheduling`. Its scheduler is always started
*paused*, so any process (a web process under ``--no-scheduler`` too) can add, replace and
list jobs in the shared ``apscheduler_jobs`` table. Only the holder of the leader lease
(:class:`LeaderLease`, a PostgreSQL advisory lock on a dedicated connection) resumes it and
runs jobs; on SQLite the single process is the leader.

What APScheduler does, and what this module adds:

- Job store: ``SQLAlchemyJobStore`` on the application's engine. A stored job names its
  function by text (``"bot.jobs:heartbeat"``) and carries only simple arguments; a job whose
  function this process cannot import (an older release during a rolling deploy) is skipped
  and logged, not deleted as APScheduler would.
- Delivery: at least once per scheduled time. The leader submits a run and then records the
  job's next run time; a leader killed between the two lets the next leader run that
  scheduled time again, so jobs key their effects on :func:`bot.jobs.scheduled_time`.
- Late runs: ``misfire_grace_time`` is an hour (APScheduler's default of one second drops a
  run that is seconds late, e.g. during a leader takeover) and ``coalesce`` folds a backlog
  of missed runs into one.
- Daylight saving (``WallClockCronTrigger``): a weekly or daily job keeps its local wall-clock
  time. In the spring-forward gap (01:00-02:00 in Europe/London on the last Sunday of March)
  APScheduler fires a job set for 01:30 once, at 01:30 UTC (02:30 BST, the clock's new
  reading). In the repeated hour of the last Sunday of October APScheduler's ``CronTrigger``
  fires twice (01:30 BST and 01:30 GMT); ``WallClockCronTrigger`` fires only the first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj, utc_timestamp_to_datetime
from sqlalchemy import and_, create_engine, null, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from bot import jobs

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.slack import SlackPort
    from storage import Database

log = logging.getLogger("copbot.scheduling")

JOBSTORE_TABLE = "apscheduler_jobs"
LEASE_KEY = "copbot-scheduler"
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_MISFIRE_GRACE_SECONDS = 3600
DEFAULT_MAX_WORKERS = 4
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The lease connection gives up on a dead network (client side, ~10 s) before PostgreSQL
# drops a silent leader's session and its lock (server side, ~10 + 4 x 5 = 30 s), so an
# old leader has stepped down before a new one can take over, and takeover stays < 60 s.
_LEASE_CONNECT_ARGS: dict[str, Any] = {
    "application_name": "copbot-leader",
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 10_000,
}
_LEASE_SERVER_OPTIONS = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=4 "
    "-c statement_timeout=5000"
)


# --- job store and executor ---------------------------------------------------------------


class CopbotJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy store on the application's engine, with two changes.

    ``shutdown()`` leaves the shared engine alone (the store does not own it), and a job whose
    function cannot be imported here is skipped, not deleted: during a rolling deploy an older
    process must not erase jobs that a newer release added.
    """

    def __init__(self, engine: Engine, tablename: str = JOBSTORE_TABLE) -> None:
        super().__init__(engine=engine, tablename=tablename)
        self._unloadable: set[str] = set()

    def shutdown(self) -> None:
        """The engine belongs to ``Database``; disposing it here would reset the app's pool."""

    def get_next_run_time(self) -> datetime | None:
        # Jobs this process cannot load must not pull the next wakeup into the past.
        condition = self.jobs_t.c.next_run_time != null()
        if self._unloadable:
            condition = and_(condition, self.jobs_t.c.id.not_in(self._unloadable))
        query = (
            select(self.jobs_t.c.next_run_time)
            .where(condition)
            .order_by(self.jobs_t.c.next_run_time)
            .limit(1)
        )
        with self.engine.begin() as connection:
            return utc_timestamp_to_datetime(connection.execute(query).scalar())

    def _get_jobs(self, *conditions: Any) -> list[Job]:
        query = select(self.jobs_t.c.id, self.jobs_t.c.job_state).order_by(
            self.jobs_t.c.next_run_time
        )
        if conditions:
            query = query.where(and_(*conditions))
        loaded: list[Job] = []
        with self.engine.begin() as connection:
            rows = connection.execute(query).all()
        for row in rows:
            try:
                loaded.append(self._reconstitute_job(row.job_state))
            except Exception as error:
                if row.id not in self._unloadable:
                    log.warning(
                        "scheduled job %r cannot be loaded by this process (%s: %s); "
                        "skipping it, a process running the release that added it will run it",
                        row.id,
                        type(error).__name__,
                        error,
                    )
                self._unloadable.add(row.id)
            else:
                self._unloadable.discard(row.id)
        return loaded


def _run_with_scheduled_time(
    job: Job, jobstore_alias: str, run_times: Sequence[datetime], logger_name: str
) -> list[Any]:
    """APScheduler's ``run_job``, one occurrence at a time, telling the job its scheduled time."""
    events: list[Any] = []
    for run_time in run_times:
        with jobs.running_for(run_time):
            events.extend(run_job(job, jobstore_alias, [run_time], logger_name))
    return events


class ScheduledTimeExecutor(ThreadPoolExecutor):
    """A thread pool whose jobs can read their scheduled time (``bot.jobs.scheduled_time()``)."""

    def _do_submit_job(self, job: Job, run_times: Sequence[datetime]) -> None:
        def done(future: Any) -> None:
            error = future.exception()
            if error is not None:
                self._run_job_error(job.id, error, error.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(
            _run_with_scheduled_time, job, job._jobstore_alias, run_times, self._logger.name
        )
        future.add_done_callback(done)


class CopbotScheduler(BackgroundScheduler):
    """APScheduler's ``BackgroundScheduler`` without a shutdown flaw.

    After ``shutdown()`` its thread wakes and processes due jobs once more, with the
    executors already shut down: each run fails to submit, yet the store records it as done
    and moves the job on. A follower or ``--no-scheduler`` process stopping (its scheduler is
    paused but still started) would thereby consume runs meant for the leader.
    """

    def _process_jobs(self) -> float | None:
        # shutdown() takes this lock before stopping executors, so state is stable inside it.
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                return None
            return super()._process_jobs()


def build_scheduler(
    database: Database,
    settings: Settings | None = None,
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    misfire_grace_seconds: int = DEFAULT_MISFIRE_GRACE_SECONDS,
) -> CopbotScheduler:
    """A scheduler whose jobs live in ``apscheduler_jobs`` on the application database.

    The scheduler's own zone is UTC; local times belong to each job's trigger (see
    :func:`weekly_trigger`), so the community zone in ``settings`` is applied per job.
    """
    del settings  # the signature is shared with Scheduling; nothing here depends on it yet
    return CopbotScheduler(
        jobstores={"default": CopbotJobStore(database.engine)},
        executors={"default": ScheduledTimeExecutor(max_workers)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": misfire_grace_seconds,
        },
        timezone=UTC,
    )


# --- triggers -------------------------------------------------------------------------------


def _second_occurrence(moment: datetime, zone: tzinfo) -> bool:
    """True when ``moment`` is the second reading of a wall-clock time repeated by DST."""
    local = moment.astimezone(UTC).astimezone(zone)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


class WallClockCronTrigger(CronTrigger):
    """A cron trigger for "at HH:MM local time": once per matching day, whatever DST does.

    APScheduler's ``CronTrigger`` fires a second time when the clock goes back and the time
    repeats; this skips that second reading. Meant for daily and weekly times, not for
    hourly schedules (it would skip the repeated hour's runs).
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire_time = super().get_next_fire_time(previous_fire_time, now)
        while fire_time is not None and _second_occurrence(fire_time, self.timezone):
            # Compare in UTC: datetimes sharing a tzinfo compare by wall clock, ignoring fold.
            later = max(now.astimezone(UTC), fire_time.astimezone(UTC))
            fire_time = super().get_next_fire_time(fire_time, later)
        return fire_time


def _zone(zone: str | tzinfo) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def _clock(at: str | time) -> time:
    if isinstance(at, time):
        return at
    try:
        return time.fromisoformat(at)
    except ValueError:
        raise ValueError(f"time of day must be HH:MM, not {at!r}") from None


def _weekday(weekday: int | str) -> str:
    if isinstance(weekday, int):
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday}")
        return WEEKDAYS[weekday]
    day = weekday.strip().lower()[:3]
    if day not in WEEKDAYS:
        raise ValueError(f"weekday must be one of {', '.join(WEEKDAYS)}, not {weekday!r}")
    return day


def weekly_trigger(weekday: int | str, at: str | time, zone: str | tzinfo) -> WallClockCronTrigger:
    """Every ``weekday`` (0=Monday or "mon") at ``at`` ("HH:MM") local time in ``zone``."""
    clock = _clock(at)
    return WallClockCronTrigger(
        day_of_week=_weekday(weekday), hour=clock.hour, minute=clock.minute, timezone=_zone(zone)
    )


def daily_trigger(at: str | time, zone: str | tzinfo) -> WallClockCronTrigger:
    """Every day at ``at`` ("HH:MM") local time in ``zone``."""
    clock = _clock(at)
    return WallClockCronTrigger(hour=clock.hour, minute=clock.minute, timezone=_zone(zone))


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
        f"not {type(value).__name__}; jobs get live objects from bot.jobs.context()"
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
    func: str,
    trigger: BaseTrigger,
    *,
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    name: str | None = None,
) -> Job:
    """Add or replace the job ``job_id``; an identical stored job is left untouched.

    Leaving it untouched keeps its next run time: re-adding at every start would move an
    interval job's schedule and would drop a run that is due but not yet run.
    """
    if not isinstance(func, str) or ":" not in func:
        raise TypeError("func must be a textual reference 'module:function', e.g. bot.jobs:x")
    ref_to_obj(func)  # fail now, not when the job is loaded
    kwargs = dict(kwargs or {})
    _check_simple(list(args), job_id)
    _check_simple(kwargs, job_id)
    name = name or job_id
    try:
        existing = scheduler.get_job(job_id)
    except Exception as error:  # stored by a release whose function is gone: replace it
        log.warning("replacing scheduled job %r that cannot be loaded (%s)", job_id, _brief(error))
        existing = None
    if (
        existing is not None
        and existing.func_ref == func
        and tuple(existing.args) == tuple(args)
        and dict(existing.kwargs) == kwargs
        and existing.name == name
        and _trigger_key(existing.trigger) == _trigger_key(trigger)
    ):
        return existing
    return scheduler.add_job(
        func,
        trigger,
        id=job_id,
        name=name,
        args=list(args),
        kwargs=kwargs,
        replace_existing=True,
    )


def add_weekly_job(
    scheduler: BackgroundScheduler,
    job_id: str,
    func: str,
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
    return ensure_job(scheduler, job_id, func, trigger, args=args, kwargs=kwargs, name=name)


@dataclass(frozen=True)
class JobSpec:
    """A job copbot always has (digests, delivery sweeps...), ensured by whoever leads."""

    id: str
    func: str
    trigger: BaseTrigger
    args: tuple[object, ...] = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)
    name: str | None = None


# --- leader lease ---------------------------------------------------------------------------


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _noop() -> None:
    return None


class LeaderLease:
    """Exactly one process leads: the holder of a PostgreSQL session-level advisory lock.

    The lock is held on a dedicated connection (its own unpooled engine, never the request
    pool). A thread checks every ``poll_seconds``: a follower tries to take the lock; the
    leader checks it still holds it, and steps down (``on_follow``) the moment its connection
    fails, then contends again. When a leader dies its connection closes, PostgreSQL releases
    the lock, and a follower takes over at its next poll. On SQLite the process always leads.

    ``on_lead``/``on_follow`` run on the lease thread (the first attempt in ``start()``);
    ``on_tick`` runs after each poll that confirms the lease.
    """

    def __init__(
        self,
        database: Database,
        key: str = LEASE_KEY,
        on_lead: Callable[[], None] | None = None,
        on_follow: Callable[[], None] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        if poll_seconds <= 0:
            raise ValueError("poll_seconds must be positive")
        self.database = database
        self.key = key
        self.lock_id = advisory_key(key)
        self.poll_seconds = poll_seconds
        self._on_lead = on_lead or _noop
        self._on_follow = on_follow or _noop
        self._on_tick = on_tick or _noop
        self._uses_lock = database.dialect == "postgresql"
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._backend_pid: int | None = None
        self._leader = False
        self._unreachable = False
        self._mutex = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding (or trying for) the lock, for logs and tests."""
        return self._backend_pid

    def start(self) -> LeaderLease:
        if self._thread is not None:
            raise RuntimeError("the leader lease is already running")
        self._stopping.clear()
        self.tick()
        self._thread = threading.Thread(target=self._run, name="copbot-leader-lease", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling; a leader steps down and releases the lock for the next process."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_seconds + 15)
            self._thread = None
        with self._mutex:
            if self._leader:
                self._step_down("stopping")
            self._close()
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def tick(self) -> bool:
        """One round: keep, lose or take the lease. Returns whether this process leads."""
        with self._mutex:
            if self._leader:
                if self._holds():
                    self._call(self._on_tick, "on_tick")
                else:
                    self._step_down("lost the lease connection")
            elif self._acquire():
                self._leader = True
                how = f"advisory lock, backend {self._backend_pid}" if self._uses_lock else "SQLite"
                log.info("pid %s is the scheduler leader (%s)", os.getpid(), how)
                try:
                    self._on_lead()
                except Exception:
                    log.exception("starting as leader failed; releasing the lease")
                    self._step_down("on_lead failed")
                else:
                    self._call(self._on_tick, "on_tick")
            return self._leader

    def _run(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            try:
                self.tick()
            except Exception:  # the lease thread must outlive any one bad round
                log.exception("leader lease round failed")

    def _acquire(self) -> bool:
        if not self._uses_lock:
            return True
        try:
            connection = self._connect()
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_id}
            ).scalar()
        except Exception as error:
            self._close()
            if not self._unreachable:
                log.warning("leader lease: database unreachable (%s); will retry", _brief(error))
            self._unreachable = True
            return False
        self._unreachable = False
        return bool(taken)

    def _holds(self) -> bool:
        """Ask PostgreSQL whether this session still holds the lock (not merely connects)."""
        if not self._uses_lock:
            return True
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND pid = pg_backend_pid() AND objsubid = 1 "
                    "AND classid::bigint = :high AND objid::bigint = :low)"
                ),
                {"high": (self.lock_id >> 32) & 0xFFFFFFFF, "low": self.lock_id & 0xFFFFFFFF},
            ).scalar()
        except Exception as error:
            log.warning("leader lease: lease connection failed (%s)", _brief(error))
            self._close()
            return False
        return bool(held)

    def _step_down(self, reason: str) -> None:
        self._leader = False
        log.warning("pid %s stops leading the scheduler: %s", os.getpid(), reason)
        self._call(self._on_follow, "on_follow")
        if self._uses_lock and self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self.lock_id}
                )
            except Exception:
                self._close()

    def _connect(self) -> Connection:
        if self._connection is None:
            if self._engine is None:
                self._engine = _lease_engine(self.database)
            self._connection = self._engine.connect()
            self._backend_pid = self._connection.execute(text("SELECT pg_backend_pid()")).scalar()
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the lease connection failed", exc_info=True)
        self._connection = None
        self._backend_pid = None

    @staticmethod
    def _call(callback: Callable[[], None], name: str) -> None:
        try:
            callback()
        except Exception:
            log.exception("leader lease %s callback failed", name)


def _lease_engine(database: Database) -> Engine:
    """An unpooled autocommit engine: one long-lived session, never idle in a transaction."""
    url = database.engine.url
    connect_args = dict(_LEASE_CONNECT_ARGS)
    given = url.query.get("options")
    connect_args["options"] = f"{given} {_LEASE_SERVER_OPTIONS}" if given else _LEASE_SERVER_OPTIONS
    return create_engine(
        url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=connect_args
    )


def _brief(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


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
            database, settings, max_workers=max_workers, misfire_grace_seconds=misfire_grace_seconds
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
        jobs.configure(self.database, self.settings, self.slack_port_factory)
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
        func: str,
        trigger: BaseTrigger,
        *,
        args: Sequence[object] = (),
        kwargs: Mapping[str, object] | None = None,
        name: str | None = None,
    ) -> Job:
        """Add or replace one job from any process (see :func:`ensure_job`)."""
        return ensure_job(
            self.scheduler, job_id, func, trigger, args=args, kwargs=kwargs, name=name
        )

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
            spec.func,
            spec.trigger,
            args=spec.args,
            kwargs=spec.kwargs,
            name=spec.name,
        )

    def _lead(self) -> None:
        for spec in list(self._specs.values()):
            self._ensure(spec)
        if not self.manual:
            self.scheduler.resume()
        self._on_lead()

    def _follow(self) -> None:
        if self.scheduler.running:
            self.scheduler.pause()
        self._on_follow()
