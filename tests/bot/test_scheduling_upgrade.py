"""Jobs an older release stored keep running after the upgrade.

Until the job registry a stored job named its function (``"bot.jobs:pulse_open"``) and a
wall-clock trigger pickled as ``bot.scheduling.WallClockCronTrigger``; neither module exists
now. The rows here are written by APScheduler itself, with stand-ins for those two modules
present only while writing, so the database holds what the older release wrote.
"""

from __future__ import annotations

import pickle
import sys
import time as clock
import types
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from bot.config import Settings
from bot.platform.scheduling import (
    RUN,
    Scheduling,
    WallClockCronTrigger,
    every,
    job,
    registered,
    standing_jobs,
    weekly,
)
from bot.platform.scheduling.store import build_scheduler
from bot.platform.scheduling.upgrade import BEFORE_THE_REGISTRY
from bot.runtime import JOB_MODULES
from storage import Database

LONDON = "Europe/London"


@pytest.fixture
def job_settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url, copbot_timezone=LONDON)  # type: ignore[call-arg]


def _stand_in(*args: object) -> None:
    raise AssertionError("a job ran the older release's function")


@contextmanager
def older_release() -> Iterator[type[WallClockCronTrigger]]:
    """While it lasts, ``bot.jobs`` and ``bot.scheduling`` import as they did; yields the
    older release's ``bot.scheduling.WallClockCronTrigger``."""
    jobs = types.ModuleType("bot.jobs")
    for ref in BEFORE_THE_REGISTRY:
        setattr(jobs, ref.split(":")[1], _stand_in)
    scheduling = types.ModuleType("bot.scheduling")
    old_trigger = type("WallClockCronTrigger", (WallClockCronTrigger,), {})
    old_trigger.__module__ = "bot.scheduling"
    scheduling.WallClockCronTrigger = old_trigger  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "bot.jobs", jobs)
        patch.setitem(sys.modules, "bot.scheduling", scheduling)
        yield old_trigger


def stored_states(database: Database) -> dict[str, bytes]:
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, job_state FROM apscheduler_jobs")).all()
    return {row.id: bytes(row.job_state) for row in rows}


def store_as_the_older_release(database: Database, beats: Path, due: datetime) -> datetime:
    """Three jobs, stored as the release before the registry stored them; returns the
    weekly digests' next run time."""
    with older_release() as old_trigger:
        writer = build_scheduler(database)
        writer.start(paused=True)
        # A heartbeat writing to a file, due a minute ago.
        writer.add_job(
            "bot.jobs:heartbeat",
            IntervalTrigger(hours=1),
            id="beat",
            args=[str(beats)],
            next_run_time=due,
        )
        # A weekly pulse's opening, due a minute ago (its pulse is gone: it opens nothing).
        writer.add_job(
            "bot.jobs:pulse_open",
            old_trigger(day_of_week="wed", hour=0, minute=5, timezone=LONDON),
            id="pulse:7:open",
            args=[7],
            name="Pulse Team: open this week's run",
            next_run_time=due,
        )
        # A standing job, not due: leading must keep it (and its next run), not replace it.
        digests = writer.add_job(
            "bot.jobs:weekly_digests",
            old_trigger(day_of_week="mon", hour=8, minute=0, timezone=LONDON),
            id="learning:weekly-digests",
            name="Weekly learning digest previews (to leads)",
        )
        writer.shutdown()
    assert "bot.jobs" not in sys.modules and "bot.scheduling" not in sys.modules
    return digests.next_run_time


def test_jobs_stored_before_the_registry_run_after_the_upgrade(
    database: Database, job_settings: Settings, tmp_path: Path
) -> None:
    beats = tmp_path / "beats"
    due = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    digests_next = store_as_the_older_release(database, beats, due)
    written = stored_states(database)
    assert all(b"bot.jobs" in state for state in written.values())
    assert b"bot.scheduling" in written["pulse:7:open"]

    # A process that does not lead reads them as they are, and leaves them be.
    web = Scheduling(database, job_settings, run_jobs=False).start()
    try:
        assert {row.id: row.next_run_time for row in web.upcoming()} == {
            "beat": due,
            "pulse:7:open": due,
            "learning:weekly-digests": digests_next,
        }
    finally:
        web.stop()
    assert stored_states(database) == written

    # The leader rewrites them in today's form and runs the ones that are due.
    ran: list[tuple[str, BaseException | None]] = []
    leader = Scheduling(
        database,
        job_settings,
        jobs=standing_jobs(LONDON),
        lease_key=f"copbot-test-{uuid.uuid4().hex}",
        poll_seconds=1,
    )

    def record(event: JobExecutionEvent) -> None:
        ran.append((event.job_id, event.exception))

    leader.scheduler.add_listener(record, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    leader.start()
    try:
        assert leader.is_leader
        deadline = clock.monotonic() + 15
        while clock.monotonic() < deadline and not ({"beat", "pulse:7:open"} <= dict(ran).keys()):
            clock.sleep(0.05)
        clock.sleep(0.5)  # time enough for a second run to show, were there one
        upcoming = {row.id: row.next_run_time for row in leader.upcoming(None)}
    finally:
        leader.stop()

    assert sorted(ran, key=lambda item: item[0]) == [("beat", None), ("pulse:7:open", None)]
    (line,) = beats.read_text().splitlines()
    assert float(line.split()[1]) == due.timestamp()  # run once, for its scheduled time
    assert upcoming["learning:weekly-digests"] == digests_next
    assert upcoming["pulse:7:open"] > due

    rewritten = stored_states(database)
    assert not [job_id for job_id, state in rewritten.items() if b"bot.jobs" in state]
    assert not [job_id for job_id, state in rewritten.items() if b"bot.scheduling" in state]
    states: dict[str, dict[str, Any]] = {
        job_id: pickle.loads(state)  # plain pickle: nothing of the older release is left
        for job_id, state in rewritten.items()
    }
    assert (states["beat"]["func"], states["beat"]["args"]) == (
        RUN,
        ("copbot:heartbeat", str(beats)),
    )
    assert states["pulse:7:open"]["args"] == ("pulse:open", 7)
    assert isinstance(states["pulse:7:open"]["trigger"], WallClockCronTrigger)
    assert states["learning:weekly-digests"]["args"] == ("learning:weekly-digests",)
    assert {state["func"] for state in states.values()} == {RUN}


def test_every_job_stored_before_the_registry_has_a_job_today() -> None:
    assert JOB_MODULES  # the composition root imported them, so their jobs are registered
    for ref, name in BEFORE_THE_REGISTRY.items():
        found = registered(name)
        assert found.func.__name__ == ref.split(":")[1]
    # The standing jobs keep the IDs they had, so stored schedules carry on.
    assert {spec.id for spec in standing_jobs(LONDON)} == set(BEFORE_THE_REGISTRY.values()) - {
        "pulse:open"
    }


def test_a_job_name_is_registered_once() -> None:
    def other() -> None:
        return None

    with pytest.raises(ValueError, match="is taken"):
        job("pulse:steps", every(minutes=5))(other)
    with pytest.raises(ValueError, match="HH:MM"):
        weekly("mon", "9am")
    with pytest.raises(ValueError, match="weekday"):
        weekly("funday", "09:00")
