"""Fan-out through the outbox: 10,000 DMs through the Slack twin, a worker killed halfway.

The bench process serves the Slack twin over HTTP (with Slack-like limits: chat.postMessage
about 1 per second per channel, which distinct DMs never reach, plus a workspace budget set
by ``--rate-per-minute``), enqueues one DM per member, and runs copbot's ``Deliverer`` in a
worker process of its own (this file with ``--role worker``). About halfway it kills the
worker with SIGKILL and starts another, which recovers what the first left in flight, and
waits until the outbox is empty. It prints the total time against the lower bound the rate
limit implies, duplicates and misses (both must be 0, counted from the twin's DMs by each
message's metadata key) and what recovery found. It never asserts timings.

    .venv/bin/python bench/fanout.py                       # 10,000 DMs, SQLite
    .venv/bin/python bench/fanout.py --messages 2000       # a quicker run
    .venv/bin/python bench/fanout.py --database-url postgresql://postgres@127.0.0.1:5432/scratch

With ``--database-url`` the bench deletes the outbox rows and nudge preferences of its own
team (``T0FANOUT``) first, so use a throwaway database.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient  # noqa: E402
from sqlmodel import col, delete, func, select  # noqa: E402

from bot.platform import outbox  # noqa: E402
from slacktwin import RateLimits, SlackTwin  # noqa: E402
from storage import (  # noqa: E402
    Database,
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
    insert_or_ignore,
    utcnow,
)
from storage.migrate import upgrade  # noqa: E402

TEAM = "T0FANOUT"
TOKEN = "xoxb-fanout-bench"
KIND = "bench.fanout"
DEFAULT_RATE = 6000  # per minute: 100 a second, so 10,000 DMs need at least 100 s


# --------------------------------------------------------------------------- worker process


def run_worker(args: argparse.Namespace) -> int:
    """The delivery worker: ``Deliverer.run_forever`` until SIGTERM, then its counters as JSON
    on stdout. SIGKILL, of course, prints nothing."""
    import logging

    logging.basicConfig(
        level=logging.WARNING, format=f"[{args.worker_id}] %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    database = Database(args.database_url)
    client = WebClient(token=TOKEN, base_url=args.api_url, timeout=10)
    deliverer = outbox.Deliverer(
        database,
        client,
        worker_id=args.worker_id,
        batch=args.batch,
        concurrency=args.concurrency,
        lease=timedelta(seconds=args.lease),
    )
    try:
        deliverer.run_forever(stop)
    finally:
        deliverer.close()
        database.dispose()
    print(json.dumps(deliverer.totals.as_dict()), flush=True)
    return 0


# --------------------------------------------------------------------------- the bench


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[str]
    started: float


def start_worker(name: str, args: argparse.Namespace, database_url: str, api_url: str) -> Worker:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--role",
        "worker",
        "--worker-id",
        name,
        "--database-url",
        database_url,
        "--api-url",
        api_url,
        "--batch",
        str(args.batch),
        "--concurrency",
        str(args.concurrency),
        "--lease",
        str(args.lease),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return Worker(name, process, time.monotonic())


def counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        rows = session.exec(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.team_id == TEAM)
            .group_by(OutboxMessage.status)
        ).all()
    return {str(status): int(n) for status, n in rows}


def prepare(database: Database, users: list[str]) -> float:
    """Enqueue one DM per member, as nudges do (with their preference rows); returns seconds."""
    started = time.monotonic()
    with database.session() as session:
        session.exec(delete(OutboxMessage).where(col(OutboxMessage.team_id) == TEAM))
        session.exec(delete(NudgePreference).where(col(NudgePreference.team_id) == TEAM))
    due = utcnow()
    chunk = 1000
    for offset in range(0, len(users), chunk):
        with database.session() as session:
            for user in users[offset : offset + chunk]:
                insert_or_ignore(session, NudgePreference(team_id=TEAM, user_id=user))
                outbox.enqueue(
                    session,
                    team_id=TEAM,
                    key=f"{user}:{KIND}:2026-W47",
                    kind=KIND,
                    channel=user,
                    user_id=user,
                    text="This week's pulse is open: how are you feeling about improvement work?",
                    essential=True,
                    due_at=due,
                )
    return time.monotonic() - started


def twin_keys(twin: SlackTwin, users: list[str]) -> Counter[str]:
    """Outbox keys of every message in the members' DMs, read from the twin's state."""
    found: Counter[str] = Counter()
    with twin.ws.lock:
        for user in users:
            for message in twin.ws.top_level(twin.ws.dm(user)):
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == outbox.EVENT_TYPE:
                    found[metadata["event_payload"]["key"]] += 1
    return found


def stop_worker(worker: Worker) -> dict[str, int]:
    """SIGTERM, then the worker's counters (or {} if it said nothing)."""
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)
    try:
        out, _ = worker.process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        out, _ = worker.process.communicate()
    lines = [line for line in (out or "").splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def bench(args: argparse.Namespace) -> int:
    temp = tempfile.TemporaryDirectory(prefix="copbot-fanout-")
    database_url = args.database_url or f"sqlite:///{temp.name}/fanout.db"
    rate, burst = args.rate_per_minute, args.burst or max(1, round(args.rate_per_minute / 60))
    limits = RateLimits(
        post_message_workspace_per_minute=float(rate),
        post_message_workspace_burst=burst,
    )
    twin = SlackTwin(
        team_id=TEAM,
        team_name="Fan-out ICS",
        bot_token=TOKEN,
        rate_limits=limits,
        app_token=None,
        socket_ping_interval=None,
    )
    users = [f"U{n:08d}" for n in range(args.messages)]
    for user in users:
        twin.add_user(user, name=f"member{user[1:]}")
    twin.start()
    database = Database(database_url)
    workers: list[Worker] = []
    try:
        upgrade(database)
        enqueue_seconds = prepare(database, users)
        lower_bound = args.messages / (rate / 60.0)
        where = "--database-url" if args.database_url else "a temporary file"
        print(f"database            {database.dialect} ({where})")
        print(f"messages            {args.messages} DMs to {args.messages} members")
        print(
            f"slack limits        chat.postMessage {rate}/min for the workspace (burst {burst}),"
            " 1/s per channel (burst 4); conversations.open/history Tier 3 (50/min, burst 20)"
        )
        print(
            f"worker              batch {args.batch}, concurrency {args.concurrency}, "
            f"lease {args.lease:.0f} s"
        )
        print(f"enqueued in         {enqueue_seconds:.1f} s")

        started = time.monotonic()
        deadline = started + args.max_seconds
        first = start_worker("worker-1", args, database_url, twin.api_url)
        workers.append(first)
        kill_at = int(args.messages * args.kill_at)
        while counts(database).get(OutboxStatus.SENT, 0) < kill_at:
            if first.process.poll() is not None:
                raise SystemExit(f"worker-1 exited early with {first.process.returncode}")
            if time.monotonic() > deadline:
                raise SystemExit("gave up: --max-seconds passed before the kill")
            time.sleep(0.05)
        if args.hold_at_kill:
            # Make the crash window certain: the next posts stay in "Slack's" hands for a
            # while and take effect after the worker has died, so their rows are left
            # "sending" although the messages are delivered.
            twin.fail("chat.postMessage", timeout=args.hold_seconds, times=args.hold_at_kill)
            time.sleep(min(0.5, args.hold_seconds / 2))
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        killed = time.monotonic()
        at_kill = counts(database)
        posted_at_kill = sum(twin_keys(twin, users).values())
        print(
            f"SIGKILL at          {killed - started:.1f} s: {at_kill.get('sent', 0)} recorded "
            f"sent, {at_kill.get('sending', 0)} in flight, {posted_at_kill} in Slack"
            + (
                f" (+{args.hold_at_kill} posts held {args.hold_seconds:.1f} s by the twin)"
                if args.hold_at_kill
                else ""
            )
        )

        second = start_worker("worker-2", args, database_url, twin.api_url)
        workers.append(second)
        while True:
            state = counts(database)
            if not state.get(OutboxStatus.PENDING) and not state.get(OutboxStatus.SENDING):
                break
            if second.process.poll() is not None:
                raise SystemExit(f"worker-2 exited early with {second.process.returncode}")
            if time.monotonic() > deadline:
                raise SystemExit(f"gave up after --max-seconds {args.max_seconds}: {state}")
            time.sleep(0.05)
        finished = time.monotonic()
        totals = stop_worker(second)

        delivered = twin_keys(twin, users)
        keys = {f"{user}:{KIND}:2026-W47" for user in users}
        duplicates = sum(n - 1 for key, n in delivered.items() if n > 1)
        misses = len(keys - set(delivered))
        with database.session() as session:
            rows = session.exec(
                select(OutboxMessage.key, OutboxMessage.sent_ts).where(
                    OutboxMessage.team_id == TEAM
                )
            ).all()
        recorded = {key: ts for key, ts in rows if ts}
        total = finished - started
        print(f"total time          {total:.1f} s (worker-1 start to an empty outbox)")
        print(f"lower bound         {lower_bound:.1f} s ({args.messages} / {rate / 60:.0f} per s)")
        print(f"ratio               {total / lower_bound:.2f}")
        print(f"after the kill      {finished - killed:.1f} s to finish ({second.name})")
        print(f"final statuses      {counts(database)}")
        print(f"duplicates          {duplicates}")
        print(f"misses              {misses}")
        print(f"recorded sent       {len(recorded)} of {args.messages}")
        print(
            f"recovered           {totals.get('recovered', '?')} found in Slack and recorded "
            f"without a resend; {totals.get('requeued', '?')} not sent, resent once"
        )
        print(
            f"worker-2 counters   sent {totals.get('sent', '?')}, retried "
            f"{totals.get('retried', '?')}, rate-limit waits {totals.get('rate_limit_waits', '?')}"
        )
        tier3 = Counter(
            call.method
            for call in twin.calls
            if call.method in ("conversations.open", "conversations.history")
        )
        limited = sum(1 for call in twin.calls_to("chat.postMessage") if call.status == 429)
        print(
            f"slack calls         chat.postMessage 429s {limited}; recovery "
            f"conversations.history {tier3['conversations.history']}, "
            f"conversations.open {tier3['conversations.open']}"
        )
        return 0 if duplicates == 0 and misses == 0 else 1
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
        database.dispose()
        twin.stop()
        temp.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument(
        "--rate-per-minute",
        type=int,
        default=DEFAULT_RATE,
        help=f"the twin's chat.postMessage workspace budget (default {DEFAULT_RATE})",
    )
    parser.add_argument(
        "--burst", type=int, default=0, help="workspace burst (default: one second's worth)"
    )
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--batch", type=int, default=25, help="rows a worker holds at once")
    parser.add_argument("--concurrency", type=int, default=8, help="sender threads per worker")
    parser.add_argument("--lease", type=float, default=60.0, help="seconds before recovery")
    parser.add_argument("--kill-at", type=float, default=0.5, help="share sent before SIGKILL")
    parser.add_argument(
        "--hold-at-kill",
        type=int,
        default=8,
        help="posts the twin holds across the kill, so some are sent but unrecorded (0: none)",
    )
    parser.add_argument("--hold-seconds", type=float, default=1.5)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--role", choices=["bench", "worker"], default="bench")
    parser.add_argument("--worker-id", default="worker")
    parser.add_argument("--api-url", help="(worker) the twin's Web API URL")
    args = parser.parse_args(argv)
    if args.role == "worker":
        return run_worker(args)
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
