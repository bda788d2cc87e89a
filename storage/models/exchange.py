"""Exchanges: programmes, members' interest, rounds, matches and their feedback.

Times are aware UTC throughout (``storage.db.utcnow``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.db import utcnow


class ExchangeProgramme(SQLModel, table=True):
    """An exchange scheme a lead runs: its format, group size, matching rules and rounds.

    ``name`` is one lower-case word, unique in the team (``/exchange join <name>``).
    ``weights`` overrides the matcher's default weights by name. A recurring programme
    opens its next round ``every_days`` after a round is approved.
    """

    __tablename__ = "exchange_programme"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    name: str = Field(max_length=40)
    format: str = Field(max_length=40)
    group_size: int = 2
    mentor_capacity: int = 2
    differ_by_organisation: bool = True
    differ_by_staff_group: bool = False
    cooldown_days: int = 365
    signup_deadline: datetime
    every_days: int | None = None  # None: one-off
    weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    round_number: int = 1
    created_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class ExchangeInterest(SQLModel, table=True):
    """One member's expression of interest in a programme (editable until the round is
    matched). Lists hold option labels and free text; ``do_not_pair`` holds user IDs."""

    __tablename__ = "exchange_interest"
    __table_args__ = (UniqueConstraint("programme_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="exchange_programme.id", index=True)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32, index=True)
    staff_group: str = Field(default="", max_length=100)
    organisation: str = Field(default="", max_length=200)
    locality: str = Field(default="", max_length=100)
    professional_interests: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    personal_interests: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    offers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    wants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    career_stage: int = 0
    availability: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mode: str = Field(default="either", max_length=16)
    role: str = Field(default="either", max_length=16)
    do_not_pair: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    paused: bool = False
    priority: bool = False  # carried over from the last round: matched first
    withdrawn_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ExchangeRound(SQLModel, table=True):
    """One matching of a programme. A proposal is replaced by a re-run until the lead
    approves it; ``outcome`` keeps who was carried over or could not be matched, and why."""

    __tablename__ = "exchange_round"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="exchange_programme.id", index=True)
    number: int
    seed: int = 0
    weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    proposed_at: datetime = Field(default_factory=utcnow)
    review_channel: str | None = Field(default=None, max_length=32)
    review_ts: str | None = Field(default=None, max_length=32)
    approved_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=32)


class ExchangeMatch(SQLModel, table=True):
    """A pair, set or mentoring pair in a round, followed from proposal to a completed
    exchange. Members are rows of ``exchange_match_member``."""

    __tablename__ = "exchange_match"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="exchange_round.id", index=True)
    programme_id: int = Field(foreign_key="exchange_programme.id", index=True)
    team_id: str = Field(max_length=32, index=True)
    score: float = 0.0
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="proposed", max_length=16, index=True)
    channel_id: str | None = Field(default=None, max_length=32)
    introduced_at: datetime | None = None
    date_set_at: datetime | None = None
    done_at: datetime | None = None
    cancelled_at: datetime | None = None
    nudged_at: datetime | None = None
    stalled_reported_at: datetime | None = None


class ExchangeMatchMember(SQLModel, table=True):
    """Who is in a match; also the history the cooldown reads (who met whom, when)."""

    __tablename__ = "exchange_match_member"

    match_id: int = Field(foreign_key="exchange_match.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True, index=True)
    position: int = 0


class ExchangeFeedback(SQLModel, table=True):
    """After an exchange: a rating, what I learned (feeds digests), would I recommend it."""

    __tablename__ = "exchange_feedback"
    __table_args__ = (UniqueConstraint("match_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="exchange_match.id", index=True)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32, index=True)
    rating: int
    learned: str = Field(default="", max_length=3000)
    recommend: bool | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
