"""What the forgotten-people list costs the directory read.

The nightly directory read (``members.sync_directory``) checks each page of ``users.list``
against the suppression list: one HMAC per person and one indexed lookup per page. This
builds a migrated database (SQLite in a temporary folder, or ``--database-url``) with
``--forgotten`` people on the list, then checks ``--people`` user IDs in pages of 200 and
prints the time per page and per person. Slack's own pace for the read is a page every
3 seconds (Tier 2), for comparison. Nothing is asserted.

    .venv/bin/python bench/forgotten_list.py [--people 200000 --forgotten 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from bot import members
from bot.config import Settings
from storage import Database
from storage.migrate import upgrade

PAGE = 200
TEAM = "T0BENCH01"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--forgotten", type=int, default=1_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/copbot.db"
    database = Database(url)
    upgrade(database)
    settings = Settings(_env_file=None, slack_signing_secret="bench", database_url=url)  # type: ignore[call-arg]
    with database.session() as session:
        for n in range(args.forgotten):
            members.suppress(session, settings, TEAM, f"U{n * 2:09d}")
    people = [f"U{n:09d}" for n in range(args.people)]
    found, started = 0, time.perf_counter()
    with database.session() as session:
        for start in range(0, len(people), PAGE):
            found += len(members.forgotten(session, settings, TEAM, people[start : start + PAGE]))
    elapsed = time.perf_counter() - started
    pages = -(-len(people) // PAGE)
    print(f"database          {database.dialect}")
    print(f"people checked    {len(people):,} in {pages:,} pages of {PAGE}")
    print(f"on the list       {args.forgotten:,} ({found:,} found)")
    print(f"total             {elapsed:.2f} s")
    print(f"per page          {elapsed / pages * 1000:.2f} ms (users.list: one page every 3 s)")
    print(f"per person        {elapsed / len(people) * 1e6:.1f} us")
    database.dispose()


if __name__ == "__main__":
    main()
