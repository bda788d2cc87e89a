"""How long the sandbox's clock buttons take: jump an hour, to tomorrow 09:00, to next
Monday 09:00, and a whole week, in the demo community (40 people) with a weekly pulse
to everyone and an exchange programme with six sign-ups, as a lead would have set up.

Each jump runs every scheduled job that would have run on the way (``sandbox.clock``):
it prints the wall time, the CPU time of this process (copbot, the twin and the clock all
run in it; a busy machine stretches the wall time much more than this), how many job
runs had an effect (lines) and how many routine checks found nothing to do, and Slack
calls made. A fresh SQLite database in a temporary
folder, or ``--database-url`` (an empty database); the Slack twin in this process. Nothing
is asserted.

    .venv/bin/python bench/sandbox_clock.py
    .venv/bin/python bench/sandbox_clock.py --sweep 5   # every sweep run, no thinning
    .venv/bin/python bench/sandbox_clock.py --database-url postgresql://postgres@127.0.0.1:5432/x
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import demo
from bot.config import Settings
from sandbox.clock import jump, next_hour, next_monday, tomorrow_at
from sandbox.world import World
from storage import utcnow

LEAD = demo.PEOPLE[0].user_id


def set_up(world: World) -> None:
    """A weekly pulse (Monday 09:30) to everyone, and an exchange closing today."""
    driver, twin = world.driver, world.twin
    driver.command(LEAD, "/pulse", "new", channel="C0SBIDEAS")
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(
        LEAD,
        {
            "Name": "weekly",
            "Questions": ["What is working well?"],
            "Schedule": "Weekly",
            "Day": "Monday",
        },
    )
    driver.submit(LEAD)
    today = utcnow().astimezone(ZoneInfo("Europe/London")).date()
    driver.command(LEAD, "/exchange", "new", channel="C0SBIDEAS")
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(
        LEAD,
        {"Name": "rotation", "Format": "Half-day swap", "Sign-up deadline": today.isoformat()},
    )
    driver.submit(LEAD)
    for n, person in enumerate(demo.PEOPLE[4:10]):
        driver.command(person.user_id, "/exchange", "join rotation", channel="C0SBIDEAS")
        twin.wait_for(lambda user=person.user_id: twin.current_modal(user) is not None)
        driver.fill(
            person.user_id, {"Professional interests": [("Frailty", "Discharge and flow")[n % 2]]}
        )
        driver.submit(person.user_id)
    world.settle()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=float, default=30.0, help="minutes between sweep runs")
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database (default: a fresh SQLite file)"
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='copbot-clock-'))}/b.db"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    zone = "Europe/London"
    with World.start(settings) as world:
        set_up(world)
        steps = [
            ("next hour", lambda now: next_hour(now)),
            ("tomorrow 09:00", lambda now: tomorrow_at(now, 9, zone)),
            ("next Monday 09:00", lambda now: next_monday(now, 9, zone)),
            ("a week", lambda now: now + timedelta(days=7)),
        ]
        print(f"sweeps at most every {args.sweep:g} virtual minutes")
        print(
            f"{'jump':<18} {'virtual span':>12} {'wall s':>7} {'cpu s':>6} {'effects':>8} "
            f"{'idle':>6} calls"
        )
        for name, destination in steps:
            now = utcnow()
            to = destination(now)
            calls = len(world.twin.calls)
            started, cpu = time.perf_counter(), time.process_time()
            lines = jump(world, to, sweep=timedelta(minutes=args.sweep))
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            idle = 0
            if lines and (found := re.match(r"(\d+) routine checks?", lines[-1])):
                idle = int(found.group(1))
                lines = lines[:-1]
            span = f"{(to - now).total_seconds() / 3600:.1f} h"
            print(
                f"{name:<18} {span:>12} {wall:>7.2f} {cpu:>6.2f} {len(lines):>8} {idle:>6} "
                f"{len(world.twin.calls) - calls}"
            )


if __name__ == "__main__":
    main()
