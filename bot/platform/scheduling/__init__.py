"""Scheduling: APScheduler with its jobs in the application database, run by one leader.

- ``registry``: ``@job(name, schedule)``, how a feature's ``jobs.py`` registers a function;
- ``triggers``: local wall-clock times through daylight saving, and the schedules;
- ``context``: what a running job reaches (database, settings, Slack, its scheduled time);
- ``scheduler``: :class:`Scheduling`, a process's scheduler; ``ensure_job`` for one-offs;
- ``store``: the job store, executor and scheduler APScheduler runs; ``lease``: the leader;
- ``upgrade``: jobs stored by an older release; ``health``: the heartbeat job.

It imports no feature: the composition root (``bot.runtime``) imports the feature job
modules so their jobs register.
"""

from bot.platform.scheduling.context import (
    JobContext,
    configure,
    job_context,
    reset,
    running_for,
    scheduled_time,
)
from bot.platform.scheduling.health import HEARTBEATS, heartbeat
from bot.platform.scheduling.lease import LeaderLease
from bot.platform.scheduling.registry import RUN, RegisteredJob, job, registered
from bot.platform.scheduling.scheduler import (
    JobSpec,
    Scheduling,
    UpcomingJob,
    add_weekly_job,
    ensure_job,
    standing_jobs,
)
from bot.platform.scheduling.triggers import (
    WallClockCronTrigger,
    daily,
    daily_trigger,
    every,
    weekly,
    weekly_trigger,
)

__all__ = [
    "HEARTBEATS",
    "RUN",
    "JobContext",
    "JobSpec",
    "LeaderLease",
    "RegisteredJob",
    "Scheduling",
    "UpcomingJob",
    "WallClockCronTrigger",
    "add_weekly_job",
    "configure",
    "daily",
    "daily_trigger",
    "ensure_job",
    "every",
    "heartbeat",
    "job",
    "job_context",
    "registered",
    "reset",
    "running_for",
    "scheduled_time",
    "standing_jobs",
    "weekly",
    "weekly_trigger",
]
