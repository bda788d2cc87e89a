"""Queueing a message (``enqueue``, idempotent on its key) and reading the queue's depth."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case
from sqlmodel import Session, col, func, select

from storage import (
    OutboxMessage,
    OutboxStatus,
    insert_or_ignore,
    utcnow,
)

log = logging.getLogger(__name__)

EVENT_TYPE = "copbot_outbox"
"""Slack message metadata ``event_type`` on every outbox message; the payload is the key."""

KEY_MAX = 200
TEXT_MAX = 4000


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
