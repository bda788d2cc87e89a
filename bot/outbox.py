"""The outbox: the one way scheduled and bulk messages leave copbot, each sent exactly once.

Work writes a row first (``enqueue``, idempotent on ``key``); a ``Deliverer`` claims due
rows, marks them ``sending`` and commits before it posts, posts with the key in Slack
message metadata, then records the ``ts``. The window between posting and recording is
closed by recovery: a row left in ``sending`` beyond its lease is looked up in the
destination's latest messages by its metadata key, and recorded as sent if it is there,
or put back to pending if it is not. A send whose outcome is unknown (timeout, dropped
connection, 5xx: Slack says such calls may have taken effect) goes through the same check
before it is tried again, so no retry can make a second copy.

Throughput follows Slack's limits, not a fixed sleep: a small pool posts concurrently,
one conversation at a time per channel (chat.postMessage allows about one a second per
channel), and a 429 pauses every sender for its ``Retry-After``. Three server errors or
unanswered calls in a row pause every sender too (2 s, doubling to 60 s, then one probe
post), so an outage leaves a handful of messages to check, not one per message queued.
Tier 3 methods (``conversations.open``, ``conversations.history``) are only called in
recovery.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, case
from sqlmodel import Session, col, func, select, update

from bot.slack import tagged
from bot.workspaces import INSTALLS
from storage import (
    Database,
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
    Workspace,
    insert_or_ignore,
    utcnow,
)

log = logging.getLogger(__name__)

# Workspaces the app is uninstalled from: their rows are held (neither claimed nor checked).
_UNINSTALLED = select(Workspace.team_id).where(col(Workspace.uninstalled_at).is_not(None))

EVENT_TYPE = "copbot_outbox"
"""Slack message metadata ``event_type`` on every outbox message; the payload is the key."""

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
HISTORY_LIMIT = 20
HISTORY_PAGES = 3
KEY_MAX = 200
TEXT_MAX = 4000
OUTAGE_THRESHOLD = 3  # server errors or unanswered calls in a row that pause sending
OUTAGE_PAUSE = 2.0  # seconds; doubles while Slack keeps failing
OUTAGE_PAUSE_MAX = 60.0

# fmt: off
# Errors about the app itself, not one message: stop delivering and say so.
# (account_inactive is here: Slack uses it for a token of a deleted user or workspace.)
FATAL_ERRORS = frozenset((
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "no_permission", "missing_scope", "not_allowed_token_type", "org_login_required",
    "ekm_access_denied", "team_access_not_granted",
))
# The destination will not take messages: the message is undeliverable, and for a DM so
# is the member until someone says otherwise.
DESTINATION_ERRORS = frozenset((
    "user_not_found", "cannot_dm_bot", "channel_not_found", "not_in_channel", "is_archived",
    "user_disabled", "messages_tab_disabled",
))
# This message can never be sent as it is; the member is not at fault.
MESSAGE_ERRORS = frozenset((
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "no_text",
    "too_many_attachments", "invalid_attachments", "invalid_metadata_format",
    "invalid_metadata_schema", "metadata_too_large", "metadata_must_be_sent_from_app",
    "invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset",
    "invalid_form_data", "restricted_action", "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
))
# fmt: on


# --------------------------------------------------------------------------- enqueue


def enqueue(
    session: Session,
    *,
    team_id: str,
    key: str,
    kind: str,
    channel: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    user_id: str | None = None,
    essential: bool = False,
    due_at: datetime | None = None,
) -> bool:
    """Queue a message; False when a message with this key was already queued (or sent).

    ``channel`` may be a user ID: Slack then posts into the app's DM with that person, with
    no ``conversations.open`` at send time. Set ``user_id`` for DMs so a member who cannot
    be reached is marked undeliverable. Checks come first, because PostgreSQL would abort
    the caller's transaction on an over-long value.
    """
    if not key or len(key) > KEY_MAX:
        raise ValueError(f"outbox key must be 1 to {KEY_MAX} characters")
    if not channel:
        raise ValueError("outbox channel is required")
    if len(text) > TEXT_MAX:
        raise ValueError(f"outbox text is limited to {TEXT_MAX} characters")
    if due_at is not None and due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    row = OutboxMessage(
        team_id=team_id,
        key=key,
        kind=kind,
        user_id=user_id,
        channel=channel,
        text=text,
        blocks=blocks,
        essential=essential,
        due_at=due_at or utcnow(),
    )
    return insert_or_ignore(session, row)


def backlog(
    session: Session, *, now: datetime | None = None, team_id: str | None = None
) -> dict[str, int]:
    """Outbox depth for ``/metrics`` and ``/copbot schedule``.

    ``pending_due``: waiting to go now; ``pending_later``: scheduled for later;
    ``sending``: claimed by a worker (or awaiting recovery).
    """
    now = now or utcnow()
    status, due_at = col(OutboxMessage.status), col(OutboxMessage.due_at)

    def count(*conditions: Any) -> Any:
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    query = select(
        count(status == OutboxStatus.PENDING, due_at <= now),
        count(status == OutboxStatus.PENDING, due_at > now),
        count(status == OutboxStatus.SENDING),
    ).where(status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
    if team_id is not None:
        query = query.where(OutboxMessage.team_id == team_id)
    due, later, sending = session.exec(query).one()
    return {"pending_due": int(due), "pending_later": int(later), "sending": int(sending)}


# --------------------------------------------------------------------------- counters


@dataclass
class DeliveryReport:
    """What one ``run_once`` did (or, from ``metrics()``, everything since start).

    ``recovered``: rows found already delivered after a crash or an unknown outcome,
    recorded without a resend; ``requeued``: such rows not found in Slack, put back to
    pending to be sent once; ``retried``: failed sends that will be tried again;
    ``outage_waits``: pauses of all sending because Slack kept failing (5xx or no answer).
    """

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    undeliverable: int = 0
    recovered: int = 0
    requeued: int = 0
    rate_limit_waits: int = 0
    outage_waits: int = 0

    @property
    def busy(self) -> bool:
        """Work was found: the worker should look again at once rather than sleep."""
        return bool(self.claimed or self.recovered or self.requeued)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Tally:
    """Thread-safe counters; feeds a run's report and the process-wide totals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = DeliveryReport()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self._values, name, getattr(self._values, name) + amount)

    def snapshot(self) -> DeliveryReport:
        with self._lock:
            return DeliveryReport(**asdict(self._values))


_TOTALS = _Tally()


def metrics() -> dict[str, int]:
    """Process-wide counters since start, over every Deliverer: for ``GET /metrics``."""
    return _TOTALS.snapshot().as_dict()


# --------------------------------------------------------------------------- errors


class DeliveryHalted(RuntimeError):
    """Slack refused the app itself (for example ``invalid_auth``): no message can go out,
    so delivery stops loudly instead of marking every member undeliverable."""


@dataclass(frozen=True)
class Failure:
    """A failed call, classified.

    ``kind``: ``ratelimited`` (wait ``retry_after``, then try again), ``fatal`` (stop the
    worker), ``destination`` or ``message`` (never retried), ``unsent`` (the request never
    reached Slack; plain retry) or ``unknown`` (Slack may have acted; check before retrying).
    """

    kind: str
    code: str
    retry_after: float = 0.0
    status: int | None = None


def classify(error: BaseException) -> Failure:
    """Sort an exception from ``WebClient`` into what the deliverer should do about it."""
    if isinstance(error, SlackApiError):
        response = error.response
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or f"http_{status}")
        if status == 429 or code == "ratelimited":
            return Failure("ratelimited", code, _retry_after(response.headers), status)
        if code in FATAL_ERRORS:
            return Failure("fatal", code, status=status)
        if code in DESTINATION_ERRORS:
            return Failure("destination", code, status=status)
        if code in MESSAGE_ERRORS:
            return Failure("message", code, status=status)
        return Failure("unknown", code, status=status)
    if isinstance(error, URLError):
        # urllib raises URLError only while connecting and sending the request: Slack
        # never processed it. Errors while reading the answer come unwrapped.
        return Failure("unsent", _describe(error.reason))
    if isinstance(error, socket.gaierror | ConnectionRefusedError):
        return Failure("unsent", _describe(error))
    return Failure("unknown", _describe(error))


def is_outage(failure: Failure) -> bool:
    """Slack did not answer, or answered with a server error: Slack is failing, not the
    message (a 4xx or a Slack error code is an answer)."""
    if failure.kind == "unsent":
        return True
    return failure.kind == "unknown" and (failure.status is None or failure.status >= 500)


def _describe(error: object) -> str:
    name = type(error).__name__
    text = str(error)
    return f"{name}: {text}"[:200] if text else name


def _retry_after(headers: Any) -> float:
    """Slack's ``Retry-After`` in seconds (whole seconds; at least 1, at most 15 minutes)."""
    value = None
    if headers:
        for name, raw in dict(headers).items():
            if str(name).lower() == "retry-after":
                value = raw[0] if isinstance(raw, list | tuple) else raw
                break
    try:
        seconds = float(value) if value is not None else 1.0
    except (TypeError, ValueError):
        seconds = 1.0
    return min(max(seconds, 1.0), 900.0)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed: 2, 4, 8, 16... s, at most 5 min."""
    return timedelta(seconds=min(2.0 * 2 ** max(attempts - 1, 0), 300.0))


# --------------------------------------------------------------------------- pacing


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


# --------------------------------------------------------------------------- deliverer


def default_worker_id() -> str:
    """Unique per process: host, pid and a random tag (a restarted worker is a new worker)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def delivery_client(client: WebClient) -> WebClient:
    """A copy of ``client`` without retry handlers: the deliverer handles 429 itself (one
    pause for all senders), and an automatic retry after a timeout, a dropped connection or
    a 5xx could post a message twice."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        retry_handlers=[],
    )


class Deliverer:
    """A delivery worker: claims due outbox rows and sends each exactly once.

    Several Deliverers (threads or processes) may share one PostgreSQL database: claims use
    ``FOR UPDATE SKIP LOCKED``, and every later write is conditional on still holding the
    claim. On SQLite, run one delivering process.
    """

    def __init__(
        self,
        database: Database,
        client: WebClient,
        *,
        worker_id: str,
        batch: int = 25,
        concurrency: int = 8,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
        channel_interval: float = 1.0,
        idle_interval: float = 1.0,
        outage_pause: float = OUTAGE_PAUSE,
        outage_pause_max: float = OUTAGE_PAUSE_MAX,
        retry_delay: Callable[[int], timedelta] = backoff,
    ) -> None:
        if not worker_id or len(worker_id) > 64:
            raise ValueError("worker_id must be 1 to 64 characters")
        if client.timeout > lease.total_seconds() / 2:
            log.warning(
                "outbox: the client's timeout (%s s) should be under half the lease (%s s)",
                client.timeout,
                lease.total_seconds(),
            )
        self.database = database
        self.client = delivery_client(client)
        self.worker_id = worker_id
        self.batch = max(1, batch)
        self.concurrency = max(1, concurrency)
        self.lease = lease
        self.max_attempts = max(1, max_attempts)
        self.idle_interval = idle_interval
        self.retry_delay = retry_delay
        self.breaker = _Breaker(outage_pause, outage_pause_max)
        self.pacer = _Pacer(channel_interval, {"chat.postMessage": self.breaker})
        self.stop_event = threading.Event()
        self._totals = _Tally()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox-send")
        self._halted: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self.stop_event.set()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def totals(self) -> DeliveryReport:
        """This Deliverer's counters since it was made."""
        return self._totals.snapshot()

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set, for ``copbot worker`` and ``copbot serve``.

        Unlike ``run_once`` it does not wait for a whole batch: it tops up the rows in
        flight whenever half the batch is free, so one slow Slack call does not hold up the
        rest. It looks again at once while there is work and every ``idle_interval``
        seconds when there is none. A database or network outage is logged and waited out;
        ``DeliveryHalted`` (Slack refused the app's token) ends it by raising, once the
        sends in flight have finished.
        """
        self.stop_event = stop
        log.info("outbox: worker %s delivering", self.worker_id)
        in_flight: dict[Future[None], int] = {}
        failures, last_recovery = 0, 0.0
        try:
            while not stop.is_set() and not self._halted:
                run = _Tally()
                claimed = 0
                try:
                    if time.monotonic() - last_recovery >= self.idle_interval:
                        last_recovery = time.monotonic()
                        self._recover(utcnow, run)
                    held = sum(in_flight.values())
                    if self.batch - held >= max(1, self.batch // 2):
                        claimed = self._submit(self._claim(utcnow(), self.batch - held), run)
                        in_flight.update(claimed)
                except Exception:
                    failures += 1
                    delay = min(2.0**failures, 30.0)
                    log.exception("outbox: delivery round failed; trying again in %.0f s", delay)
                    stop.wait(delay)
                    continue
                failures = 0
                if in_flight:
                    done, _ = wait(
                        in_flight, timeout=self.idle_interval, return_when=FIRST_COMPLETED
                    )
                    for future in done:
                        del in_flight[future]
                elif not claimed and not run.snapshot().busy:
                    stop.wait(self.idle_interval)
        finally:
            wait(in_flight)
            log.info("outbox: worker %s stopped", self.worker_id)
        if self._halted:
            raise DeliveryHalted(f"Slack refused copbot's token ({self._halted}); delivery stopped")

    # ------------------------------------------------------------------ one round

    def run_once(self, now: datetime | None = None) -> DeliveryReport:
        """Recover stale claims, then claim up to ``batch`` due rows and send them.

        ``now`` is the clock for due times, leases and backoff (tests pass a fake one;
        elapsed real time is added to it as the round goes on).
        """
        start, base = time.monotonic(), now or utcnow()

        def clock() -> datetime:
            return base + timedelta(seconds=time.monotonic() - start)

        run = _Tally()
        if self._halted:
            raise DeliveryHalted(f"Slack refused copbot's token ({self._halted})")
        if self.stop_event.is_set():
            return run.snapshot()
        self._recover(clock, run)
        wait(self._submit(self._claim(clock(), self.batch), run, clock))
        report = run.snapshot()
        if self._halted:
            raise DeliveryHalted(f"Slack refused copbot's token ({self._halted}); delivery stopped")
        return report

    def _submit(
        self,
        rows: list[OutboxMessage],
        run: _Tally,
        clock: Callable[[], datetime] = utcnow,
    ) -> dict[Future[None], int]:
        """Hand claimed rows to the senders, one task per channel; returns task -> rows."""
        self._count(run, "claimed", len(rows))
        self.pacer.forget_idle_channels()
        claimed_at = time.monotonic()
        groups: dict[str, list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            groups[row.channel].append(row)
        return {
            self._pool.submit(self._send_group, group, clock, claimed_at, run): len(group)
            for group in groups.values()
        }

    def _count(self, run: _Tally, name: str, amount: int = 1) -> None:
        run.add(name, amount)
        self._totals.add(name, amount)
        _TOTALS.add(name, amount)

    def _note_outcome(self, failure: Failure | None, during: str, run: _Tally) -> None:
        """Tell the breaker how a Slack call ended (None: it succeeded); log and count the
        pause this starts, once per pause."""
        pause = self.breaker.record(failure is not None and is_outage(failure))
        if pause is not None and failure is not None:
            self._count(run, "outage_waits")
            log.warning(
                "outbox: Slack keeps failing (%s, during %s); all sending paused for %.0f s",
                failure.code,
                during,
                pause,
            )

    # ------------------------------------------------------------------ claiming

    def _lock_ids(self, session: Session, query: Any) -> list[int]:
        """Ids from ``query``, locked on PostgreSQL and skipping rows another worker holds."""
        if self.database.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [int(i) for i in session.exec(query)]

    def _claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Mark up to ``limit`` due rows as ours (status sending, attempts + 1) and commit
        before anything is sent, so a crash leaves them visible to recovery."""
        with self.database.session() as session:
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    col(OutboxMessage.due_at) <= now,
                    # Held while the app is uninstalled from the workspace: not attempted.
                    col(OutboxMessage.team_id).not_in(_UNINSTALLED),
                )
                .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
                .limit(limit)
            )
            ids = self._lock_ids(session, due)
            if not ids:
                return []
            # On SQLite the select above is not locked; the status guard makes the update
            # take only rows still pending, and the read below only what we got.
            session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(ids),
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_by=self.worker_id,
                    claimed_at=now,
                    attempts=col(OutboxMessage.attempts) + 1,
                )
                .execution_options(synchronize_session=False)
            )
            return self._owned(session, ids, now)

    def _owned(self, session: Session, ids: Sequence[int], at: datetime) -> list[OutboxMessage]:
        query = (
            select(OutboxMessage)
            .where(
                col(OutboxMessage.id).in_(ids),
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by == self.worker_id,
                OutboxMessage.claimed_at == at,
            )
            .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        )
        return list(session.exec(query).all())

    def _update_claimed(self, row: OutboxMessage, **values: Any) -> bool:
        """Change a row we hold; False (and a log line) if another worker has taken it over,
        which only happens when our claim outlived its lease."""
        try:
            with self.database.session() as session:
                updated = self._update_claimed_in(session, row, **values)
        except Exception:
            log.exception("outbox: could not record %s; recovery will settle it", row.key)
            return False
        return updated

    def _update_claimed_in(self, session: Session, row: OutboxMessage, **values: Any) -> bool:
        result = session.exec(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row.id,
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by == self.worker_id,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:
            log.warning("outbox: lost the claim on %s to another worker", row.key)
            return False
        return True

    def _release(self, row: OutboxMessage) -> None:
        """Give back a row we claimed but did not send (stopping): not an attempt."""
        self._update_claimed(
            row,
            status=OutboxStatus.PENDING,
            claimed_by=None,
            claimed_at=None,
            attempts=col(OutboxMessage.attempts) - 1,
        )

    # ------------------------------------------------------------------ sending

    def _send_group(
        self,
        rows: list[OutboxMessage],
        clock: Callable[[], datetime],
        claimed_at: float,
        run: _Tally,
    ) -> None:
        """Send one channel's rows in order (chat.postMessage allows ~1/s per channel)."""
        for row in rows:
            try:
                self._send_one(row, clock, claimed_at, run)
            except Exception:
                log.exception(
                    "outbox: unexpected failure sending %s; recovery will settle it", row.key
                )

    def _send_one(
        self, row: OutboxMessage, clock: Callable[[], datetime], claimed_at: float, run: _Tally
    ) -> None:
        renew_every = self.lease.total_seconds() / 4
        while True:
            if time.monotonic() - claimed_at > renew_every:
                # Rate-limit waits hold the row: renew the claim, so recovery (ours or another
                # worker's) never takes a row that is still about to be sent.
                if not self._update_claimed(row, claimed_at=clock()):
                    return
                claimed_at = time.monotonic()
            go = None
            if not self._halted:
                budget = max(0.0, renew_every - (time.monotonic() - claimed_at))
                go = self.pacer.wait("chat.postMessage", self.stop_event, row.channel, budget)
                if go is None:
                    continue
            if not go or INSTALLS.uninstalled(row.team_id):
                self._release(row)  # stopping, or the app was uninstalled: held, not tried
                return
            try:
                response = self.client.chat_postMessage(
                    channel=row.channel,
                    text=row.text,
                    blocks=row.blocks,
                    metadata={"event_type": EVENT_TYPE, "event_payload": {"key": row.key}},
                )
            except Exception as error:  # classified below; nothing escapes a sender
                failure = classify(error)
                self._note_outcome(failure, "sending", run)  # first: it may end a probe
                if failure.kind == "unsent":
                    self.pacer.forget(row.channel)  # Slack never saw it: no turn used
                else:
                    self.pacer.posted(row.channel)
                if failure.kind == "ratelimited":
                    if self.pacer.pause("chat.postMessage", failure.retry_after):
                        self._count(run, "rate_limit_waits")
                        log.info(
                            "outbox: Slack rate limit on chat.postMessage; all senders wait %.0f s",
                            failure.retry_after,
                        )
                    continue
                self._failed(row, failure, clock(), run)
                return
            self._note_outcome(None, "sending", run)
            self.pacer.posted(row.channel)
            self.pacer.succeeded("chat.postMessage")
            self._record_sent(row, str(response["ts"]), str(response["channel"]), clock(), run)
            return

    def _record_sent(
        self, row: OutboxMessage, ts: str, channel: str, now: datetime, run: _Tally
    ) -> None:
        """Record the ts; a few tries ride out a database restart, after which recovery
        finds the message by its key and records it without a second send."""
        for attempt in range(3):
            try:
                with self.database.session() as session:
                    if self._update_claimed_in(
                        session,
                        row,
                        status=OutboxStatus.SENT,
                        sent_ts=ts,
                        sent_channel=channel,
                        sent_at=now,
                        last_error=None,
                    ):
                        self._remember_dm(session, row.team_id, row.user_id, channel, create=False)
                self._count(run, "sent")
                return
            except Exception as error:
                log.warning(
                    "outbox: sent %s but could not record it (%s)", row.key, type(error).__name__
                )
                if attempt < 2:
                    time.sleep(0.5 * (attempt + 1))
        log.error("outbox: %s is sent but unrecorded; recovery will record it", row.key)

    def _failed(self, row: OutboxMessage, failure: Failure, now: datetime, run: _Tally) -> None:
        if failure.kind == "fatal":
            self._halted = failure.code
            log.critical(
                "outbox: Slack refused copbot (%s) while sending %s; stopping delivery",
                failure.code,
                row.key,
            )
            self._release(row)
            return
        if failure.kind in ("destination", "message"):
            self._undeliverable(row, failure, now, run)
            return
        error = f"{failure.code}" + (f" (http {failure.status})" if failure.status else "")
        last = row.attempts >= self.max_attempts
        if last and failure.kind == "unsent":
            self._give_up(row, error, now, run)
            return
        delay = self.retry_delay(row.attempts)
        if failure.kind == "unsent":
            updated = self._update_claimed(
                row,
                status=OutboxStatus.PENDING,
                claimed_by=None,
                claimed_at=None,
                due_at=now + delay,
                last_error=error[:500],
            )
        else:
            # Slack may have posted it: leave the row claimed with a lease that runs out
            # after the backoff, so recovery looks for it before anything is resent. With no
            # answer at all (timeout, dropped connection) Slack may still be working on it,
            # so give it half a lease first, as a dead worker's calls get a whole one.
            if failure.status is None:
                delay = max(delay, self.lease / 2)
            updated = self._update_claimed(
                row,
                claimed_at=now - self.lease + delay,
                last_error=f"unknown outcome: {error}"[:500],
            )
        if updated and not last:
            self._count(run, "retried")
        log.warning(
            "outbox: %s (%s) to %s failed: %s; attempt %d of %d, %s in %.0f s",
            row.key,
            row.kind,
            row.channel,
            error,
            row.attempts,
            self.max_attempts,
            "retry" if failure.kind == "unsent" else "check Slack, then retry",
            delay.total_seconds(),
        )

    def _give_up(self, row: OutboxMessage, error: str, now: datetime, run: _Tally) -> None:
        message = f"gave up after {row.attempts} attempts: {error}"
        if self._update_claimed(
            row, status=OutboxStatus.UNDELIVERABLE, claimed_at=now, last_error=message[:500]
        ):
            self._count(run, "undeliverable")
        log.error(
            "outbox: %s (%s) to %s undeliverable: %s", row.key, row.kind, row.channel, message
        )

    def _undeliverable(
        self, row: OutboxMessage, failure: Failure, now: datetime, run: _Tally
    ) -> None:
        """Never retried. For a DM the member is marked too, so nudges stop queueing for them
        (``bot.nudges`` checks ``undeliverable_since``) and their other pending DMs end."""
        member = row.user_id if failure.kind == "destination" else None
        try:
            with self.database.session() as session:
                if not self._update_claimed_in(
                    session,
                    row,
                    status=OutboxStatus.UNDELIVERABLE,
                    claimed_at=now,
                    last_error=failure.code[:500],
                ):
                    return
                dropped = (
                    self._mark_member(session, row.team_id, member, failure.code, now)
                    if member
                    else 0
                )
        except Exception:
            log.exception("outbox: could not mark %s undeliverable; it will be retried", row.key)
            return
        self._count(run, "undeliverable", 1 + dropped)
        if member:
            log.warning(
                "outbox: %s (%s) undeliverable: %s; member %s marked undeliverable%s",
                row.key,
                row.kind,
                failure.code,
                member,
                f", {dropped} more pending message(s) dropped" if dropped else "",
            )
        else:
            log.warning(
                "outbox: %s (%s) to %s undeliverable: %s",
                row.key,
                row.kind,
                row.channel,
                failure.code,
            )

    def _mark_member(
        self, session: Session, team_id: str, user_id: str, reason: str, now: datetime
    ) -> int:
        """Set the member's undeliverable mark (kept if already set); end their pending DMs."""
        insert_or_ignore(session, NudgePreference(team_id=team_id, user_id=user_id))
        session.exec(
            update(NudgePreference)
            .where(
                NudgePreference.team_id == team_id,
                NudgePreference.user_id == user_id,
                col(NudgePreference.undeliverable_since).is_(None),
            )
            .values(undeliverable_since=now, undeliverable_reason=reason[:100])
            .execution_options(synchronize_session=False)
        )
        result = session.exec(
            update(OutboxMessage)
            .where(
                OutboxMessage.team_id == team_id,
                OutboxMessage.user_id == user_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(
                status=OutboxStatus.UNDELIVERABLE,
                last_error=f"member undeliverable: {reason}"[:500],
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)

    def _remember_dm(
        self, session: Session, team_id: str, user_id: str | None, channel: str, *, create: bool
    ) -> None:
        """Cache the member's DM id (free from chat.postMessage's answer), so recovery does
        not need conversations.open (Tier 3) for them."""
        if not user_id or not channel.startswith("D"):
            return
        if create:
            insert_or_ignore(session, NudgePreference(team_id=team_id, user_id=user_id))
        session.exec(
            update(NudgePreference)
            .where(
                NudgePreference.team_id == team_id,
                NudgePreference.user_id == user_id,
                col(NudgePreference.dm_channel).is_(None),
            )
            .values(dm_channel=channel)
            .execution_options(synchronize_session=False)
        )

    # ------------------------------------------------------------------ recovery

    def _recover(self, clock: Callable[[], datetime], run: _Tally) -> None:
        """Settle rows left in ``sending`` beyond their lease: a dead worker's, or ours after
        an unknown outcome. Found in Slack by key: recorded as sent. Not found: back to
        pending (or undeliverable after ``max_attempts``). At most ``batch`` per round, and
        none while conversations.history is rate limited, so sending never waits on it.
        Each check is a Tier 3 call, so while Slack is failing recovery waits for the
        breaker's pause, and a server error or no answer ends the round."""
        if (
            self.breaker.paused()
            or self.pacer.paused("conversations.history")
            or self.pacer.paused("conversations.open")
        ):
            return
        rows, claimed = self._claim_stale(clock())
        for index, row in enumerate(rows):
            if self.stop_event.is_set() or self._halted:
                self._unclaim_stale(rows[index:], clock())
                return
            try:
                found = self._find_delivered(row, claimed.get(row.id or 0))
            except SlackApiError as error:
                failure = classify(error)
                if failure.kind == "ratelimited":
                    method = str(getattr(error, "_outbox_method", "conversations.history"))
                    if self.pacer.pause(method, failure.retry_after):
                        self._count(run, "rate_limit_waits")
                        log.info(
                            "outbox: Slack rate limit on %s during recovery; waiting %.0f s",
                            method,
                            failure.retry_after,
                        )
                    self._unclaim_stale(rows[index:], clock())
                    return
                if failure.kind == "fatal":
                    self._halted = failure.code
                    log.critical(
                        "outbox: Slack refused copbot (%s) during recovery; stopping delivery",
                        failure.code,
                    )
                    self._unclaim_stale(rows[index:], clock())
                    return
                if failure.kind == "destination":
                    # Nothing can be read or posted there; the message cannot be resent either.
                    self._undeliverable(row, failure, clock(), run)
                    continue
                self._check_later(row, failure.code, clock())
                if is_outage(failure):
                    self._note_outcome(failure, "recovery", run)
                    self._unclaim_stale(rows[index + 1 :], clock())
                    return
                continue
            except OSError as error:  # no answer (timeout, dropped connection)
                self._check_later(row, _describe(error), clock())
                self._note_outcome(classify(error), "recovery", run)
                self._unclaim_stale(rows[index + 1 :], clock())
                return
            except Exception as error:
                self._check_later(row, _describe(error), clock())
                continue
            now = clock()
            if found is not None:
                ts, channel = found
                with self.database.session() as session:
                    if self._update_claimed_in(
                        session,
                        row,
                        status=OutboxStatus.SENT,
                        sent_ts=ts,
                        sent_channel=channel,
                        sent_at=now,
                    ):
                        self._count(run, "recovered")
                        log.info(
                            "outbox: %s was already delivered (ts %s); recorded without resending",
                            row.key,
                            ts,
                        )
            elif row.attempts >= self.max_attempts:
                self._give_up(row, row.last_error or "no answer from Slack", now, run)
            elif self._update_claimed(  # keeps its due time: first in line again
                row, status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None
            ):
                self._count(run, "requeued")
                log.info("outbox: %s was not delivered; queued to send once", row.key)

    def _claim_stale(self, now: datetime) -> tuple[list[OutboxMessage], dict[int, datetime]]:
        """Take over rows whose lease ran out, renewing the lease while we check Slack; also
        returns when each was first claimed, which bounds how far back to look."""
        with self.database.session() as session:
            stale = (
                select(OutboxMessage.id, OutboxMessage.claimed_at)
                .where(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_at) < now - self.lease,
                    col(OutboxMessage.team_id).not_in(_UNINSTALLED),
                )
                .order_by(col(OutboxMessage.claimed_at), col(OutboxMessage.id))
                .limit(self.batch)
            )
            if self.database.dialect == "postgresql":
                stale = stale.with_for_update(skip_locked=True)
            claimed = {int(i): at for i, at in session.exec(stale) if at is not None}
            if not claimed:
                return [], {}
            session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(list(claimed)),
                    OutboxMessage.status == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_at) < now - self.lease,
                )
                .values(claimed_by=self.worker_id, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return self._owned(session, list(claimed), now), claimed

    def _unclaim_stale(self, rows: Iterable[OutboxMessage], now: datetime) -> None:
        """Leave rows for a later round's recovery (their lease already ran out)."""
        for row in rows:
            self._update_claimed(row, claimed_at=now - self.lease - timedelta(seconds=1))

    def _check_later(self, row: OutboxMessage, error: str, now: datetime) -> None:
        log.warning(
            "outbox: could not check whether %s was delivered (%s); will look again", row.key, error
        )
        self._update_claimed(row, claimed_at=now - self.lease + self.retry_delay(1))

    def _find_delivered(
        self, row: OutboxMessage, claimed_at: datetime | None
    ) -> tuple[str, str] | None:
        """The (ts, channel) of the message carrying ``row.key`` among the destination's
        latest messages, or None. Reads the newest ``HISTORY_LIMIT``, and a page or two more
        only while the page does not yet reach back to the claim (less a lease for skew)."""
        channel = self._conversation_of(row)
        cursor: str | None = None
        claimed = claimed_at.timestamp() if claimed_at else 0.0
        for _ in range(HISTORY_PAGES):
            response = self._call(
                "conversations.history",
                self.client.conversations_history,
                channel=channel,
                limit=HISTORY_LIMIT,
                include_all_metadata=True,
                cursor=cursor,
            )
            messages = response.get("messages") or []
            for message in messages:
                if tagged(message, EVENT_TYPE, row.key):
                    return str(message["ts"]), channel
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            oldest = float(messages[-1]["ts"]) if messages else 0.0
            if not cursor or oldest < claimed - self.lease.total_seconds():
                return None
        return None

    def _conversation_of(self, row: OutboxMessage) -> str:
        """The conversation to read: the row's channel, or for a user ID the DM's id, from
        the member's cached ``dm_channel``, an earlier send, or one ``conversations.open``."""
        if row.channel[:1] not in ("U", "W"):
            return row.channel
        with self.database.session() as session:
            cached = session.exec(
                select(NudgePreference.dm_channel).where(
                    NudgePreference.team_id == row.team_id,
                    NudgePreference.user_id == row.channel,
                    col(NudgePreference.dm_channel).is_not(None),
                )
            ).first()
            if cached is None:
                cached = session.exec(
                    select(OutboxMessage.sent_channel)
                    .where(
                        OutboxMessage.team_id == row.team_id,
                        OutboxMessage.channel == row.channel,
                        col(OutboxMessage.sent_channel).like("D%"),
                    )
                    .limit(1)
                ).first()
        if cached:
            return cached
        opened = self._call("conversations.open", self.client.conversations_open, users=row.channel)
        channel = str(opened["channel"]["id"])
        with self.database.session() as session:
            self._remember_dm(session, row.team_id, row.channel, channel, create=True)
        return channel

    @staticmethod
    def _call(method: str, call: Callable[..., Any], **arguments: Any) -> Any:
        """A recovery call; a 429 is tagged with its method so only that method pauses."""
        try:
            return call(**{k: v for k, v in arguments.items() if v is not None})
        except SlackApiError as error:
            error._outbox_method = method  # type: ignore[attr-defined]
            raise


__all__ = [
    "EVENT_TYPE",
    "LEASE",
    "MAX_ATTEMPTS",
    "Deliverer",
    "DeliveryHalted",
    "DeliveryReport",
    "Failure",
    "backlog",
    "backoff",
    "classify",
    "default_worker_id",
    "delivery_client",
    "enqueue",
    "is_outage",
    "metrics",
]
