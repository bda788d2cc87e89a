"""The delivery worker: claims due rows and sends each exactly once, at Slack's pace."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

from bot.platform.messenger import Messenger
from bot.platform.outbox.claims import LEASE, MAX_ATTEMPTS
from bot.platform.outbox.enqueue import EVENT_TYPE
from bot.platform.outbox.failures import DeliveryHalted, Failure, backoff, classify
from bot.platform.outbox.pace import OUTAGE_PAUSE, OUTAGE_PAUSE_MAX, _Breaker, _Pacer
from bot.platform.outbox.recover import _Recovery
from bot.platform.outbox.report import DeliveryReport, _Tally
from bot.workspaces import INSTALLS
from storage import (
    Database,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """Unique per process: host, pid and a random tag (a restarted worker is a new worker)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Deliverer(_Recovery):
    """A delivery worker: claims due outbox rows and sends each exactly once.

    Several Deliverers (threads or processes) may share one PostgreSQL database: claims use
    ``FOR UPDATE SKIP LOCKED``, and every later write is conditional on still holding the
    claim. On SQLite, run one delivering process.

    Everything goes out through ``messenger``, which must not retry on its own (a retry
    after a timeout could post twice). Given slack_sdk's ``WebClient`` instead, as callers
    do today, it uses ``bot.slack.delivery_port``: a copy of it without retry handlers.
    """

    def __init__(
        self,
        database: Database,
        messenger: Messenger | Any,
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
        if not isinstance(messenger, Messenger):
            from bot.slack import delivery_port  # Slack's Messenger (not a feature)

            messenger = delivery_port(messenger)
        timeout = getattr(messenger, "timeout", None)
        if timeout is not None and timeout > lease.total_seconds() / 2:
            log.warning(
                "outbox: the client's timeout (%s s) should be under half the lease (%s s)",
                timeout,
                lease.total_seconds(),
            )
        self.database = database
        self.messenger: Messenger = messenger
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
    def client(self) -> Any:
        """The Slack client behind the messenger, if it has one (for checks and tests)."""
        return getattr(self.messenger, "client", None)

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
                posted = self.messenger.post(
                    row.channel,
                    row.text,
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
            self._record_sent(row, posted.ts, posted.channel, clock(), run)
            return

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
