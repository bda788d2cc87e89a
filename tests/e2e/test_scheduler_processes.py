"""Two copbot scheduler processes on one PostgreSQL: one runs the jobs; kill it with SIGKILL
and the other takes over within 60 s, without running any scheduled time twice.

Each process runs ``Scheduling`` with a heartbeat job every second; the job appends
"<pid> <scheduled time> <ran time>" to a file, so the file shows who ran what, and when.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="several scheduler processes need PostgreSQL: set TEST_DATABASE_URL",
)

ROOT = Path(__file__).resolve().parents[2]

PROCESS = """
import logging, sys, time
from datetime import UTC
from apscheduler.triggers.interval import IntervalTrigger
from bot.config import Settings
from bot.platform.scheduling import JobSpec, Scheduling, heartbeat as beat
from storage import Database

url, path, key = sys.argv[1:4]
logging.basicConfig(
    level=logging.INFO, format="%(asctime)s pid %(process)d %(name)s: %(message)s"
)
database = Database(url)
settings = Settings(_env_file=None, database_url=url)
heartbeat = JobSpec("heartbeat", beat, IntervalTrigger(seconds=1, timezone=UTC), (path,))
Scheduling(database, settings, jobs=[heartbeat], poll_seconds=1.0, lease_key=key).start()
while True:
    time.sleep(1)
"""


def read_beats(path: Path) -> list[tuple[int, float, float]]:
    if not path.exists():
        return []
    beats = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:  # a line cut short by SIGKILL is not a run that happened
            beats.append((int(parts[0]), float(parts[1]), float(parts[2])))
    return beats


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def processes(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[dict[int, subprocess.Popen[bytes]], Path]]:
    beats = tmp_path / "heartbeats"
    key = f"copbot-e2e-{uuid.uuid4().hex}"
    running: dict[int, subprocess.Popen[bytes]] = {}
    logs = []
    try:
        for n in range(2):
            log = open(tmp_path / f"process-{n}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            process = subprocess.Popen(
                [sys.executable, "-c", PROCESS, database_url, str(beats), key],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            running[process.pid] = process
        yield running, beats
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        for log in logs:
            log.close()
        for n in range(len(logs)):
            print(f"--- process {n} log (tail)")
            print("\n".join((tmp_path / f"process-{n}.log").read_text().splitlines()[-15:]))


def test_one_leader_runs_jobs_and_a_survivor_takes_over_after_sigkill(
    processes: tuple[dict[int, subprocess.Popen[bytes]], Path],
) -> None:
    running, path = processes

    wait_for(lambda: len(read_beats(path)) >= 3, 20, "the first heartbeats")
    time.sleep(2)  # both processes are up; only one may write
    beats = read_beats(path)
    writers = {pid for pid, _, _ in beats}
    assert len(writers) == 1, f"more than one process ran jobs: {writers}"
    (leader,) = writers
    assert leader in running
    survivor = next(pid for pid in running if pid != leader)
    assert all(process.poll() is None for process in running.values())

    # Kill between runs, not in the instant the leader records a run it has started:
    # that instant is the documented at-least-once window.
    seen = len(beats)
    wait_for(lambda: len(read_beats(path)) > seen, 5, "the next heartbeat")
    time.sleep(0.4)
    os.kill(leader, signal.SIGKILL)
    killed_at = time.time()
    running[leader].wait(timeout=10)

    wait_for(
        lambda: any(pid == survivor for pid, _, _ in read_beats(path)),
        60,
        "the survivor's first heartbeat",
    )
    wait_for(
        lambda: sum(pid == survivor for pid, _, _ in read_beats(path)) >= 3,
        10,
        "the survivor's heartbeats",
    )
    beats = read_beats(path)
    by_leader = [beat for beat in beats if beat[0] == leader]
    by_survivor = [beat for beat in beats if beat[0] == survivor]
    takeover = by_survivor[0][2] - killed_at
    print(f"takeover: the survivor ran its first job {takeover:.2f} s after SIGKILL")

    assert takeover < 60
    # One writer at a time: the leader's runs, then the survivor's, never interleaved.
    assert beats == by_leader + by_survivor
    assert all(ran <= killed_at for _, _, ran in by_leader)
    # Each scheduled time ran once; the survivor carried on from where the leader stopped.
    scheduled = [at for _, at, _ in beats]
    assert len(scheduled) == len(set(scheduled)), "a scheduled time ran twice"
    assert scheduled == sorted(scheduled)
    assert by_survivor[0][1] > by_leader[-1][1]
