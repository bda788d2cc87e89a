"""What copbot sends and when it may: the outbox and members' nudge preferences.

Times are aware UTC throughout (``storage.db.utcnow``)."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.db import utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"
    CANCELLED = "cancelled"


class OutboxMessage(SQLModel, table=True):
    """A message copbot will send from scheduled or bulk work: written first, sent once.

    ``key`` is the idempotency key (for example member + nudge kind + period); a second
    enqueue with the same key is ignored, and the key travels in the message's metadata
    so a crash between sending and recording can be recovered without a second send.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_outbox_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=32, index=True)
    channel: str = Field(max_length=32)
    text: str = Field(max_length=4000)
    blocks: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    essential: bool = False
    due_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    sent_ts: str | None = Field(default=None, max_length=32)
    sent_channel: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class NudgePreference(SQLModel, table=True):
    """How and when a member may be nudged; defaults suit staff on day shifts."""

    __tablename__ = "nudge_preference"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    quiet_start: time = time(19, 0)
    quiet_end: time = time(8, 0)
    quiet_weekends: bool = True
    weekly_budget: int = 3
    opted_out: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    snoozed_until: datetime | None = None
    dm_channel: str | None = Field(default=None, max_length=32)
    undeliverable_since: datetime | None = None
    undeliverable_reason: str | None = Field(default=None, max_length=100)
