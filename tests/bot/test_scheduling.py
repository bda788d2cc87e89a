"""The scheduler: local times that survive daylight saving, jobs that persist in the database,
late runs that still run (once), and exactly one leader.

Trigger tests use a controllable clock: each fire time is computed from the previous one and
a chosen "now", as APScheduler does, so nothing waits for real time.
"""

from __future__ import annotations

import os
import pickle
import time as clock
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from bot.config import Settings
from bot.platform.scheduling import (
    RUN,
    JobSpec,
    LeaderLease,
    Scheduling,
    WallClockCronTrigger,
    add_weekly_job,
    daily_trigger,
    heartbeat,
    weekly_trigger,
)
from bot.platform.scheduling.store import DEFAULT_MISFIRE_GRACE_SECONDS, build_scheduler
from storage import Database
from storage.migrate import upgrade

LONDON = ZoneInfo("Europe/London")
POSTGRES = os.environ.get("TEST_DATABASE_URL")
postgres_only = pytest.mark.skipif(
    not POSTGRES, reason="leader lease contention needs PostgreSQL: set TEST_DATABASE_URL"
)


def fire_times(trigger: BaseTrigger, start: datetime, until: datetime) -> list[datetime]:
    """Every fire time from ``start`` to ``until``, the clock jumping to each in turn."""
    times: list[datetime] = []
    previous: datetime | None = None
    now = start
    while True:
        fire_time = trigger.get_next_fire_time(previous, now)
        if fire_time is None or fire_time > until:
            return times
        times.append(fire_time)
        previous = now = fire_time


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(moment: datetime) -> tuple[str, str, timedelta | None]:
    """(weekday, HH:MM, UTC offset) of ``moment`` on a London wall clock."""
    there = moment.astimezone(UTC).astimezone(LONDON)
    return there.strftime("%a"), there.strftime("%H:%M"), there.utcoffset()


GMT, BST = timedelta(0), timedelta(hours=1)


# --- daylight saving ------------------------------------------------------------------------


def test_weekly_job_keeps_its_local_time_through_both_clock_changes() -> None:
    trigger = weekly_trigger("sun", "09:00", "Europe/London")
    times = fire_times(trigger, utc(2026, 3, 1), utc(2026, 11, 30))

    assert len(times) == 40  # every Sunday from 1 March to 29 November 2026, once
    assert {local(t)[:2] for t in times} == {("Sun", "09:00")}
    by_day = {t.astimezone(UTC).date().isoformat(): t.astimezone(UTC) for t in times}
    # The last Sunday of March (29th) and of October (25th) are the change days themselves.
    assert by_day["2026-03-22"] == utc(2026, 3, 22, 9)  # GMT
    assert by_day["2026-03-29"] == utc(2026, 3, 29, 8)  # BST from 01:00 that morning
    assert by_day["2026-10-18"] == utc(2026, 10, 18, 8)  # BST
    assert by_day["2026-10-25"] == utc(2026, 10, 25, 9)  # GMT from 02:00 BST that morning
    for moment in times:
        summer = utc(2026, 3, 29, 1) <= moment < utc(2026, 10, 25, 1)
        assert local(moment)[2] == (BST if summer else GMT)


def test_weekday_numbers_and_names_mean_the_same_day() -> None:
    by_number = weekly_trigger(0, "07:45", LONDON)
    by_name = weekly_trigger("Monday", "07:45", "Europe/London")
    start = utc(2026, 3, 26)
    mondays = [utc(2026, 3, 30, 6, 45), utc(2026, 4, 6, 6, 45)]  # 07:45 BST
    assert fire_times(by_number, start, utc(2026, 4, 7)) == mondays
    assert fire_times(by_name, start, utc(2026, 4, 7)) == mondays


def test_time_skipped_by_spring_forward_runs_once_after_the_jump() -> None:
    # 01:30 does not exist in London on 29 March 2026 (01:00 GMT becomes 02:00 BST).
    # APScheduler fires once at 01:30 UTC, which the clock reads as 02:30 BST.
    weekly = weekly_trigger("sun", "01:30", "Europe/London")
    times = fire_times(weekly, utc(2026, 3, 21), utc(2026, 4, 6))
    assert [t.astimezone(UTC) for t in times] == [
        utc(2026, 3, 22, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 4, 5, 0, 30),
    ]
    assert [local(t) for t in times] == [
        ("Sun", "01:30", GMT),
        ("Sun", "02:30", BST),
        ("Sun", "01:30", BST),
    ]

    daily = daily_trigger("01:30", "Europe/London")
    days = fire_times(daily, utc(2026, 3, 28), utc(2026, 3, 31))
    assert [local(t)[1] for t in days] == ["01:30", "02:30", "01:30"]  # 28th, 29th, 30th
    assert len({t.astimezone(UTC).date() for t in days}) == 3


def test_time_repeated_by_fall_back_runs_once() -> None:
    # 01:30 happens twice in London on 25 October 2026 (BST, then GMT an hour later).
    # APScheduler's own CronTrigger fires at both; ours fires at the first only.
    start, until = utc(2026, 10, 17), utc(2026, 11, 2)
    plain = CronTrigger(day_of_week="sun", hour=1, minute=30, timezone=LONDON)
    assert [t.astimezone(UTC) for t in fire_times(plain, start, until)] == [
        utc(2026, 10, 18, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 30),  # the duplicate this module exists to prevent
        utc(2026, 11, 1, 1, 30),
    ]

    ours = weekly_trigger("sun", "01:30", "Europe/London")
    times = fire_times(ours, start, until)
    assert [t.astimezone(UTC) for t in times] == [
        utc(2026, 10, 18, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 11, 1, 1, 30),
    ]
    assert [local(t) for t in times] == [
        ("Sun", "01:30", BST),
        ("Sun", "01:30", BST),
        ("Sun", "01:30", GMT),
    ]
    # A scheduler that comes back during the repeated hour does not run it again either.
    after_first = ours.get_next_fire_time(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 10))
    assert after_first == utc(2026, 11, 1, 1, 30)


def test_fall_back_catch_up_after_downtime_counts_one_run() -> None:
    # Down from Saturday to Monday across the change: the backlog APScheduler would
    # coalesce holds one Sunday 01:30, not two.
    ours = weekly_trigger("sun", "01:30", "Europe/London")
    previous = utc(2026, 10, 18, 0, 30)
    now = utc(2026, 10, 26, 12)
    backlog = []
    fire_time = ours.get_next_fire_time(previous, now)
    while fire_time is not None and fire_time <= now:
        backlog.append(fire_time)
        fire_time = ours.get_next_fire_time(fire_time, now)
    assert [t.astimezone(UTC) for t in backlog] == [utc(2026, 10, 25, 0, 30)]


@pytest.mark.parametrize(
    ("weekday", "at"), [("funday", "09:00"), (7, "09:00"), ("mon", "9am"), ("mon", "25:00")]
)
def test_weekly_trigger_refuses_nonsense(weekday: int | str, at: str) -> None:
    with pytest.raises(ValueError):
        weekly_trigger(weekday, at, "Europe/London")


# --- the job store --------------------------------------------------------------------------


@pytest.fixture
def job_settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
def lease_key() -> str:
    """A lease of its own, so test runs sharing a PostgreSQL never contend with each other."""
    return f"copbot-test-{uuid.uuid4().hex}"


def stored_ids(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return list(
            connection.execute(text("SELECT id FROM apscheduler_jobs ORDER BY id")).scalars()
        )


def heartbeat_lines(path: Path) -> list[tuple[int, float, float]]:
    """(pid, scheduled unix time, ran unix time) for each heartbeat written to ``path``."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        pid, scheduled, ran = line.split()
        rows.append((int(pid), float(scheduled), float(ran)))
    return rows


def test_scheduler_settings(database: Database, job_settings: Settings) -> None:
    scheduler = build_scheduler(database)
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(RUN, IntervalTrigger(hours=1), id="defaults", args=[heartbeat.name])
        assert scheduler.timezone == UTC
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == DEFAULT_MISFIRE_GRACE_SECONDS == 3600
    finally:
        scheduler.shutdown()
    assert database.ping()  # shutting the scheduler down leaves the app's engine usable


def test_job_survives_a_restart_with_its_id_and_next_run(
    database: Database, database_url: str, job_settings: Settings
) -> None:
    first = Scheduling(database, job_settings, run_jobs=False).start()
    job = add_weekly_job(
        first.scheduler,
        "digest:weekly",
        heartbeat,
        weekday="mon",
        at="09:00",
        zone="Europe/London",
        name="Weekly digest",
    )
    next_run = job.next_run_time
    assert local(next_run)[:2] == ("Mon", "09:00")
    again = add_weekly_job(
        first.scheduler,
        "digest:weekly",
        heartbeat,
        weekday="mon",
        at="09:00",
        zone="Europe/London",
        name="Weekly digest",
    )
    assert again.next_run_time == next_run
    first.stop()

    other_process = Database(database_url)
    try:
        second = Scheduling(other_process, job_settings, run_jobs=False).start()
        stored = second.scheduler.get_job("digest:weekly")
        assert stored is not None
        assert (stored.func_ref, stored.args) == (RUN, (heartbeat.name,))
        assert stored.next_run_time == next_run
        assert isinstance(stored.trigger, WallClockCronTrigger)
        assert str(stored.trigger.timezone) == "Europe/London"
        assert second.upcoming() == [("digest:weekly", "Weekly digest", next_run)]

        # Replacing under the same ID keeps one job, with the new time.
        moved = add_weekly_job(
            second.scheduler,
            "digest:weekly",
            heartbeat,
            weekday="tue",
            at="10:15",
            zone="Europe/London",
            name="Weekly digest",
        )
        assert local(moved.next_run_time)[:2] == ("Tue", "10:15")
        assert stored_ids(other_process) == ["digest:weekly"]
        assert second.upcoming()[0].next_run_time == moved.next_run_time
        second.stop()
    finally:
        other_process.dispose()


def test_ensuring_an_unchanged_job_keeps_its_schedule(
    database: Database, job_settings: Settings
) -> None:
    scheduling = Scheduling(database, job_settings, run_jobs=False).start()
    try:
        first = scheduling.ensure_job("sweep", heartbeat, IntervalTrigger(hours=1))
        clock.sleep(0.05)
        same = scheduling.ensure_job("sweep", heartbeat, IntervalTrigger(hours=1))
        assert same.next_run_time == first.next_run_time  # not pushed back by a restart
        changed = scheduling.ensure_job("sweep", heartbeat, IntervalTrigger(hours=2))
        assert changed.next_run_time > first.next_run_time
        assert stored_ids(database) == ["sweep"]
        assert scheduling.remove_job("sweep") is True
        assert scheduling.remove_job("sweep") is False
    finally:
        scheduling.stop()


def test_jobs_are_stored_by_reference_with_simple_arguments(
    database: Database, job_settings: Settings
) -> None:
    scheduling = Scheduling(database, job_settings, run_jobs=False).start()
    try:
        with pytest.raises(TypeError, match="registered with @job"):
            scheduling.ensure_job("bad", heartbeat.func, IntervalTrigger(hours=1))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="registered with @job"):
            scheduling.ensure_job("bad", "bot.jobs:heartbeat", IntervalTrigger(hours=1))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="simple values"):
            scheduling.ensure_job("bad", heartbeat, IntervalTrigger(hours=1), args=[database])
        assert stored_ids(database) == []
    finally:
        scheduling.stop()


def test_a_run_missed_while_down_runs_once_on_start(
    database: Database,
    database_url: str,
    job_settings: Settings,
    lease_key: str,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    due = (now - timedelta(minutes=5)).replace(second=0, microsecond=0)
    at = due.astimezone(LONDON).strftime("%H:%M")
    daily_file, minute_file, strict_file = (tmp_path / n for n in ("daily", "minute", "strict"))

    # A web process (no scheduler running) stores the jobs; nothing runs them for 5 minutes.
    writer = Scheduling(database, job_settings, run_jobs=False).start()
    add = writer.scheduler.add_job
    beat = heartbeat.name
    add(RUN, daily_trigger(at, LONDON), id="daily", args=[beat, str(daily_file)], next_run_time=due)
    add(
        RUN,
        IntervalTrigger(minutes=1),
        id="minutely",
        args=[beat, str(minute_file)],
        next_run_time=now - timedelta(minutes=5),
    )
    add(  # APScheduler's default grace of one second: a late run is dropped
        RUN,
        daily_trigger(at, LONDON),
        id="strict",
        args=[beat, str(strict_file)],
        next_run_time=due,
        misfire_grace_time=1,
    )
    writer.stop()

    runner = Scheduling(
        Database(database_url), job_settings, lease_key=lease_key, poll_seconds=1
    ).start()
    try:
        assert runner.is_leader
        deadline = clock.monotonic() + 15
        while clock.monotonic() < deadline and not (daily_file.exists() and minute_file.exists()):
            clock.sleep(0.05)
        clock.sleep(1.5)  # time enough for a duplicate to show, were there one
        upcoming = {row.id: row.next_run_time for row in runner.upcoming()}
    finally:
        runner.stop()
        runner.database.dispose()

    daily = heartbeat_lines(daily_file)
    assert [scheduled for _, scheduled, _ in daily] == [due.timestamp()]
    minutely = heartbeat_lines(minute_file)
    assert len(minutely) == 1  # five missed minutes, coalesced into one run
    assert minutely[0][1] >= (now - timedelta(minutes=1, seconds=1)).timestamp()
    assert not strict_file.exists()
    assert local(upcoming["daily"])[1] == at and upcoming["daily"] > now  # tomorrow
    assert upcoming["minutely"] > now


def test_a_process_that_does_not_run_jobs_leaves_due_runs_alone_when_it_stops(
    database: Database, job_settings: Settings
) -> None:
    # APScheduler's BackgroundScheduler processes due jobs once more after shutdown() and
    # records runs it could not start; a web process stopping must not eat the leader's runs.
    due = datetime.now(UTC) - timedelta(minutes=2)
    web = Scheduling(database, job_settings, run_jobs=False).start()
    web.scheduler.add_job(
        RUN,
        IntervalTrigger(hours=1),
        id="due",
        name="heartbeat",
        args=[heartbeat.name],
        next_run_time=due,
    )
    web.stop()
    later = Scheduling(database, job_settings, run_jobs=False).start()
    try:
        assert later.upcoming() == [("due", "heartbeat", due)]
    finally:
        later.stop()


def test_a_job_this_release_cannot_load_is_kept_not_deleted(
    database: Database, job_settings: Settings
) -> None:
    scheduling = Scheduling(database, job_settings, run_jobs=False).start()
    try:
        scheduling.ensure_job("newer", heartbeat, IntervalTrigger(hours=1))
        scheduling.ensure_job("known", heartbeat, IntervalTrigger(hours=2))
        with database.engine.begin() as connection:  # as if a newer release had stored it
            state = pickle.loads(
                connection.execute(
                    text("SELECT job_state FROM apscheduler_jobs WHERE id = 'newer'")
                ).scalar_one()
            )
            state["args"] = ("ideas:added-in-a-later-release",)
            connection.execute(
                text("UPDATE apscheduler_jobs SET job_state = :state WHERE id = 'newer'"),
                {"state": pickle.dumps(state)},
            )
        assert [row.id for row in scheduling.upcoming()] == ["known"]
        assert stored_ids(database) == ["known", "newer"]
        # This release can still take the ID back.
        scheduling.ensure_job("newer", heartbeat, IntervalTrigger(hours=3))
        assert [row.id for row in scheduling.upcoming()] == ["known", "newer"]
    finally:
        scheduling.stop()


def test_scheduling_ensures_its_jobs_when_it_leads(
    database: Database, job_settings: Settings, lease_key: str
) -> None:
    spec = JobSpec("heartbeat", heartbeat, IntervalTrigger(hours=6), name="Heartbeat")
    scheduling = Scheduling(database, job_settings, jobs=[spec], lease_key=lease_key)
    scheduling.start()
    try:
        assert scheduling.is_leader
        assert scheduling.scheduler.state == STATE_RUNNING
        assert [row.id for row in scheduling.upcoming()] == ["heartbeat"]
        scheduling.define(JobSpec("digest", heartbeat, weekly_trigger("fri", "16:00", LONDON)))
        assert sorted(stored_ids(database)) == ["digest", "heartbeat"]
    finally:
        scheduling.stop()
    assert not scheduling.is_leader


def test_no_scheduler_process_reads_and_writes_jobs_but_runs_none(
    database: Database, job_settings: Settings
) -> None:
    web = Scheduling(database, job_settings, run_jobs=False).start()
    try:
        assert not web.is_leader
        assert web.scheduler.state == STATE_PAUSED
        web.ensure_job("soon", heartbeat, IntervalTrigger(hours=1))
        assert [row.id for row in web.upcoming()] == ["soon"]
    finally:
        web.stop()


# --- the leader -----------------------------------------------------------------------------


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'single.db'}")
    upgrade(database)
    yield database
    database.dispose()


def test_a_sqlite_process_always_leads(sqlite_database: Database) -> None:
    calls: list[str] = []
    lease = LeaderLease(
        sqlite_database,
        on_lead=lambda: calls.append("lead"),
        on_follow=lambda: calls.append("follow"),
        poll_seconds=0.05,
    )
    lease.start()
    assert lease.is_leader  # at once, with no waiting for a poll
    clock.sleep(0.2)
    assert lease.tick() is True
    lease.stop()
    assert calls == ["lead", "follow"]

    settings = Settings(_env_file=None, database_url=sqlite_database.url)  # type: ignore[call-arg]
    scheduling = Scheduling(sqlite_database, settings).start()
    try:
        assert scheduling.is_leader
        assert scheduling.scheduler.state == STATE_RUNNING
    finally:
        scheduling.stop()


@postgres_only
def test_one_process_holds_the_lease(database: Database, lease_key: str) -> None:
    calls: list[str] = []

    def lease(name: str) -> LeaderLease:
        return LeaderLease(
            database,
            lease_key,
            on_lead=lambda: calls.append(f"{name} leads"),
            on_follow=lambda: calls.append(f"{name} follows"),
            poll_seconds=600,  # driven by tick() here, not by the clock
        )

    first, second = lease("first"), lease("second")
    try:
        first.start()
        second.start()
        assert (first.is_leader, second.is_leader) == (True, False)
        assert first.backend_pid != second.backend_pid
        assert second.tick() is False
        assert first.tick() is True
        first.stop()  # releases the lock
        assert second.tick() is True
        assert calls == ["first leads", "first follows", "second leads"]
    finally:
        first.stop()
        second.stop()


@postgres_only
def test_a_leader_whose_connection_fails_steps_down_and_contends_again(
    database: Database, lease_key: str
) -> None:
    calls: list[str] = []
    leader = LeaderLease(
        database,
        lease_key,
        on_lead=lambda: calls.append("lead"),
        on_follow=lambda: calls.append("follow"),
        poll_seconds=600,
    )
    rival = LeaderLease(database, lease_key, poll_seconds=600)
    try:
        leader.start()
        rival.start()
        assert leader.is_leader and not rival.is_leader
        # As in a database restart: the leader's session ends and the lock with it.
        with database.engine.begin() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": leader.backend_pid}
            )
        # pg_terminate_backend only signals: wait until that backend (and its lock) is gone.
        alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        deadline = clock.monotonic() + 10
        while clock.monotonic() < deadline:
            with database.engine.connect() as connection:
                if not connection.execute(alive, {"pid": leader.backend_pid}).scalar():
                    break
            clock.sleep(0.02)
        assert rival.tick() is True
        assert leader.tick() is False  # noticed at its next poll: stops running jobs
        assert calls == ["lead", "follow"]
        assert leader.tick() is False  # contends again, and the rival holds the lock
        rival.stop()
        assert leader.tick() is True
        assert calls == ["lead", "follow", "lead"]
    finally:
        leader.stop()
        rival.stop()
