"""Ideas at scale: `/idea search`, App Home lists and `/idea stats` over a large workspace.

Seeds one workspace with 100,000 ideas (titles and descriptions built from NHS improvement
words and themes, indexed with the real ``bot.similarity.terms``) and 1,000,000 supports
from 20,000 members, then prints the median time of a few runs of:

- ``search`` for a few queries (what ``/idea search <words>`` runs);
- a member's App Home lists: ``ideas_by``, ``ideas_supported_by``,
  ``most_supported_this_week`` and ``waiting_for_review``, for a prolific member and a
  typical one;
- ``engagement`` (``/idea stats`` and the leads' App Home figures);
- ``export_csv`` for one challenge and for the whole workspace.

It runs on SQLite (a temporary file) and, when ``--database-url`` or ``TEST_DATABASE_URL``
names a PostgreSQL server, on PostgreSQL too, in a database of its own (``copbot_bench``,
created and dropped here) or, when it may not create databases, in a schema of its own
(``bench_ideas``, via ``search_path``). Tests' data is never touched. Tables come from
``storage.migrate.upgrade``. Nothing is asserted: the figures are printed.

    .venv/bin/python bench/ideas.py                       # SQLite, 100k ideas, 1M supports
    .venv/bin/python bench/ideas.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/ideas.py --ideas 10000 --supports 100000 --runs 3   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.defaults import IMPROVEMENT_THEMES, ORGANISATION_TYPES, STAFF_GROUPS
from bot.ideas import insights
from bot.ideas.index import MAX_TERMS
from bot.similarity import terms
from storage import (
    Challenge,
    Database,
    Idea,
    IdeaStatus,
    IdeaTerm,
    Member,
    Organisation,
    Support,
    Workspace,
)
from storage.migrate import upgrade

TEAM = "T0BENCHIDEAS"
BENCH_DATABASE = "copbot_bench"
BENCH_SCHEMA = "bench_ideas"
DAYS_OF_HISTORY = 730
BATCH = 20_000
SLOW_MS = 200.0

# ------------------------------------------------------------------ the vocabulary

ACTIONS = (
    "Introduce",
    "Set up",
    "Pilot",
    "Create",
    "Share",
    "Standardise",
    "Simplify",
    "Co-design",
    "Expand",
    "Automate",
    "Review",
    "Launch",
    "Train staff in",
    "Digitise",
    "Fund",
    "Protect time for",
    "Join up",
    "Bring back",
)
SUBJECTS = (
    "a discharge lounge",
    "virtual wards",
    "a frailty hub",
    "falls prevention classes",
    "social prescribing",
    "medicines reconciliation",
    "a single referral form",
    "electronic whiteboards",
    "a rota app",
    "peer support huddles",
    "a wellbeing room",
    "same day emergency care",
    "community phlebotomy",
    "a mental health crisis cafe",
    "text message appointment reminders",
    "patient held records",
    "a shared care record",
    "pharmacist led medication reviews",
    "hospital at home",
    "a red bag scheme for care homes",
    "deprescribing clinics",
    "cancer prehabilitation",
    "a smoking cessation pathway",
    "hydration stations",
    "a delirium screening tool",
    "early warning scores in care homes",
    "trusted assessors",
    "a transfer of care hub",
    "long covid rehabilitation",
    "childhood asthma clinics",
    "diabetes foot checks",
    "blood pressure checks in barbershops",
    "language interpreters on call",
    "a carers passport",
    "flexible rostering",
    "reverse mentoring",
    "a quality improvement coaching network",
    "huddle boards",
    "microsoft teams ward rounds",
    "remote monitoring of heart failure",
    "a dementia friendly outpatient clinic",
    "safeguarding champions",
    "menopause support for staff",
    "an ambulance handover cohort area",
    "a learning from excellence scheme",
    "sepsis screening",
    "pressure ulcer prevention",
    "eye health checks in schools",
    "dental hygiene visits to care homes",
    "a physiotherapy self referral service",
)
AUDIENCES = (
    "for frail older people",
    "for care home residents",
    "for children and young people",
    "for people with learning disabilities",
    "for unpaid carers",
    "for new starters",
    "for night staff",
    "for people experiencing homelessness",
    "for international recruits",
    "for students and trainees",
    "for people waiting for surgery",
    "for people in crisis",
    "for housebound patients",
    "for veterans",
    "for refugees and asylum seekers",
)
PLACES = (
    "in A&E",
    "on medical wards",
    "in general practice",
    "across the PCN",
    "in community pharmacy",
    "at the front door",
    "across the place",
    "in outpatients",
    "in the ambulance service",
    "in mental health inpatient units",
    "in district nursing teams",
    "in the acute medical unit",
    "in theatres",
    "on the children's ward",
    "in the discharge team",
    "in the hospice",
    "across the integrated care system",
)
PROBLEMS = (
    "Staff spend hours chasing {thing} by phone.",
    "Patients wait too long because {thing} is inconsistent.",
    "We keep duplicating paperwork when {thing} could be shared once.",
    "Delays in {thing} lead to avoidable admissions and readmissions.",
    "Colleagues told us {thing} is the biggest source of frustration on shift.",
    "Families are confused about {thing} and call the ward repeatedly.",
    "Night teams have no access to {thing} after 8pm.",
    "Audit showed {thing} varies a lot between sites.",
)
BENEFITS = (
    "This would free up clinical time and reduce length of stay.",
    "It could cut waiting times and improve patient experience.",
    "Early results from a similar trust show fewer falls and fewer complaints.",
    "It would support staff wellbeing and retention.",
    "It reduces health inequalities by reaching people who miss appointments.",
    "It saves money on agency shifts and transport.",
    "Patients and carers co-designed the first version with us.",
    "It builds on learning shared at the last community of practice meeting.",
)
ORGANISATION_NAMES = (
    "Wye Valley",
    "Gloucestershire",
    "Worcestershire",
    "Shropshire",
    "Herefordshire",
    "Taurus",
    "Severn",
    "Malvern",
    "Ledbury",
    "Leominster",
    "Ross",
    "Kington",
    "Bromyard",
)
RATIONALES = (
    "Agreed at the design group; funded from the transformation budget.",
    "Taken forward with the discharge team; first review in a month.",
    "Not taken forward: the same change is already under way system-wide.",
    "Implemented on two wards; spreading to the rest next quarter.",
    "Merged with a similar idea so supporters are together.",
)
QUERIES = (
    "discharge lounge",
    "frailty falls prevention at home",
    "mental health crisis cafe",
    "medicines reconciliation pharmacist",
    "patient",
    "xylophone",
)

# ------------------------------------------------------------------ the data


@dataclass
class Dataset:
    """Every row, generated once (seeded) and loaded into each database the same way."""

    now: datetime
    organisations: list[tuple[Any, ...]]
    members: list[tuple[Any, ...]]
    challenges: list[tuple[Any, ...]]
    ideas: list[tuple[Any, ...]]
    idea_terms: list[tuple[Any, ...]]
    supports: list[tuple[Any, ...]]
    prolific: str
    typical: str
    challenge_id: int


ORG_COLUMNS = ("id", "team_id", "name", "org_type", "created_at")
MEMBER_COLUMNS = (
    "id",
    "team_id",
    "slack_user_id",
    "display_name",
    "real_name",
    "staff_group",
    "organisation_id",
    "is_slack_admin",
    "is_lead",
    "created_at",
)
CHALLENGE_COLUMNS = (
    "id",
    "team_id",
    "title",
    "description",
    "tags",
    "target_groups",
    "channel_id",
    "opens_at",
    "closes_at",
    "created_at",
)
IDEA_COLUMNS = (
    "id",
    "team_id",
    "title",
    "description",
    "themes",
    "challenge_id",
    "author_id",
    "submitted_by",
    "is_anonymous",
    "status",
    "rationale",
    "owner_id",
    "merged_into_id",
    "supporter_count",
    "permalink",
    "created_at",
    "updated_at",
    "decided_at",
)
TERM_COLUMNS = ("id", "team_id", "term", "idea_id", "weight")
SUPPORT_COLUMNS = ("id", "idea_id", "user_id", "created_at")
DECIDED = (IdeaStatus.IN_PROGRESS, IdeaStatus.IMPLEMENTED, IdeaStatus.NOT_TAKEN_FORWARD)


def user(number: int) -> str:
    return f"U{number:08d}"


def _status(chance: random.Random, age_days: float) -> str:
    """Older ideas are more often decided; a fifth of the old ones still wait."""
    if age_days < 14:
        weights = (70, 25, 3, 0, 2, 0)
    elif age_days < 60:
        weights = (30, 25, 20, 5, 15, 5)
    else:
        weights = (10, 10, 25, 30, 20, 5)
    return chance.choices(list(IdeaStatus), weights)[0]


def generate(ideas: int, supports: int, members: int, seed: int = 7) -> Dataset:
    chance = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    organisations = []
    for name in ORGANISATION_NAMES:
        for org_type in chance.sample(ORGANISATION_TYPES, 5):
            label = f"{name} {org_type}"
            organisations.append((len(organisations) + 1, TEAM, label, org_type, now))
    people = []
    for number in range(members):
        group = STAFF_GROUPS[min(int(chance.expovariate(0.35)), len(STAFF_GROUPS) - 1)]
        org = chance.choice(organisations)[0] if chance.random() < 0.9 else None
        name = f"Member {number}"
        people.append(
            (number + 1, TEAM, user(number), name, name, group, org, False, number < 20, now)
        )
    challenges = []
    for number in range(20):
        opens = now - timedelta(days=DAYS_OF_HISTORY - number * 35)
        challenges.append(
            (
                number + 1,
                TEAM,
                f"How can we {chance.choice(ACTIONS).lower()} {chance.choice(SUBJECTS)}?",
                "A question from the design group.",
                json.dumps(["A culture of shared learning"]),
                json.dumps([]),
                "C0CHALLENGE",
                opens,
                opens + timedelta(days=42),
                opens,
            )
        )
    # Supports per idea: heavy-tailed, as in real communities (most ideas get a few).
    weights = [chance.paretovariate(1.2) for _ in range(ideas)]
    scale = supports / sum(weights)
    counts = [min(members // 4, int(weight * scale)) for weight in weights]
    for _ in range(supports - sum(counts)):
        counts[chance.randrange(ideas)] += 1
    idea_rows: list[tuple[Any, ...]] = []
    term_rows: list[tuple[Any, ...]] = []
    support_rows: list[tuple[Any, ...]] = []
    history = DAYS_OF_HISTORY * 86400
    for index in range(ideas):
        idea_id = index + 1
        # Ids follow time, so "earlier idea" and "lower id" agree (merges point backwards).
        created = now - timedelta(seconds=history * (1 - (index + chance.random()) / ideas))
        age = (now - created).total_seconds() / 86400
        title = (
            f"{chance.choice(ACTIONS)} {chance.choice(SUBJECTS)} "
            f"{chance.choice(AUDIENCES)} {chance.choice(PLACES)}"
        )[:150]
        thing = chance.choice(SUBJECTS)
        description = " ".join(
            [chance.choice(PROBLEMS).format(thing=thing), chance.choice(BENEFITS)]
            + ([chance.choice(BENEFITS)] if chance.random() < 0.5 else [])
        )
        themes = chance.sample(IMPROVEMENT_THEMES, chance.randint(1, 2))
        author_number = int(members * chance.random() ** 3)  # a few people post a lot
        author = user(author_number)
        submitted = user(chance.randrange(members)) if chance.random() < 0.03 else author
        anonymous = chance.random() < 0.06
        status = _status(chance, age)
        merged_into = None
        if status == IdeaStatus.MERGED and idea_id > 1:
            merged_into = chance.randrange(1, idea_id)
        elif status == IdeaStatus.MERGED:
            status = IdeaStatus.NEW
        decided = None
        if status in DECIDED or status == IdeaStatus.MERGED:
            decided = min(now, created + timedelta(days=chance.expovariate(1 / 20)))
        supporters = chance.sample(range(members), min(counts[index] + 1, members))
        supporters = [number for number in supporters if number != author_number]
        supporters = supporters[: counts[index]]
        span = (now - created).total_seconds()
        for number in supporters:
            when = created + timedelta(seconds=span * chance.random() ** 3)
            support_rows.append((len(support_rows) + 1, idea_id, user(number), when))
        idea_rows.append(
            (
                idea_id,
                TEAM,
                title,
                description,
                json.dumps(themes),
                chance.randint(1, 20) if chance.random() < 0.3 else None,
                author,
                submitted,
                anonymous,
                str(status),
                chance.choice(RATIONALES) if decided else None,
                user(chance.randrange(20)) if status == IdeaStatus.IN_PROGRESS else None,
                merged_into,
                len(supporters),
                f"https://bench.slack.com/archives/C0IDEAS01/p{int(created.timestamp())}{index}",
                created,
                decided or created,
                decided,
            )
        )
        # The same terms as bot.ideas.index.index_idea: title words count twice.
        text_terms = terms(f"{title}\n{description}\n{' '.join(themes)}")
        weighted = Counter(text_terms) + Counter(terms(title))
        for term, weight in weighted.most_common(MAX_TERMS):
            term_rows.append((len(term_rows) + 1, TEAM, term[:64], idea_id, weight))
    return Dataset(
        now=now,
        organisations=organisations,
        members=people,
        challenges=challenges,
        ideas=idea_rows,
        idea_terms=term_rows,
        supports=support_rows,
        prolific=user(0),
        typical=user(members // 2),
        challenge_id=7,
    )


# ------------------------------------------------------------------ loading


def batches(rows: Sequence[tuple[Any, ...]], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _json_back(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """Core inserts want Python values for JSON columns; COPY wants the JSON text."""
    values = dict(zip(columns, row, strict=True))
    for key in ("themes", "tags", "target_groups"):
        if key in values:
            values[key] = json.loads(values[key])
    return values


def load(database: Database, data: Dataset) -> dict[str, float]:
    """Bulk-load every table: COPY on PostgreSQL, core executemany in batches on SQLite."""
    tables: list[tuple[Table, Sequence[str], Sequence[tuple[Any, ...]]]] = [
        (Organisation.__table__, ORG_COLUMNS, data.organisations),  # type: ignore[attr-defined]
        (Member.__table__, MEMBER_COLUMNS, data.members),  # type: ignore[attr-defined]
        (Challenge.__table__, CHALLENGE_COLUMNS, data.challenges),  # type: ignore[attr-defined]
        (Idea.__table__, IDEA_COLUMNS, data.ideas),  # type: ignore[attr-defined]
        (IdeaTerm.__table__, TERM_COLUMNS, data.idea_terms),  # type: ignore[attr-defined]
        (Support.__table__, SUPPORT_COLUMNS, data.supports),  # type: ignore[attr-defined]
    ]
    timings: dict[str, float] = {}
    with database.session() as session:
        session.add(Workspace(team_id=TEAM, name="Bench ICS"))
    if database.dialect == "postgresql":
        raw = database.engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            with connection.cursor() as cursor:
                for table, columns, rows in tables:
                    started = time.perf_counter()
                    names = ", ".join(columns)
                    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                    timings[table.name] = time.perf_counter() - started
            connection.commit()
        finally:
            raw.close()
    else:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            for table, columns, rows in tables:
                started = time.perf_counter()
                for batch in batches(rows):
                    connection.execute(table.insert(), [_json_back(columns, row) for row in batch])
                timings[table.name] = time.perf_counter() - started
    # Fresh statistics, and on PostgreSQL the visibility map that index-only scans need:
    # what autovacuum gives a live database after bulk inserts (PostgreSQL 13 and later).
    started = time.perf_counter()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if database.dialect == "postgresql" else "ANALYZE")
    timings["vacuum/analyze"] = time.perf_counter() - started
    return timings


# ------------------------------------------------------------------ databases


@contextmanager
def sqlite_database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="copbot-bench-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'ideas.db'}")
        try:
            upgrade(database)
            yield database
        finally:
            database.dispose()


@contextmanager
def postgresql_database(url: str) -> Iterator[Database]:
    """A database of the bench's own, else a schema of its own; dropped afterwards."""
    admin = Database(url)
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}"))
            conn.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
        own_database = True
    except Exception as error:  # no CREATEDB right: fall back to a schema
        print(f"  (cannot create a database: {type(error).__name__}; using a schema)")
        own_database = False
    if own_database:
        bench_url = make_url(url).set(database=BENCH_DATABASE)
    else:
        with admin.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {BENCH_SCHEMA}"))
        bench_url = make_url(url).update_query_dict({"options": f"-csearch_path={BENCH_SCHEMA}"})
    database = Database(bench_url.render_as_string(hide_password=False))
    try:
        upgrade(database)
        yield database
    finally:
        database.dispose()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if own_database:
                conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}"))
            else:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
        admin.dispose()


# ------------------------------------------------------------------ measuring


def median_ms(database: Database, runs: int, work: Callable[[Any], Any]) -> tuple[float, Any]:
    """Median wall time of ``runs`` calls, each in a session of its own, after one warm-up."""
    times = []
    result = None
    for attempt in range(runs + 1):
        with database.session() as session:
            started = time.perf_counter()
            result = work(session)
            elapsed = (time.perf_counter() - started) * 1000
        if attempt:
            times.append(elapsed)
    return statistics.median(times), result


def explain(database: Database, work: Callable[[Any], Any]) -> None:
    """Print the plan of every statement ``work`` runs (``--explain``, slow calls only)."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        with database.session() as session:
            work(session)
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) " if database.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    )
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            print("      " + " ".join(statement.split())[:300])
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            for row in rows:
                print("        " + str(row[0] if len(row) == 1 else row[-1]))


def measure(database: Database, data: Dataset, runs: int, anonymity_min: int, plans: bool) -> None:
    now = data.now

    def timed(label: str, work: Callable[[Any], Any], describe: Callable[[Any], str]) -> None:
        ms, result = median_ms(database, runs, work)
        flag = "  <- slow" if ms > SLOW_MS else ""
        print(f"  {label:<50} {ms:9.1f} ms  {describe(result)}{flag}")
        if plans and ms > SLOW_MS:
            explain(database, work)

    def figures(result: insights.Engagement) -> str:
        median = result.median_days_to_decision
        share = result.share_decided_within_30_days
        return (
            f"{result.ideas:,} ideas, {result.voices:,} voices, median to decision "
            f"{'-' if median is None else f'{median:.1f} d'}, decided within 30 d "
            f"{'-' if share is None else f'{share:.0%}'}"
        )

    print(f"  {f'median of {runs} runs':<50} {'time':>12}")
    for words in QUERIES:
        timed(
            f"search {words!r}",
            lambda s, w=words: insights.search(s, TEAM, w),
            lambda hits: f"{len(hits)} hits",
        )
    for who, user_id in (("prolific", data.prolific), ("typical", data.typical)):
        lists: dict[str, Callable[[Any], Any]] = {
            "ideas_by": lambda s, u=user_id: insights.ideas_by(s, TEAM, u),
            "ideas_supported_by": lambda s, u=user_id: insights.ideas_supported_by(s, TEAM, u),
            "most_supported_this_week": lambda s: insights.most_supported_this_week(s, TEAM, now),
            "waiting_for_review": lambda s: insights.waiting_for_review(s, TEAM, now),
        }
        for name, work in lists.items():
            timed(f"home, {who} member: {name}", work, lambda _: "")
        home = tuple(lists.values())
        timed(
            f"home, {who} member: all four lists",
            lambda s, parts=home: [part(s) for part in parts],
            lambda _: "",
        )
    timed(
        "engagement (/idea stats)",
        lambda s: insights.engagement(s, TEAM, anonymity_min, now),
        figures,
    )
    timed(
        "export_csv, one challenge",
        lambda s: insights.export_csv(s, TEAM, data.challenge_id),
        lambda csv_text: f"{csv_text.count(chr(10)) - 1:,} rows",
    )
    timed(
        "export_csv, whole workspace",
        lambda s: insights.export_csv(s, TEAM),
        lambda csv_text: f"{len(csv_text) / 1e6:.1f} MB",
    )


def run(
    label: str, factory: Any, data: Dataset, runs: int, anonymity_min: int, plans: bool
) -> None:
    print(f"\n{label}")
    started = time.perf_counter()
    with factory() as database:
        timings = load(database, data)
        seeding = time.perf_counter() - started
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        print(f"  seeded in {seeding:.1f} s (migrate, bulk load, statistics): {parts}")
        measure(database, data, runs, anonymity_min, plans)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--supports", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--anonymity-min", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="a PostgreSQL server to bench as well (default: $TEST_DATABASE_URL)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument(
        "--explain", action="store_true", help=f"print query plans of calls over {SLOW_MS:.0f} ms"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    started = time.perf_counter()
    data = generate(args.ideas, args.supports, args.members)
    print(
        f"generated {len(data.ideas):,} ideas, {len(data.idea_terms):,} index terms, "
        f"{len(data.supports):,} supports from {len(data.members):,} members "
        f"in {time.perf_counter() - started:.1f} s"
    )
    if not args.no_sqlite:
        run(
            "SQLite (temporary file)",
            sqlite_database,
            data,
            args.runs,
            args.anonymity_min,
            args.explain,
        )
    if args.database_url and make_url(args.database_url).get_backend_name() == "postgresql":
        url = args.database_url
        run(
            f"PostgreSQL ({BENCH_DATABASE} on {make_url(url).host})",
            lambda: postgresql_database(url),
            data,
            args.runs,
            args.anonymity_min,
            args.explain,
        )


if __name__ == "__main__":
    main()
