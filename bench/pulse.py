"""A pulse to 10,000 members through the Slack twin, with Slack-like rate limits.

The bench seeds one workspace with ``--members`` members (time zones spread over four
zones, each also a twin user), has a lead design an anonymous pulse to everyone, and opens
a run with ``send_now=True`` (the lead's "send now", so quiet hours don't hold anyone
back): ``bot.pulse.runs.open_run`` queues one DM per member through the nudge layer into
the outbox, keyed ``pulse:{run}:{user}``. The bench serves the twin over HTTP with a
workspace budget for chat.postMessage (``--rate-per-minute``) and runs copbot's
``Deliverer`` in a worker process of its own (``bench/fanout.py``'s worker: the same
process, client and options as the fan-out bench). When the outbox has nothing pending or
sending it prints the delivery time against the lower bound the limit implies, duplicates
(pulse DMs per key beyond one) and misses (members without their pulse DM), both counted
from the twin's own DMs by message metadata, and the twin's 429s. It never asserts timings;
it exits 1 if there are duplicates or misses.

    .venv/bin/python bench/pulse.py                        # 10,000 members, SQLite
    .venv/bin/python bench/pulse.py --members 2000         # a quicker run
    .venv/bin/python bench/pulse.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

With ``--database-url`` (PostgreSQL) the bench creates a database of its own on that server
(``copbot_bench_pulse``) and drops it afterwards. If it may not create databases, it uses
the given database and deletes its own team's rows (``T0PULSEBENCH``) before and after, so
give it a throwaway database then.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for folder in (ROOT, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import fanout  # noqa: E402  (bench/fanout.py: its worker process and twin helpers)
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import col, delete, func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.pulse import design, runs  # noqa: E402
from bot.roles import Actor, Role  # noqa: E402
from bot.workspaces import ensure_workspace  # noqa: E402
from handlers.views import install as install_views  # noqa: E402
from slacktwin import RateLimits, SlackTwin  # noqa: E402
from storage import (  # noqa: E402
    Database,
    Member,
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
    Pulse,
    PulseAnswer,
    PulseParticipation,
    PulseRun,
    Workspace,
    utcnow,
)
from storage.migrate import upgrade  # noqa: E402

TEAM = "T0PULSEBENCH"
LEAD = "U0LEAD0000"
BENCH_DATABASE = "copbot_bench_pulse"
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
DEFAULT_RATE = 6000  # per minute: 100 a second, so 10,000 DMs need at least 100 s
QUESTIONS = [
    {"kind": "scale_1_5", "text": "How do you feel about improvement work this week?"},
    {"kind": "free_text", "text": "What is getting in the way?"},
]


def user(number: int) -> str:
    return f"U{number:08d}"


# ------------------------------------------------------------------------------ databases


def clean_team(database: Database) -> None:
    """Delete this bench's own team's rows (only used in a database it did not create)."""
    with database.session() as session:
        pulses = select(Pulse.id).where(Pulse.team_id == TEAM)
        runs = select(PulseRun.id).where(col(PulseRun.pulse_id).in_(pulses))
        session.exec(delete(PulseAnswer).where(col(PulseAnswer.run_id).in_(runs)))
        session.exec(delete(PulseParticipation).where(col(PulseParticipation.run_id).in_(runs)))
        session.exec(delete(PulseRun).where(col(PulseRun.pulse_id).in_(pulses)))
        session.exec(delete(Pulse).where(col(Pulse.team_id) == TEAM))
        session.exec(delete(OutboxMessage).where(col(OutboxMessage.team_id) == TEAM))
        session.exec(delete(NudgePreference).where(col(NudgePreference.team_id) == TEAM))
        session.exec(delete(Member).where(col(Member.team_id) == TEAM))
        session.exec(delete(Workspace).where(col(Workspace.team_id) == TEAM))


@contextmanager
def bench_database(url: str | None) -> Iterator[tuple[Database, str, str]]:
    """(database, its URL for the worker, a description); removed or cleaned afterwards."""
    if not url:
        with tempfile.TemporaryDirectory(prefix="copbot-pulse-") as folder:
            sqlite_url = f"sqlite:///{Path(folder) / 'pulse.db'}"
            database = Database(sqlite_url)
            try:
                upgrade(database)
                yield database, sqlite_url, "sqlite (a temporary file)"
            finally:
                database.dispose()
        return
    admin = Database(url)
    own = False
    if admin.dialect == "postgresql":
        try:
            with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}"))
                conn.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
            own = True
        except Exception as error:  # no CREATEDB right: our own team's rows in the given one
            print(f"(cannot create a database: {type(error).__name__}; cleaning team {TEAM})")
    bench_url = (
        make_url(url).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
        if own
        else url
    )
    database = Database(bench_url)
    where = f"{BENCH_DATABASE}, created and dropped" if own else f"--database-url, team {TEAM}"
    try:
        upgrade(database)
        if not own:
            clean_team(database)
        yield database, bench_url, f"{database.dialect} ({where})"
    finally:
        if not own:
            try:
                clean_team(database)
            except Exception as error:
                print(f"(could not clean team {TEAM}: {error})")
        database.dispose()
        if own:
            with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}"))
        admin.dispose()


# ------------------------------------------------------------------------------ the bench


def seed(database: Database, twin: SlackTwin, members: int) -> dict[str, int]:
    """Member rows and matching twin users, zones round-robin; returns members per zone."""
    per_zone: dict[str, int] = dict.fromkeys(ZONES, 0)
    with database.session() as session:
        ensure_workspace(session, TEAM, "Pulse bench ICS")
    chunk = 2000
    for offset in range(0, members, chunk):
        rows = []
        for number in range(offset, min(members, offset + chunk)):
            zone = ZONES[number % len(ZONES)]
            per_zone[zone] += 1
            twin.add_user(user(number), name=f"member{number}", tz=zone)
            rows.append(
                Member(
                    team_id=TEAM,
                    slack_user_id=user(number),
                    display_name=f"member{number}",
                    tz=zone,
                )
            )
        with database.session() as session:
            session.add_all(rows)
    return per_zone


def counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        rows = session.exec(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.team_id == TEAM)
            .group_by(OutboxMessage.status)
        ).all()
    return {str(status): int(n) for status, n in rows}


def bench(args: argparse.Namespace) -> int:
    rate = args.rate_per_minute
    burst = args.burst or max(1, round(rate / 60))
    twin = SlackTwin(
        team_id=TEAM,
        team_name="Pulse ICS",
        bot_token=fanout.TOKEN,  # the token fanout.py's worker process uses
        rate_limits=RateLimits(
            post_message_workspace_per_minute=float(rate),
            post_message_workspace_burst=burst,
        ),
        app_token=None,
        socket_ping_interval=None,
    )
    settings = Settings(_env_file=None, copbot_leads=LEAD)  # type: ignore[call-arg]
    twin.start()
    worker: fanout.Worker | None = None
    try:
        with bench_database(args.database_url) as (database, database_url, where):
            started = time.monotonic()
            per_zone = seed(database, twin, args.members)
            seed_seconds = time.monotonic() - started
            users = [user(n) for n in range(args.members)]
            lower_bound = args.members / (rate / 60.0)
            print(f"database            {where}")
            print(
                f"members             {args.members} ("
                + ", ".join(f"{zone} {n}" for zone, n in per_zone.items())
                + f"), seeded in {seed_seconds:.1f} s"
            )
            print(
                f"slack limits        chat.postMessage {rate}/min for the workspace (burst "
                f"{burst}), 1/s per channel (burst 4)"
            )
            print(
                f"worker              bench/fanout.py --role worker: batch {args.batch}, "
                f"concurrency {args.concurrency}, lease {args.lease:.0f} s"
            )

            lead = Actor(TEAM, LEAD, "Lena", Role.LEAD)
            started = time.monotonic()
            with database.session() as session:
                pulse = design.create_pulse(
                    session,
                    lead,
                    settings,
                    name="bench",
                    audience_kind="everyone",
                    questions=QUESTIONS,
                    anonymous=True,
                )
                opened = runs.open_run(session, settings, pulse, now=utcnow(), send_now=True)
                run_id = opened.run.id
                invited, queued, outside = (
                    opened.invited,
                    opened.queued,
                    opened.outside_working_hours,
                )
            queue_seconds = time.monotonic() - started
            print(
                f"queued              {queued} of {invited} invited (run {run_id}; "
                f"{outside} in their quiet hours, sent now anyway)"
            )
            print(
                f"time to queue       {queue_seconds:.1f} s (create_pulse + open_run, one commit)"
            )

            started = time.monotonic()
            deadline = started + args.max_seconds
            worker = fanout.start_worker("pulse-worker", args, database_url, twin.api_url)
            while True:
                state = counts(database)
                if not state.get(OutboxStatus.PENDING) and not state.get(OutboxStatus.SENDING):
                    break
                if worker.process.poll() is not None:
                    raise SystemExit(f"the worker exited early with {worker.process.returncode}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"gave up after --max-seconds {args.max_seconds}: {state}")
                time.sleep(0.05)
            delivery = time.monotonic() - started
            totals = fanout.stop_worker(worker)

            found = fanout.twin_keys(twin, users)
            pulse_keys = {key: n for key, n in found.items() if key.startswith(f"pulse:{run_id}:")}
            expected = {f"pulse:{run_id}:{u}" for u in users}
            duplicates = sum(n - 1 for n in pulse_keys.values() if n > 1)
            misses = len(expected - set(pulse_keys))
            limited = sum(1 for call in twin.calls_to("chat.postMessage") if call.status == 429)
            posts = len(twin.calls_to("chat.postMessage"))
            print(f"delivery time       {delivery:.1f} s (worker start to an empty outbox)")
            print(f"lower bound         {lower_bound:.1f} s ({args.members} / {rate / 60:g} per s)")
            print(f"ratio               {delivery / lower_bound:.2f}")
            print(f"final statuses      {counts(database)}")
            print(f"duplicates          {duplicates}")
            print(f"misses              {misses}")
            print(
                f"slack calls         chat.postMessage {posts}, of which 429 {limited}; "
                f"worker rate-limit waits {totals.get('rate_limit_waits', '?')}, "
                f"retried {totals.get('retried', '?')}"
            )
            return 0 if duplicates == 0 and misses == 0 else 1
    finally:
        if worker is not None and worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        twin.stop()


def main(argv: list[str] | None = None) -> int:
    install_views()  # open_run draws the pulse DM with handlers/pulse/views.py
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument(
        "--rate-per-minute",
        type=int,
        default=DEFAULT_RATE,
        help=f"the twin's chat.postMessage workspace budget (default {DEFAULT_RATE})",
    )
    parser.add_argument(
        "--burst", type=int, default=0, help="workspace burst (default: one second's worth)"
    )
    parser.add_argument(
        "--database-url", help="default: a temporary SQLite file; PostgreSQL: see --help text"
    )
    parser.add_argument("--batch", type=int, default=25, help="rows the worker holds at once")
    parser.add_argument("--concurrency", type=int, default=8, help="sender threads")
    parser.add_argument("--lease", type=float, default=60.0, help="seconds before recovery")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="give up after this")
    args = parser.parse_args(argv)
    if args.members < 1 or args.rate_per_minute < 1:
        parser.error("--members and --rate-per-minute must be positive")
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
