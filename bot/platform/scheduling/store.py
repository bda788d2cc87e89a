"""Where jobs live and how they run: APScheduler's SQLAlchemy job store on the application
database, a thread pool that tells each job its scheduled time, and the scheduler itself.

- A stored job names :data:`~bot.platform.scheduling.registry.RUN` and its registered name,
  with only simple arguments. A job this process cannot load (its name is registered by a
  newer release during a rolling deploy) is skipped and logged, not deleted as APScheduler
  would. Jobs stored by an older release are read through ``upgrade``.
- Delivery: at least once per scheduled time. The leader submits a run and then records the
  job's next run time; a leader killed between the two lets the next leader run that
  scheduled time again, so jobs key their effects on ``scheduled_time()``.
- Late runs: ``misfire_grace_time`` is an hour (APScheduler's default of one second drops a
  run that is seconds late, e.g. during a leader takeover) and ``coalesce`` folds a backlog
  of missed runs into one.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.util import utc_timestamp_to_datetime
from sqlalchemy import and_, null, select, update
from sqlalchemy.engine import Engine

from bot.platform.scheduling import upgrade
from bot.platform.scheduling.context import running_for
from bot.platform.scheduling.registry import RUN, registered

if TYPE_CHECKING:
    from storage import Database

log = logging.getLogger("copbot.scheduling")

JOBSTORE_TABLE = "apscheduler_jobs"
DEFAULT_MISFIRE_GRACE_SECONDS = 3600
DEFAULT_MAX_WORKERS = 4


class CopbotJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy store on the application's engine, with three changes.

    ``shutdown()`` leaves the shared engine alone (the store does not own it); a job this
    process cannot load is skipped, not deleted: during a rolling deploy an older process
    must not erase jobs that a newer release added; and jobs an older release stored are
    read in today's form (``upgrade``).
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

    def upgrade_stored(self) -> int:
        """Write jobs an older release stored in today's form; returns how many changed.

        A row changed meanwhile (a run recorded, a job replaced) is left for its writer.
        """
        with self.engine.begin() as connection:
            rows = connection.execute(select(self.jobs_t.c.id, self.jobs_t.c.job_state)).all()
        upgraded = 0
        for row in rows:
            try:
                state, changed = upgrade.load_state(row.job_state)
            except Exception:
                continue  # unreadable here (a newer release's): _get_jobs logs it
            if not changed:
                continue
            with self.engine.begin() as connection:
                upgraded += connection.execute(
                    update(self.jobs_t)
                    .where(self.jobs_t.c.id == row.id, self.jobs_t.c.job_state == row.job_state)
                    .values(job_state=pickle.dumps(state, self.pickle_protocol))
                ).rowcount
        if upgraded:
            log.info("rewrote %s scheduled jobs stored by an older release", upgraded)
        return upgraded

    def _reconstitute_job(self, job_state: bytes) -> Job:
        state, _ = upgrade.load_state(job_state)
        if state["func"] == RUN:
            registered(state["args"][0])  # a name this release does not know: not loadable
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

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
        with running_for(run_time):
            events.extend(run_job(job, jobstore_alias, [run_time], logger_name))
    return events


class ScheduledTimeExecutor(ThreadPoolExecutor):
    """A thread pool whose jobs can read their scheduled time (``scheduled_time()``)."""

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

    @property
    def store(self) -> CopbotJobStore:
        """The one job store (``apscheduler_jobs``)."""
        store = self._lookup_jobstore("default")
        assert isinstance(store, CopbotJobStore)
        return store

    def _process_jobs(self) -> float | None:
        # shutdown() takes this lock before stopping executors, so state is stable inside it.
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                return None
            return super()._process_jobs()


def build_scheduler(
    database: Database,
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
    misfire_grace_seconds: int = DEFAULT_MISFIRE_GRACE_SECONDS,
) -> CopbotScheduler:
    """A scheduler whose jobs live in ``apscheduler_jobs`` on the application database.

    The scheduler's own zone is UTC; local times belong to each job's trigger (see
    ``weekly_trigger``).
    """
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
