"""When jobs run: wall-clock triggers that survive daylight saving, and the schedules a
job is registered with (``every(minutes=5)``, ``daily("02:30")``, ``weekly("mon", "08:00")``).

Daylight saving (``WallClockCronTrigger``): a weekly or daily job keeps its local wall-clock
time. In the spring-forward gap (01:00-02:00 in Europe/London on the last Sunday of March)
APScheduler fires a job set for 01:30 once, at 01:30 UTC (02:30 BST, the clock's new
reading). In the repeated hour of the last Sunday of October APScheduler's ``CronTrigger``
fires twice (01:30 BST and 01:30 GMT); ``WallClockCronTrigger`` fires only the first.

Stored jobs pickle their trigger by class path: moving or renaming ``WallClockCronTrigger``
needs an entry in ``upgrade.MOVED_CLASSES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


# --- schedules a standing job is registered with ------------------------------------------


@dataclass(frozen=True)
class Every:
    """Every ``minutes`` minutes: a sweep, so UTC (no wall-clock time to keep)."""

    minutes: int

    def trigger(self, zone: str | tzinfo) -> BaseTrigger:
        del zone  # an interval has no local time
        return IntervalTrigger(minutes=self.minutes, timezone=UTC)


@dataclass(frozen=True)
class At:
    """At ``at`` local time in the community's zone: every day, or every ``weekday``."""

    at: str
    weekday: str | None = None

    def __post_init__(self) -> None:
        _clock(self.at)  # a mistyped time fails when the job is registered, not at start
        if self.weekday is not None:
            _weekday(self.weekday)

    def trigger(self, zone: str | tzinfo) -> BaseTrigger:
        if self.weekday is None:
            return daily_trigger(self.at, zone)
        return weekly_trigger(self.weekday, self.at, zone)


Schedule = Every | At


def every(*, minutes: int) -> Every:
    """A standing job's schedule: every ``minutes`` minutes."""
    return Every(minutes)


def daily(at: str) -> At:
    """A standing job's schedule: every day at ``at`` ("HH:MM") in the community's zone."""
    return At(at)


def weekly(weekday: str, at: str) -> At:
    """A standing job's schedule: every ``weekday`` ("mon") at ``at`` in the community's zone."""
    return At(at, weekday)
