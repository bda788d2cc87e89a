"""What a running job can reach: its process's context and the time it was scheduled for.

A stored job carries only simple arguments (ids, strings, numbers). Live objects (the
database, settings, a Slack port) cannot be stored, so each process calls :func:`configure`
once at start (``Scheduling.start()`` does) and jobs fetch them with :func:`job_context`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.slack import SlackPort
    from storage import Database


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


def job_context() -> JobContext:
    if _context is None:
        raise RuntimeError("bot.platform.scheduling.configure() has not been called here")
    return _context


def reset() -> None:
    """Forget the context (tests)."""
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
