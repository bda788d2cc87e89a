"""Per-member delivery rules: pure functions of a preference, a time zone and a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

SATURDAY = 5


@dataclass(frozen=True)
class Kind:
    """A kind of nudge: its label for people, and whether it counts against the weekly budget."""

    key: str
    label: str
    essential: bool = False


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("pulse.delivery", "Pulse checks", essential=True),
        Kind("pulse.reminder", "Pulse reminders"),
        Kind("challenge.opening", "New challenges"),
        Kind("challenge.closing", "Challenges closing soon"),
        Kind("exchange.no_date", "Exchange: setting a date"),
        Kind("exchange.feedback", "Exchange: feedback"),
        Kind("ideas.awaiting_review", "Ideas waiting for review (leads)", essential=True),
        Kind("digest.weekly", "Weekly digest (leads)", essential=True),
    )
}


@dataclass(frozen=True)
class Quiet:
    """Quiet hours in the member's own time zone; ``start`` may be after ``end`` (overnight)."""

    start: time = time(19, 0)
    end: time = time(8, 0)
    weekends: bool = True

    def is_quiet(self, local: datetime) -> bool:
        if self.weekends and local.weekday() >= SATURDAY:
            return True
        now = local.timetz().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start > self.end:  # overnight, e.g. 19:00-08:00
            return now >= self.start or now < self.end
        return self.start <= now < self.end


def next_allowed(when: datetime, quiet: Quiet, timezone: str) -> datetime:
    """The first moment at or after ``when`` outside the member's quiet hours (UTC).

    Walks forward in local wall-clock time, so daylight-saving changes keep "08:00" at
    08:00; a few steps cover any weekend.
    """
    zone = ZoneInfo(timezone)
    local = when.astimezone(zone)
    for _ in range(8):
        if not quiet.is_quiet(local):
            break
        if quiet.weekends and local.weekday() >= SATURDAY:
            monday = local.date() + timedelta(days=7 - local.weekday())
            local = datetime.combine(monday, time.min, zone)
            continue
        end = datetime.combine(local.date(), quiet.end, zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), quiet.end, zone)
        local = end
    return local.astimezone(UTC)


def week_start(now: datetime, timezone: str) -> datetime:
    """Monday 00:00 of the member's current week, in UTC: the budget's period."""
    local = now.astimezone(ZoneInfo(timezone))
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time.min, ZoneInfo(timezone)).astimezone(UTC)
