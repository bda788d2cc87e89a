"""Answering a pulse and closing it, with sealed ballots: what sealing costs.

Seeds ``--members`` members, opens an anonymous run to all of them (send now), then each
member answers once in a session of their own (as the one-tap handler does), from
``--threads`` threads at once; then the run is closed (every ballot opened, shuffled and
written as answer rows) and its results computed. Prints the answer latency (p50, p95,
p99, max), answers per second, the sealed size of one ballot, the close and the results
times. It never asserts timings.

    .venv/bin/python bench/pulse_answers.py                       # 10,000 members, SQLite
    .venv/bin/python bench/pulse_answers.py --members 2000 --threads 8
    .venv/bin/python bench/pulse_answers.py --database-url postgresql://postgres@127.0.0.1:5432/db

With ``--database-url`` the given database is migrated and this bench's own team's rows
(``T0ANSWERBENCH``) are deleted before and after: give it a throwaway database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlmodel import col, delete, func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.pulse import answers, closing, design, results, runs  # noqa: E402
from bot.pulse.questions import Answer  # noqa: E402
from bot.roles import Actor, Role  # noqa: E402
from bot.workspaces import ensure_workspace  # noqa: E402
from handlers.views import install as install_views  # noqa: E402
from storage import (  # noqa: E402
    Database,
    Member,
    NudgePreference,
    OutboxMessage,
    Pulse,
    PulseAnswer,
    PulseBallot,
    PulseParticipation,
    PulseRun,
    Workspace,
    insert_copies_or_ignore,
)
from storage.migrate import upgrade  # noqa: E402

TEAM, LEAD = "T0ANSWERBENCH", "U0BENCHLEAD"
GROUPS = ("Nursing and midwifery", "Medical", "Pharmacy", "Allied health professionals")
QUESTIONS = [
    {"kind": "scale_1_5", "text": "How are you feeling about improvement work this week?"},
    {"kind": "free_text", "text": "What is getting in the way?"},
]


def clean(database: Database) -> None:
    with database.session() as session:
        pulses = select(Pulse.id).where(Pulse.team_id == TEAM)
        runs = select(PulseRun.id).where(col(PulseRun.pulse_id).in_(pulses))
        for table in (PulseBallot, PulseAnswer, PulseParticipation):
            session.exec(delete(table).where(col(table.run_id).in_(runs)))  # type: ignore[attr-defined]
        session.exec(delete(PulseRun).where(col(PulseRun.pulse_id).in_(pulses)))
        session.exec(delete(Pulse).where(col(Pulse.team_id) == TEAM))
        session.exec(delete(OutboxMessage).where(col(OutboxMessage.team_id) == TEAM))
        session.exec(delete(NudgePreference).where(col(NudgePreference.team_id) == TEAM))
        session.exec(delete(Member).where(col(Member.team_id) == TEAM))
        session.exec(delete(Workspace).where(col(Workspace.team_id) == TEAM))


def run_bench(database: Database, members: int, threads: int) -> None:
    settings = Settings(_env_file=None, copbot_leads=LEAD, slack_signing_secret="b" * 32)  # type: ignore[call-arg]
    users = [f"U{n:08d}" for n in range(members)]
    with database.session() as session:
        ensure_workspace(session, TEAM)
        insert_copies_or_ignore(
            session,
            Member(team_id=TEAM, slack_user_id="x"),
            [
                {"slack_user_id": user, "staff_group": GROUPS[n % len(GROUPS)]}
                for n, user in enumerate(users)
            ],
        )
    started = time.perf_counter()
    with database.session() as session:
        pulse = design.create_pulse(
            session,
            Actor(TEAM, LEAD, "Lead", Role.LEAD),
            settings,
            name="bench",
            audience_kind="everyone",
            questions=QUESTIONS,
        )
        run_id = runs.open_run(session, settings, pulse, send_now=True).run.id or 0
    print(f"open a run to {members} members: {time.perf_counter() - started:.2f} s")

    def answer(number: int) -> float:
        begun = time.perf_counter()
        with database.session() as session:
            answers.record_answers(
                session,
                settings,
                run_id=run_id,
                user_id=users[number],
                token=None,
                answers=[Answer(0, 1 + number % 5), Answer(1, text="Rota gaps and discharge")],
                replace_all=True,
            )
        return time.perf_counter() - begun

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = sorted(pool.map(answer, range(members)))
    took = time.perf_counter() - started
    cut = statistics.quantiles(latencies, n=100)
    print(
        f"{members} answers from {threads} threads: {took:.2f} s, {members / took:.0f}/s; "
        f"latency p50 {cut[49] * 1000:.1f} ms, p95 {cut[94] * 1000:.1f} ms, "
        f"p99 {cut[98] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    with database.session() as session:
        sizes = session.exec(select(func.length(PulseBallot.sealed)).distinct()).all()
    print(f"sealed ballot sizes (base64 characters): {sorted(sizes)}")

    started = time.perf_counter()
    with database.session() as session:
        closing.close_run(session, settings, run_id)
    took = time.perf_counter() - started
    print(f"close (open {members} ballots, write shuffled rows): {took:.2f} s")
    started = time.perf_counter()
    with database.session() as session:
        found = results.run_results(session, settings, run_id)
    print(
        f"results: {time.perf_counter() - started:.2f} s "
        f"({found.respondents} respondents, mean {found.questions[0].mean:.2f})"
    )


def main(argv: list[str] | None = None) -> int:
    install_views()  # open_run draws the pulse DM with handlers/pulse/views.py
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="copbot-answers-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'answers.db'}"
        database = Database(url)
        upgrade(database)
        clean(database)
        print(f"database: {database.dialect}")
        try:
            run_bench(database, args.members, args.threads)
        finally:
            clean(database)
            database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
