"""Claiming rows and recording what became of them: every write after the claim is
conditional on still holding it, so two workers never settle one row twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select, update

from bot.platform.outbox.failures import Failure, is_outage
from bot.platform.outbox.pace import _Breaker, _Pacer
from bot.platform.outbox.report import _TOTALS, _Tally
from storage import (
    Database,
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
    Workspace,
    insert_or_ignore,
)

log = logging.getLogger(__name__)

# Workspaces the app is uninstalled from: their rows are held (neither claimed nor checked).
_UNINSTALLED = select(Workspace.team_id).where(col(Workspace.uninstalled_at).is_not(None))

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5


class _Claims:
    """The Deliverer's rows in the database: claim, update while held, release, settle."""

    database: Database
    worker_id: str
    lease: timedelta
    max_attempts: int
    breaker: _Breaker
    pacer: _Pacer
    _totals: _Tally

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
