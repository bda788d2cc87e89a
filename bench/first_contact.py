"""First contact at scale: 160 people copbot has never met each send one command.

A fresh workspace on day one: nobody is in copbot's database and the directory has not
been read (``copbot serve --no-scheduler``, so no cold-start sync). 160 distinct
strangers each send ``/copbot help`` at 8 per second (a bounded loop, loopback only).
The Slack twin plays the Web API in this process with Slack's rate limits on, so
``users.info`` is Tier 4 (100 a minute, bursts of 50): faster than that, Slack answers
429 with ``Retry-After``.

- ``new``: this tree's ``python -m bot serve``. A stranger is created from what the
  command carries and their profile is fetched after the ack.
- ``old`` (unless ``--no-old``): the tree before that change (``--old-rev``, exported
  with ``git archive`` into a temporary folder), which called ``users.info`` inside the
  ack.

For each it prints ack p50/p99/max (send to response, on the client), how many acks
took over 3 s (Slack shows the person an error after 3 s) and, for the new path, how
many profiles had arrived when the run ended. "Not answered with the guide" counts
answers that were not the help text (copbot sheds a request that waited over 1 s for a
thread with a short "very busy" note) or failed. Nothing is asserted.

    .venv/bin/python bench/first_contact.py
    .venv/bin/python bench/first_contact.py --no-old
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from slacktwin import SlackDriver, SlackTwin

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "xoxb-bench-token"
SECRET = "bench-signing-secret"
TEAM = "T0BENCH01"
OLD_REV = "d835dbd"  # the last commit that looked strangers up inside the ack
SLACK_ACK_LIMIT = 3.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    prefixes = ("SLACK_", "COPBOT_", "OPENAI_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def export_tree(rev: str, into: Path) -> Path:
    """The repository at ``rev`` as plain files (``git archive``; the repo is untouched)."""
    archive = into / "old.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), rev], check=True
    )
    tree = into / "old"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


class Server:
    """``python -m bot serve --no-scheduler`` from ``tree`` on a free port."""

    def __init__(self, tree: Path, twin: SlackTwin, workdir: Path, name: str) -> None:
        self.port = free_port()
        self.where = ["--host", "127.0.0.1", "--port", str(self.port)]
        self.database = workdir / f"{name}.db"
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("w")
        env = child_env(
            {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": twin.api_url,
                "DATABASE_URL": f"sqlite:///{self.database}",
                "PYTHONPATH": str(tree),
            }
        )
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--no-scheduler", *self.where],
            cwd=tree,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not start:\n{self.log_path.read_text()[-2000:]}")

    def profiles_in(self, people: list[str]) -> int:
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            marks = ",".join("?" * len(people))
            query = (
                f"SELECT count(*) FROM member WHERE slack_user_id IN ({marks}) "
                "AND profile_refreshed_at IS NOT NULL"
            )
            return int(db.execute(query, people).fetchone()[0])

    def stop(self) -> None:
        self.popen.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)
        if self.popen.poll() is None:
            self.popen.kill()
        self._log.close()


def run(name: str, tree: Path, twin: SlackTwin, workdir: Path, count: int, rate: float) -> None:
    people = [f"U{name.upper()[:3]}{n:05d}" for n in range(count)]
    for n, user in enumerate(people):
        twin.add_user(user, name=f"{name}{n}", real_name=f"Stranger {n}")
    twin.reset_rate_limits()
    server = Server(tree, twin, workdir, name)
    try:
        driver = SlackDriver(twin, app_url=f"{server.url}/slack/events", signing_secret=SECRET)
        info_before = len(twin.calls_to("users.info"))
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()

        def one(user: str) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                response = driver.command(user, "/copbot", "help")
                ok = response.status_code == 200 and "/idea" in response.text
            except httpx.HTTPError:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += not ok

        began = time.perf_counter()
        with ThreadPoolExecutor(64) as pool:
            for n, user in enumerate(people):
                delay = began + n / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(one, user)
        sending = time.perf_counter() - began
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        late = sum(latency > SLACK_ACK_LIMIT for latency in latencies)
        print(
            f"  {name:<4} {len(latencies)} commands in {sending:.1f} s: "
            f"ack p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms; "
            f"{late} over {SLACK_ACK_LIMIT:.0f} s; {errors} not answered with the guide"
        )
        lookups = len(twin.calls_to("users.info")) - info_before
        print(f"       users.info calls so far (429s included): {lookups}")
        if name == "new":
            time.sleep(2.0)
            print(
                f"       profiles in 2 s after the last ack: {server.profiles_in(people)} of "
                f"{count} (the rest follow at Tier 4's pace, after their acks)"
            )
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=160)
    parser.add_argument("--rate", type=float, default=8.0, help="commands a second")
    parser.add_argument("--old-rev", default=OLD_REV)
    parser.add_argument("--no-old", action="store_true", help="skip the old path")
    args = parser.parse_args()
    print(
        f"first contact: {args.people} strangers, one /copbot help each at {args.rate:g}/s; "
        "users.info at Slack's Tier 4 (100/min, burst 50)"
    )
    with tempfile.TemporaryDirectory(prefix="copbot-first-contact-") as folder:
        workdir = Path(folder)
        with SlackTwin(team_id=TEAM, bot_token=TOKEN, signing_secret=SECRET) as twin:
            run("new", ROOT, twin, workdir, args.people, args.rate)
            if not args.no_old:
                run(
                    "old", export_tree(args.old_rev, workdir), twin, workdir, args.people, args.rate
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
