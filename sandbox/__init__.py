"""The sandbox: copbot against a local Slack twin with a demo community, in a terminal."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from sandbox.clock import TICK_SECONDS
from sandbox.terminal import Terminal
from sandbox.world import World

LOG_FILE = Path("var/sandbox.log")


def quiet_logs(path: Path) -> None:
    """The terminal is the sandbox's screen: logs go to a file instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def run_sandbox(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    quiet_logs(LOG_FILE)
    with World.start(settings, tick=TICK_SECONDS) as world:
        return Terminal(world, stdin, stdout).loop()


__all__ = ["Terminal", "World", "run_sandbox"]
