"""Recovery: settling rows left in ``sending`` beyond their lease (a dead worker's, or
an unknown outcome) by looking for the message's key in Slack, so nothing is sent twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlmodel import col, select, update

from bot.platform.messenger import Messenger, Refused, tagged
from bot.platform.outbox.claims import _UNINSTALLED, _Claims
from bot.platform.outbox.enqueue import EVENT_TYPE
from bot.platform.outbox.failures import _describe, classify, is_outage
from bot.platform.outbox.report import _Tally
from storage import (
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
)

log = logging.getLogger(__name__)

HISTORY_LIMIT = 20
HISTORY_PAGES = 3


class _Recovery(_Claims):
    """The Deliverer's recovery rounds."""

    batch: int
    messenger: Messenger
    stop_event: threading.Event
    retry_delay: Callable[[int], timedelta]
    _halted: str | None

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
            except Refused as error:
                failure = classify(error)
                if failure.kind == "ratelimited":
                    method = error.method or "conversations.history"
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
            page = self.messenger.history(channel, limit=HISTORY_LIMIT, cursor=cursor)
            messages = page.messages
            for message in messages:
                if tagged(message, EVENT_TYPE, row.key):
                    return str(message["ts"]), channel
            cursor = page.next_cursor
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
        channel = self.messenger.open_conversation([row.channel])
        with self.database.session() as session:
            self._remember_dm(session, row.team_id, row.channel, channel, create=True)
        return channel
