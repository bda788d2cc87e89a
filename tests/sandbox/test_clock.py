"""The sandbox's movable clock: a jump runs what the scheduler would have run, in order, and
people see it in Slack (the twin) as they would after that much time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import demo
from bot.config import Settings
from sandbox import World
from sandbox.clock import jump, next_hour, next_monday, tomorrow_at
from storage import utcnow

LONDON = ZoneInfo("Europe/London")
LEAD = demo.PEOPLE[0].user_id  # Amara, a lead
MEMBERS = [person.user_id for person in demo.PEOPLE[1:6]]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    with World.start(settings) as world:
        yield world


def test_destinations_for_the_jump_buttons() -> None:
    sunday = datetime(2026, 3, 29, 0, 40, tzinfo=LONDON)  # the night the clocks go forward
    assert next_hour(sunday) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:00 BST
    assert next_hour(datetime(2026, 1, 5, 9, 59, tzinfo=LONDON)) == datetime(
        2026, 1, 5, 10, 0, tzinfo=LONDON
    )
    assert tomorrow_at(sunday, 9) == datetime(2026, 3, 30, 9, 0, tzinfo=LONDON)
    assert tomorrow_at(datetime(2026, 1, 5, 23, 30, tzinfo=UTC), 9, "Europe/London") == datetime(
        2026, 1, 6, 9, 0, tzinfo=LONDON
    )
    assert next_monday(sunday) == datetime(2026, 3, 30, 9, 0, tzinfo=LONDON)
    monday = datetime(2026, 3, 30, 8, 0, tzinfo=LONDON)
    assert next_monday(monday) == datetime(2026, 4, 6, 9, 0, tzinfo=LONDON)


def _dm_text(world: World, user: str) -> str:
    return json.dumps(world.twin.dms(user))


def test_a_weekly_pulse_opens_reminds_closes_and_shows_results_as_the_clock_moves(
    world: World,
) -> None:
    driver, twin = world.driver, world.twin
    driver.command(LEAD, "/pulse", "new", channel="C0SBIDEAS")
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "weekly",
            "Audience": "Everyone",
            "Questions": ["How are you feeling about improvement work this week?"],
            "Schedule": "Weekly",
            "Day": "Monday",
            "Time": "09:30",
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "every week" in _dm_text(world, LEAD), message="scheduled")
    assert "improvement work this week" not in _dm_text(world, MEMBERS[0])

    monday = next_monday(utcnow(), 10, "Europe/London")
    ran = jump(world, monday)
    assert any("Pulse weekly: open this week's run" in line for line in ran), ran
    assert any("Delivered" in line for line in ran), ran
    assert utcnow() >= monday
    for user in MEMBERS:
        assert "improvement work this week" in _dm_text(world, user), user
    # Slack dates the DM by the sandbox's clock: Monday 09:30, when it was due.
    sent = datetime.fromtimestamp(float(twin.dms(MEMBERS[0])[-1]["ts"]), UTC)
    assert monday - timedelta(minutes=30) <= sent < monday

    for user, value in zip(MEMBERS, ["4", "5", "3", "4", "2"], strict=True):
        dm = twin.dms(user)[-1]
        driver.click(user, value, message=(twin.dm_channel(user), dm["ts"]))
    for user in MEMBERS:
        twin.wait_for(lambda user=user: "answer is in" in twin.dms(user)[-1]["text"], message=user)

    ran = jump(world, monday + timedelta(days=1))
    assert "Results of the weekly pulse" not in _dm_text(world, LEAD)
    ran += jump(world, monday + timedelta(days=7))
    assert any("Pulses: remind, close, send results" in line for line in ran), ran
    others = [person.user_id for person in demo.PEOPLE[6:]]
    assert "reminder" in _dm_text(world, others[0]).lower()
    assert "reminder" not in _dm_text(world, MEMBERS[0]).lower()  # answered: not reminded
    results = _dm_text(world, LEAD)
    assert "Results of the weekly pulse" in results
    assert f"5 of {len(demo.PEOPLE)} answered" in results
    assert twin.files and twin.files[-1]["content"].startswith(b"\x89PNG")
    # The next Monday's run opened on the way.
    assert sum("Pulse weekly: open" in line for line in ran) == 1


def test_the_clock_never_goes_back_and_a_past_time_runs_nothing(world: World) -> None:
    before = utcnow()
    assert jump(world, before - timedelta(days=1)) == []
    assert utcnow() >= before


def test_an_exchange_round_is_proposed_after_its_deadline_and_followed_up_a_week_on(
    world: World,
) -> None:
    driver, twin = world.driver, world.twin
    today = utcnow().astimezone(LONDON).date()
    driver.command(LEAD, "/exchange", "new", channel="C0SBIDEAS")
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="programme form")
    driver.fill(
        LEAD,
        {"Name": "rotation", "Format": "Half-day swap", "Sign-up deadline": today.isoformat()},
    )
    assert not driver.submit(LEAD).errors
    people = [person.user_id for person in demo.PEOPLE[4:10]]
    for n, user in enumerate(people):
        driver.command(user, "/exchange", "join rotation", channel="C0SBIDEAS")
        twin.wait_for(lambda user=user: twin.current_modal(user) is not None, message=user)
        driver.fill(user, {"Professional interests": [("Frailty", "Discharge and flow")[n % 2]]})
        assert not driver.submit(user).errors
    assert "Proposed matches for rotation" not in _dm_text(world, LEAD)

    ran = jump(world, tomorrow_at(utcnow(), 9, "Europe/London"))
    assert any("Exchanges: propose, introduce" in line for line in ran), ran
    assert "Proposed matches for rotation" in _dm_text(world, LEAD)
    review = next(m for m in reversed(twin.dms(LEAD)) if "Proposed matches" in m["text"])
    driver.click(LEAD, "Approve", message=(twin.dm_channel(LEAD), review["ts"]))
    twin.wait_for(lambda: twin.group_dms(people[0]), message="introduced")
    group = twin.group_dms(people[0])[0]
    twin.wait_for(lambda: twin.messages(group), message="the introduction")
    assert "matched for rotation" in json.dumps(twin.messages(group))

    jump(world, utcnow() + timedelta(days=3))
    assert "gentle nudge" not in json.dumps(twin.messages(group))
    ran = jump(world, utcnow() + timedelta(days=5))
    assert "gentle nudge" in json.dumps(twin.messages(group)), ran


def test_leads_get_the_weekly_digest_preview_on_monday_morning(world: World) -> None:
    driver, twin = world.driver, world.twin
    member = demo.PEOPLE[7].user_id
    driver.post_message(member, "C0SBFRAIL", "Our virtual ward cut readmissions by a fifth.")
    driver.command(member, "/copbot", "learned Huddles at 8:45 beat huddles at 9:00.")
    world.settle()
    before = len(twin.dms(LEAD))
    ran = jump(world, next_monday(utcnow(), 9, "Europe/London"))
    assert any("Weekly learning digest previews" in line for line in ran), ran
    previews = [m for m in twin.dms(LEAD)[before:] if "Publish" in json.dumps(m.get("blocks"))]
    assert previews, twin.dms(LEAD)[before:]


def test_the_sandbox_keeps_its_time_across_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its data is dated by the moved clock, so a restart must not put the clock back."""
    monkeypatch.chdir(tmp_path)  # the sandbox's own var/sandbox.db and var/sandbox-clock.txt
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with World.start(settings) as world:
        later = utcnow() + timedelta(days=9)
        jump(world, later)
    assert (tmp_path / "var" / "sandbox-clock.txt").exists()
    assert utcnow() < later  # the process's clock is real time again
    with World.start(settings) as world:
        assert utcnow() >= later
        assert jump(world, later) == []  # nothing runs twice
