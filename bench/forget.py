"""How long "forget me" takes on a community-sized database.

Builds a migrated database (SQLite in a temporary folder, or ``--database-url``) with a
synthetic community: ``--members`` people, ``--ideas`` ideas with supports, ``--messages``
captured messages (one in ten mentions someone), reflections and sent outbox rows. Then it
forgets one ordinary member and prints:

- ``erase``: ``rights.forget`` in its transaction;
- ``clean``: ``rights.clean_storage`` after the commit (SQLite VACUUM and the WAL
  checkpoint; PostgreSQL VACUUM of the touched tables);
- the database file's size before and after.

Both run after the confirmation modal's ack: erasure reads every text column of every
table, which can take longer than the 3 seconds Slack waits. Nothing is asserted.

    .venv/bin/python bench/forget.py [--members 2000 --messages 50000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from bot import rights
from storage import (
    CapturedMessage,
    Database,
    Idea,
    Member,
    OutboxMessage,
    Reflection,
    Support,
    Workspace,
    utcnow,
)
from storage.migrate import upgrade

TEAM = "T0BENCH01"
WORDS = [
    "discharge",
    "lounge",
    "huddle",
    "frailty",
    "ward",
    "pharmacy",
    "rota",
    "weekend",
    "physio",
    "flow",
    "board",
    "community",
    "nursing",
    "handover",
    "falls",
    "prevention",
    "virtual",
    "ward",
    "escalation",
]


def sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def build(db: Database, members: int, ideas: int, messages: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    people = [f"U{n:08d}" for n in range(members)]
    now = utcnow()
    with db.session() as session:
        session.add(Workspace(team_id=TEAM, name="Bench ICS"))
        session.flush()
        session.execute(
            insert(Member),
            [
                {"team_id": TEAM, "slack_user_id": p, "display_name": f"person{n}"}
                | {"real_name": f"Person Number{n}", "created_at": now}
                for n, p in enumerate(people)
            ],
        )
        session.execute(
            insert(Idea),
            [
                {"team_id": TEAM, "title": sentence(rng, 6), "description": sentence(rng)}
                | {"themes": [], "author_id": rng.choice(people), "status": "new"}
                | {"channel_id": "C0IDEAS01", "card_ts": f"{n}.000100", "created_at": now}
                | {"updated_at": now}
                for n in range(ideas)
            ],
        )
        session.execute(
            insert(Support),
            [
                {"idea_id": i + 1, "user_id": p, "created_at": now}
                for i in range(ideas)
                for p in rng.sample(people, 5)
            ],
        )
        session.execute(
            insert(CapturedMessage),
            [
                {"team_id": TEAM, "channel_id": "C0TALK001", "ts": f"{n}.000200"}
                | {"user_id": rng.choice(people), "captured_at": now}
                | {
                    "text": sentence(rng)
                    + (f" thanks <@{rng.choice(people)}>" if n % 10 == 0 else "")
                }
                for n in range(messages)
            ],
        )
        session.execute(
            insert(Reflection),
            [
                {"team_id": TEAM, "user_id": rng.choice(people), "text": sentence(rng)}
                | {"created_at": now}
                for _ in range(members)
            ],
        )
        session.execute(
            insert(OutboxMessage),
            [
                {"team_id": TEAM, "key": f"bench:{n}", "kind": "idea.update"}
                | {"user_id": p, "channel": p, "text": sentence(rng), "status": "sent"}
                | {"sent_ts": f"{n}.000300", "sent_channel": "D0BENCH01", "due_at": now}
                | {"created_at": now, "essential": True, "attempts": 1}
                for n, p in enumerate(rng.choices(people, k=members * 3))
            ],
        )
    return people


def size(db: Database) -> str:
    if db.dialect != "sqlite":
        return "n/a"
    path = Path(db.engine.url.database or "")
    wal = path.with_name(path.name + "-wal")
    total = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return f"{total / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--ideas", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=50000)
    parser.add_argument("--database-url", help="an empty database; default: SQLite in /tmp")
    parser.add_argument("--repeat", type=int, default=3, help="members forgotten in turn")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        db = Database(url)
        upgrade(db)
        started = time.perf_counter()
        people = build(db, args.members, args.ideas, args.messages)
        print(
            f"{db.dialect}: {args.members} members, {args.ideas} ideas, {args.messages} "
            f"captured messages, built in {time.perf_counter() - started:.1f} s, {size(db)}"
        )
        print("   erase      clean   database after")
        for person in people[1 : 1 + args.repeat]:
            started = time.perf_counter()
            with db.session() as session:
                done = rights.forget(session, TEAM, person)
            erase = time.perf_counter() - started
            started = time.perf_counter()
            rights.clean_storage(db, done)
            clean = time.perf_counter() - started
            print(f"{erase * 1000:5.0f} ms   {clean * 1000:5.0f} ms   {size(db):>14}")
        db.dispose()


if __name__ == "__main__":
    main()
