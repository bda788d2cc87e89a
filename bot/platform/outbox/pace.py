"""Pacing every sender together: Slack's rate limits (429, Retry-After, a learned pace,
one post a second per channel) and a circuit breaker while Slack is failing."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)

OUTAGE_THRESHOLD = 3  # server errors or unanswered calls in a row that pause sending
OUTAGE_PAUSE = 2.0  # seconds; doubles while Slack keeps failing
OUTAGE_PAUSE_MAX = 60.0


class _Breaker:
    """Stops posting while Slack keeps failing: a circuit breaker for server errors.

    A post that fails with a 5xx or no answer leaves a row whose outcome is unknown, and
    each such row costs a Tier 3 ``conversations.history`` call before it may be retried;
    so hammering a failing Slack turns a 5-second blip into minutes of checks. After
    ``OUTAGE_THRESHOLD`` such failures in a row (across all senders, and recovery) every
    sender waits ``pause`` seconds; then one probe post goes alone while the others wait
    for its answer. A failed probe doubles the pause (up to ``ceiling``); an answer to any
    post closes the breaker. Failures of calls already on the wire when a pause began do
    not count.
    """

    PROBE_POLL = 0.05  # seconds between looks while the probe is out

    def __init__(self, pause: float = OUTAGE_PAUSE, ceiling: float = OUTAGE_PAUSE_MAX) -> None:
        self.pause = pause
        self.ceiling = max(ceiling, pause)
        self._lock = threading.Lock()
        self._failures = 0
        self._current = 0.0  # the latest pause, in seconds; 0 while closed
        self._open_until = 0.0
        self._probing = False

    def record(self, outage: bool) -> float | None:
        """Note how a call to Slack ended (``outage``: 5xx or no answer); returns the pause
        this starts, in seconds, or None."""
        with self._lock:
            if not outage:
                self._failures, self._current, self._open_until = 0, 0.0, 0.0
                self._probing = False
                return None
            now = time.monotonic()
            if now < self._open_until:
                return None
            self._failures += 1
            if not self._current and self._failures < OUTAGE_THRESHOLD:
                return None
            self._current = min(self._current * 2, self.ceiling) if self._current else self.pause
            self._open_until = now + self._current
            self._probing = False
            return self._current

    def paused(self) -> float:
        """Seconds left in the current pause (0: not paused)."""
        with self._lock:
            return max(0.0, self._open_until - time.monotonic())

    def admit(self) -> float:
        """Seconds to wait before posting; 0 to go. After a pause only the first caller gets
        0 (the probe) until an answer comes."""
        with self._lock:
            left = self._open_until - time.monotonic()
            if left > 0:
                return left
            if not self._current:
                return 0.0
            if self._probing:
                return self.PROBE_POLL
            self._probing = True
            return 0.0


class _Pacer:
    """Shared pacing of Slack calls across the sender threads.

    A 429 pauses every sender of that method for ``Retry-After`` (slack_sdk's retry handler
    would sleep one thread while the others kept hitting the limit). Because Slack's
    ``Retry-After`` is whole seconds and its burst may be small, pausing alone can fall well
    short of the limit; so after a 429 the senders also keep a learned pace: a little under
    the rate achieved before the 429, rising a few per cent a second until the next 429
    (additive-increase, multiplicative-decrease, as TCP does). chat.postMessage also keeps
    about one post a second per channel. A method's ``_Breaker`` (in ``breakers``) holds
    its senders while Slack is failing.
    """

    DECREASE = 0.8  # new pace: this share of the rate achieved before a 429
    GROWTH = 0.05  # the pace rises by this share each second without a 429
    MIN_RATE = 0.5  # per second

    def __init__(
        self, channel_interval: float, breakers: dict[str, _Breaker] | None = None
    ) -> None:
        self.channel_interval = channel_interval
        self.breakers = breakers or {}
        self._lock = threading.Lock()
        self._paused_until: dict[str, float] = {}
        self._last_post: dict[str, float] = {}
        self._rate: dict[str, float] = {}  # learned calls per second, once limited
        self._next_slot: dict[str, float] = {}
        self._raised_at: dict[str, float] = {}
        self._run_start: dict[str, float] = {}
        self._run_count: dict[str, int] = {}

    def pause(self, method: str, seconds: float) -> bool:
        """Pause ``method`` after a 429; True when this starts a new pause (for counting
        waits), which also lowers the learned pace."""
        now = time.monotonic()
        with self._lock:
            until = self._paused_until.get(method, 0.0)
            self._paused_until[method] = max(until, now + seconds)
            if until > now:
                return False
            count = self._run_count.get(method, 0)
            elapsed = now - self._run_start.get(method, now)
            rate = self._rate.get(method)
            if count >= 5 and elapsed > 0:
                achieved = count / elapsed
                rate = min(achieved, rate or achieved) * self.DECREASE
            elif rate is not None:
                rate *= self.DECREASE
            if rate is not None:
                self._rate[method] = max(rate, self.MIN_RATE)
            self._raised_at[method] = now + seconds
            self._run_start[method] = now + seconds
            self._run_count[method] = 0
            return True

    def paused(self, method: str) -> float:
        """Seconds left in the pause on ``method`` (0: go)."""
        with self._lock:
            return max(0.0, self._paused_until.get(method, 0.0) - time.monotonic())

    def rate(self, method: str) -> float | None:
        """The learned pace (calls per second), or None while no limit has been met."""
        with self._lock:
            return self._rate.get(method)

    def wait(
        self,
        method: str,
        stop: threading.Event,
        channel: str | None = None,
        timeout: float | None = None,
    ) -> bool | None:
        """Block until ``method`` (and the channel) may be called: True to go, False when
        stopping, None when ``timeout`` passed first. The turn is taken atomically, so two
        senders never post to one channel at once and together keep the learned pace."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                now = time.monotonic()
                left = self._paused_until.get(method, 0.0) - now
                rate = self._rate.get(method)
                if rate is not None:
                    left = max(left, self._next_slot.get(method, 0.0) - now)
                if channel is not None:
                    last = self._last_post.get(channel)
                    if last is not None:
                        left = max(left, last + self.channel_interval - now)
                breaker = self.breakers.get(method)
                if left <= 0 and breaker is not None:
                    left = breaker.admit()  # asked last: the probe's turn is taken only to go
                if left <= 0:
                    if rate is not None:
                        self._next_slot[method] = now + 1.0 / rate
                    if channel is not None:
                        self._last_post[channel] = now
            if left <= 0:
                return not stop.is_set()
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
                if left <= 0:
                    return None
            if stop.wait(min(left, 1.0)):
                return False

    def succeeded(self, method: str) -> None:
        """Count a call that went through, and raise the learned pace a little."""
        now = time.monotonic()
        with self._lock:
            self._run_count[method] = self._run_count.get(method, 0) + 1
            rate = self._rate.get(method)
            if rate is not None:
                since = max(0.0, now - self._raised_at.get(method, now))
                self._rate[method] = rate * (1.0 + self.GROWTH * since)
                self._raised_at[method] = now

    def posted(self, channel: str) -> None:
        with self._lock:
            self._last_post[channel] = time.monotonic()

    def forget(self, channel: str) -> None:
        with self._lock:
            self._last_post.pop(channel, None)

    def forget_idle_channels(self) -> None:
        """Drop channels whose spacing has passed, so 10,000 DMs leave nothing behind."""
        cutoff = time.monotonic() - self.channel_interval
        with self._lock:
            self._last_post = {c: t for c, t in self._last_post.items() if t > cutoff}
