"""Per-member limits: a sliding window that says how long to wait."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.ratelimit import RateLimiter


def test_the_window_slides_and_members_are_counted_apart() -> None:
    now = [0.0]
    limiter = RateLimiter({"search": (2, 60.0, "searched")}, clock=lambda: now[0])
    limiter.check("T1", "U1", "search")
    limiter.check("T1", "U1", "search")
    with pytest.raises(UserError, match="searched a lot just now: please try again in 60 seconds"):
        limiter.check("T1", "U1", "search")
    limiter.check("T1", "U2", "search")  # someone else is not held back
    now[0] = 45.0
    with pytest.raises(UserError, match="15 seconds"):
        limiter.check("T1", "U1", "search")
    now[0] = 60.0
    limiter.check("T1", "U1", "search")  # the first request has left the window
