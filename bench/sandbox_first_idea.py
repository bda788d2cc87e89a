"""How long a newcomer waits: from `make run` in a fresh clone to an idea card in the page.

    .venv/bin/python bench/sandbox_first_idea.py [--keep-venv]

Clones this repository to a temporary folder, runs `make run` there (it builds the
virtual environment, installs copbot, starts the twin, copbot and the demo community, and
serves the page), then drives Debian's Chromium as a newcomer would: open the page, type
/idea, give a title, press Share, and wait for the card in #ideas. Prints the seconds to
each step, the CPU time `make run` used (a figure a busy machine does not change much) and
the load average. The typing is a script's: a person adds the time they take to read and type.
With --keep-venv the clone reuses this checkout's .venv (a second start, not a first).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("COPBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep-venv", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="copbot-fresh-"))
    clone = folder / "copbot"
    started = time.monotonic()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    if args.keep_venv:
        (clone / ".venv").symlink_to(ROOT / ".venv")
    log = (folder / "run.log").open("w")
    env = {**os.environ, "BROWSER": "true"}  # the bench drives its own browser
    run = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    figures: list[tuple[str, float]] = []
    try:
        url = None
        while url is None:
            if run.poll() is not None:
                print((folder / "run.log").read_text()[-3000:])
                return 1
            found = re.search(r"open (http://\S+)", (folder / "run.log").read_text())
            url = found.group(1) if found else None
            time.sleep(0.2)
        figures.append(("URL printed", time.monotonic() - started))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(url)
            page.get_by_label("Message", exact=True).wait_for()
            figures.append(("page shown", time.monotonic() - started))
            box = page.get_by_label("Message", exact=True)
            box.fill("/idea")
            box.press("Enter")
            dialog = page.get_by_role("dialog")
            dialog.get_by_label("Title").fill("Open the discharge lounge at weekends")
            dialog.get_by_role("button", name="Share").click()
            page.locator("#messages article", has_text="discharge lounge").wait_for(timeout=60000)
            figures.append(("idea card in #ideas", time.monotonic() - started))
            browser.close()
    finally:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
    for step, seconds in figures:
        print(f"{step:24} {seconds:6.1f} s after git clone")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"CPU time used by make run (install, start, serving): {cpu:.1f} s")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
