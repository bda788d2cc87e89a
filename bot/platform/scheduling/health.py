"""The scheduler's own job: a heartbeat, so a log (or a file, in tests) shows it runs."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime

from bot.platform.scheduling.context import scheduled_time
from bot.platform.scheduling.registry import job
from bot.platform.scheduling.triggers import every
from storage import utcnow

log = logging.getLogger("copbot.jobs")


@dataclass
class Heartbeats:
    """How often, and when last, this process's scheduler ran the heartbeat job."""

    count: int = 0
    last_run: datetime | None = None
    last_scheduled: datetime | None = None


HEARTBEATS = Heartbeats()
_heartbeat_lock = threading.Lock()


@job("copbot:heartbeat", every(minutes=5), title="Scheduler heartbeat")
def heartbeat(path: str | None = None) -> None:
    """Record that the scheduler ran: a log line, ``HEARTBEATS``, and optionally a file.

    With ``path``, appends ``"<pid> <scheduled unix time> <ran unix time>"`` as one line (one
    ``write`` on an append-mode file, so lines from several processes never interleave).
    """
    ran = utcnow()
    scheduled = scheduled_time() or ran
    with _heartbeat_lock:
        HEARTBEATS.count += 1
        HEARTBEATS.last_run = ran
        HEARTBEATS.last_scheduled = scheduled
    log.info("scheduler heartbeat in pid %s (scheduled for %s)", os.getpid(), scheduled)
    if path:
        line = f"{os.getpid()} {scheduled.timestamp():.3f} {ran.timestamp():.3f}\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
