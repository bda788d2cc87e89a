from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.nudges.rules import Quiet, next_allowed, week_start

LONDON = ZoneInfo("Europe/London")
DEFAULT = Quiet()


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (london(2026, 11, 25, 12, 0), london(2026, 11, 25, 12, 0)),  # Wednesday midday
        (london(2026, 11, 25, 20, 0), london(2026, 11, 26, 8, 0)),  # evening: next morning
        (london(2026, 11, 25, 7, 0), london(2026, 11, 25, 8, 0)),  # early: 08:00 today
        (london(2026, 11, 25, 19, 0), london(2026, 11, 26, 8, 0)),  # quiet starts at 19:00
        (london(2026, 11, 25, 8, 0), london(2026, 11, 25, 8, 0)),  # and ends at 08:00
        (london(2026, 11, 27, 19, 30), london(2026, 11, 30, 8, 0)),  # Friday night: Monday
        (london(2026, 11, 28, 12, 0), london(2026, 11, 30, 8, 0)),  # Saturday: Monday
        (london(2026, 11, 30, 2, 0), london(2026, 11, 30, 8, 0)),  # Monday small hours
    ],
)
def test_quiet_hours_and_weekends_in_local_time(when: datetime, expected: datetime) -> None:
    assert next_allowed(when.astimezone(UTC), DEFAULT, "Europe/London") == expected


def test_weekends_can_be_allowed() -> None:
    saturday = london(2026, 11, 28, 12, 0)
    assert next_allowed(saturday, Quiet(weekends=False), "Europe/London") == saturday


def test_daylight_saving_keeps_the_local_wall_clock() -> None:
    weekdays_only = Quiet(weekends=False)
    # The clocks go forward at 01:00 on Sunday 29 March 2026: 08:00 is 07:00 UTC.
    spring = next_allowed(london(2026, 3, 28, 21, 0), weekdays_only, "Europe/London")
    assert spring == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    # ...and back at 02:00 on Sunday 25 October 2026: 08:00 is 08:00 UTC again.
    autumn = next_allowed(london(2026, 10, 24, 21, 0), weekdays_only, "Europe/London")
    assert autumn == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_each_member_has_their_own_time_zone() -> None:
    # 14:00 in London on a Wednesday is 09:00 in New York: allowed there too.
    when = london(2026, 11, 25, 14, 0).astimezone(UTC)
    assert next_allowed(when, DEFAULT, "America/New_York") == when
    # 06:00 in London is 01:00 in New York: wait for 08:00 New York (13:00 UTC).
    early = london(2026, 11, 25, 6, 0).astimezone(UTC)
    assert next_allowed(early, DEFAULT, "America/New_York") == datetime(
        2026, 11, 25, 13, 0, tzinfo=UTC
    )


def test_daytime_quiet_hours_and_none() -> None:
    lunch = Quiet(start=time(12, 0), end=time(13, 0), weekends=False)
    assert next_allowed(london(2026, 11, 25, 12, 30), lunch, "Europe/London") == london(
        2026, 11, 25, 13, 0
    )
    never = Quiet(start=time(0, 0), end=time(0, 0), weekends=False)
    late = london(2026, 11, 25, 23, 30)
    assert next_allowed(late, never, "Europe/London") == late


def test_the_budget_week_starts_on_monday_locally() -> None:
    sunday_night = london(2026, 11, 29, 23, 30)
    assert week_start(sunday_night, "Europe/London") == london(2026, 11, 23, 0, 0)
    assert week_start(london(2026, 11, 30, 0, 30), "Europe/London") == london(2026, 11, 30)
