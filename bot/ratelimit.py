"""Per-member limits on expensive requests (digests, exports, searches), so one person
or a stuck script can't tie up the model, the database or Slack's rate limits for all."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from bot.errors import UserError

# kind: (requests allowed, per seconds, what the person was doing)
LIMITS: dict[str, tuple[int, float, str]] = {
    "digest": (3, 600.0, "asked for digests"),
    "export": (5, 600.0, "exported"),
    "search": (20, 60.0, "searched"),
    "my_data": (3, 3600.0, "downloaded your data"),
}


class RateLimiter:
    """A sliding window per (team, member, kind), in this process's memory."""

    def __init__(
        self,
        limits: dict[str, tuple[int, float, str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or LIMITS
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, str], deque[float]] = {}

    def check(self, team_id: str, user_id: str, kind: str) -> None:
        """Count this request, or refuse it kindly with how long to wait."""
        allowed, window, doing = self.limits[kind]
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault((team_id, user_id, kind), deque())
            while seen and seen[0] <= now - window:
                seen.popleft()
            if len(seen) >= allowed:
                wait = math.ceil(seen[0] + window - now)
                raise UserError(
                    f"You've {doing} a lot just now: please try again in {_duration(wait)}."
                )
            seen.append(now)


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
