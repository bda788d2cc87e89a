"""Learning: captured channels and messages, opt-outs, marks, reflections, digests,
case studies, and the language model's calls (for cost and audit).

Times are aware UTC throughout (``storage.db.utcnow``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.db import utcnow


class CaptureChannel(SQLModel, table=True):
    """A channel whose messages copbot keeps for learning digests, turned on by a lead."""

    __tablename__ = "capture_channel"

    team_id: str = Field(primary_key=True, max_length=32)
    channel_id: str = Field(primary_key=True, max_length=32)
    enabled_by: str | None = Field(default=None, max_length=32)
    enabled_at: datetime = Field(default_factory=utcnow)


class CaptureOptOut(SQLModel, table=True):
    """A member who asked that none of their messages be captured."""

    __tablename__ = "capture_opt_out"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    at: datetime = Field(default_factory=utcnow)


class CapturedMessage(SQLModel, table=True):
    """A message (or thread reply) from a captured channel, kept until the retention
    limit; ``learning`` is set when someone marks it with :memo:."""

    __tablename__ = "captured_message"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    user_id: str = Field(max_length=32, index=True)
    text: str = Field(default="", max_length=40000)
    learning: bool = False
    captured_at: datetime = Field(default_factory=utcnow, index=True)


class LearningMark(SQLModel, table=True):
    """A :memo: on a message of a captured channel that copbot has not kept yet (Slack may
    deliver the reaction before the message); applied when the message arrives."""

    __tablename__ = "learning_mark"

    team_id: str = Field(max_length=32, primary_key=True)
    channel_id: str = Field(max_length=32, primary_key=True)
    ts: str = Field(max_length=32, primary_key=True)
    marked_at: datetime = Field(default_factory=utcnow, index=True)


class Reflection(SQLModel, table=True):
    """What a member learned, from ``/copbot learned <text>``."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32, index=True)
    text: str = Field(max_length=3000)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Digest(SQLModel, table=True):
    """A learning digest: drafted privately for a lead, published only on approval.

    The row is written when the preview is asked for (status "preparing"), before any work,
    so a process that dies half-way leaves it for another to finish (``claimed_until``)."""

    __table_args__ = (
        Index("ux_digest_occasion", "team_id", "requested_by", "occasion", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    requested_by: str = Field(max_length=32)
    status: str = Field(default="ready", max_length=16, index=True)  # preparing, ready, failed
    occasion: str | None = Field(default=None, max_length=64)  # "weekly <time>": one per lead
    attempts: int = 0
    claimed_until: datetime | None = None
    period_start: datetime
    period_end: datetime
    engine: str = Field(default="offline", max_length=16)
    notice: str = Field(default="", max_length=500)
    # [{"title": "Key themes", "text": mrkdwn}, ...]: what the lead previews, edits, publishes
    sections: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    preview_channel: str | None = Field(default=None, max_length=32)
    preview_ts: str | None = Field(default=None, max_length=32)
    published_channel: str | None = Field(default=None, max_length=32)
    published_ts: str | None = Field(default=None, max_length=32)
    published_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CaseStudy(SQLModel, table=True):
    """A thread written up as Background, Our approach, Challenges, Impact, Lessons."""

    __tablename__ = "case_study"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    title: str = Field(max_length=150)
    background: str = Field(default="", max_length=3000)
    approach: str = Field(default="", max_length=3000)
    challenges: str = Field(default="", max_length=3000)
    impact: str = Field(default="", max_length=3000)
    lessons: str = Field(default="", max_length=3000)
    source_channel: str | None = Field(default=None, max_length=32)
    source_ts: str | None = Field(default=None, max_length=32)
    source_permalink: str | None = Field(default=None, max_length=500)
    engine: str = Field(default="offline", max_length=16)
    written_by: str | None = Field(default=None, max_length=32, index=True)
    channel_id: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LLMCall(SQLModel, table=True):
    """One call to the language model, for cost and audit: nothing of its content."""

    __tablename__ = "llm_call"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    purpose: str = Field(max_length=32)
    model: str = Field(max_length=100)
    tokens_in: int = 0
    tokens_out: int = 0
    duration_ms: int = 0
    ok: bool = True
    error: str = Field(default="", max_length=200)
    requested_by: str | None = Field(default=None, max_length=32)
    at: datetime = Field(default_factory=utcnow, index=True)
