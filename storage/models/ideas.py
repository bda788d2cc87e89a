"""Ideas: challenges, ideas and their status, supports, subscribers, search terms and
drafts.

Times are aware UTC throughout (``storage.db.utcnow``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.db import utcnow


class IdeaStatus(StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    NOT_TAKEN_FORWARD = "not_taken_forward"
    MERGED = "merged"


class Challenge(SQLModel, table=True):
    """A question leads pose to the community, open between two dates."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    title: str = Field(max_length=150)
    description: str = Field(default="", max_length=3000)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    target_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel_id: str = Field(max_length=32)
    opens_at: datetime
    closes_at: datetime
    created_by: str | None = Field(default=None, max_length=32)
    announced_at: datetime | None = None
    reminder_sent_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Idea(SQLModel, table=True):
    """An improvement idea. ``author_id`` is kept even when anonymous, only to send the
    author their status DMs; it is never shown, exported or broken down."""

    __table_args__ = (Index("ix_idea_team_status_created", "team_id", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    title: str = Field(max_length=150)
    description: str = Field(default="", max_length=3000)
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    challenge_id: int | None = Field(default=None, foreign_key="challenge.id", index=True)
    author_id: str | None = Field(default=None, max_length=32, index=True)
    submitted_by: str | None = Field(default=None, max_length=32, index=True)
    is_anonymous: bool = False
    status: str = Field(default=IdeaStatus.NEW, max_length=32)
    rationale: str | None = Field(default=None, max_length=3000)
    owner_id: str | None = Field(default=None, max_length=32)
    next_review: date | None = None
    merged_into_id: int | None = Field(default=None, foreign_key="idea.id")
    supporter_count: int = 0
    channel_id: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = Field(default=None, max_length=500)
    discussion_ts: str | None = Field(default=None, max_length=32)
    source_permalink: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class Support(SQLModel, table=True):
    """One person's support for one idea."""

    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id")
    user_id: str = Field(max_length=32, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class IdeaSubscriber(SQLModel, table=True):
    """Who hears about an idea's progress: its author, submitter and supporters."""

    __tablename__ = "idea_subscriber"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id")
    user_id: str = Field(max_length=32, index=True)


class IdeaTerm(SQLModel, table=True):
    """Inverted index of an idea's words, for search and similar ideas on any database."""

    __tablename__ = "idea_term"
    # Covering (weight included): search and similar ideas read only the index.
    __table_args__ = (Index("ix_idea_term_lookup", "team_id", "term", "idea_id", "weight"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    term: str = Field(max_length=64)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    weight: int = 1


class IdeaDraft(SQLModel, table=True):
    """A submitted idea waiting on the similar-ideas step ("Post mine anyway")."""

    __tablename__ = "idea_draft"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32, index=True)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
