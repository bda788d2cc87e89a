"""The process's one clock: every "now" in copbot (``storage.utcnow``, the scheduled jobs,
the outbox's due times) reads it.

Real time unless a :class:`MovableClock` is installed: the sandbox installs one so a lead
can jump a week ahead and see a pulse close, and tests use the same clock. A movable clock
keeps running at real speed from wherever it was last set; it never goes backwards.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC."""
        ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class MovableClock:
    """Real time plus an offset that only grows: ``set(to)`` moves it forward to ``to``."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, to: datetime) -> datetime:
        """Move to ``to`` (aware); a time already past leaves the clock where it is."""
        if to.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        with self._lock:
            ahead = to.astimezone(UTC) - datetime.now(UTC)
            self._offset = max(self._offset, ahead)
            return self.now()


_REAL = RealClock()
_current: Clock = _REAL


def now() -> datetime:
    return _current.now()


def install(clock: Clock | None) -> None:
    """Make ``clock`` the process's clock (None: back to real time)."""
    global _current
    _current = clock or _REAL


def current() -> Clock:
    return _current
