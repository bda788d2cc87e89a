"""Pulse checks: the pulse, its runs, the sealed answers and ballots, who took part.

Times are aware UTC throughout (``storage.db.utcnow``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.db import random_key, utcnow


class Pulse(SQLModel, table=True):
    """A pulse check a lead designed: who gets it, what it asks, when, and for how long.

    ``questions`` is a list of ``{"kind", "text", "options"}`` (at most 5). ``name`` is
    one lower-case word, unique in the team, so it can be typed in ``/pulse results``.
    """

    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    name: str = Field(max_length=40)
    audience_kind: str = Field(max_length=16)  # channel, staff_group, organisation, everyone
    audience_value: str | None = Field(default=None, max_length=200)
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    schedule: str = Field(default="one_off", max_length=16)  # one_off, weekly
    weekday: int | None = None  # 0 = Monday, for weekly pulses
    local_time: str | None = Field(default=None, max_length=5)  # "HH:MM"
    timezone: str | None = Field(default=None, max_length=64)
    open_days: int = 3
    anonymous: bool = True
    paused: bool = False
    results_channel: str | None = Field(default=None, max_length=32)
    created_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    # The lead's minimum for showing written answers (e.g. 10); None: the anonymity minimum.
    comment_min: int | None = None


class PulseRun(SQLModel, table=True):
    """One sending of a pulse. Questions and anonymity are copied at opening, so editing
    the pulse later never changes what people were told when they answered."""

    __tablename__ = "pulse_run"
    __table_args__ = (UniqueConstraint("pulse_id", "opens_at"),)

    id: int | None = Field(default=None, primary_key=True)
    pulse_id: int = Field(foreign_key="pulse.id", index=True)
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    anonymous: bool = True
    opens_at: datetime
    closes_at: datetime
    status: str = Field(default="open", max_length=16)  # open, closed
    invited: int = 0
    reminder_sent_at: datetime | None = None
    closed_at: datetime | None = None
    results_sent_at: datetime | None = None
    # The anonymity minimum in force when the run opened: it can only rise for this run.
    anonymity_min: int | None = None
    # Written answers are shown only from at least this many people (never below the above).
    comment_min: int | None = None
    respondents: int | None = None  # counted at close (a withheld run keeps only this)


class PulseAnswer(SQLModel, table=True):
    """One answer to one question of a closed run. Answers are written only when the run
    closes (``bot.pulse.closing.close_run``), all at once, in shuffled order, with random
    row keys: nothing here tells who answered, when, or in what order. ``respondent`` is
    random per person and run, made at close (never derived from their token), so one
    person's answers can be grouped for breakdowns. ``staff_group`` and
    ``organisation_type`` hold a group only when at least the run's minimum of respondents
    share it, else "Other (small groups)". ``user_id`` is set only for attributed runs."""

    __tablename__ = "pulse_answer"
    __table_args__ = (UniqueConstraint("run_id", "respondent", "question"),)

    id: str = Field(default_factory=random_key, primary_key=True, max_length=32)
    run_id: int = Field(foreign_key="pulse_run.id", index=True)
    respondent: str = Field(max_length=64)
    question: int
    value: int | None = None  # scale, 0-10, yes (1) / no (0), chosen option's index
    text: str | None = Field(default=None, max_length=3000)
    staff_group: str | None = Field(default=None, max_length=100)
    organisation_type: str | None = Field(default=None, max_length=100)
    user_id: str | None = Field(default=None, max_length=32)


class PulseBallot(SQLModel, table=True):
    """One member's answers while their run is open, sealed (AES-GCM, padded to a fixed
    size) with a key derived from a deployment secret that is not in the database
    (``bot.pulse.ballots``). A backup taken between two answers shows that a ballot
    appeared when someone's participation flipped, never what it holds; at close the
    ballots are opened, shuffled into ``PulseAnswer`` rows and deleted. ``id`` is a hash of
    the member's answer token (which lives only in their own DM), so they can change it."""

    __tablename__ = "pulse_ballot"

    id: str = Field(primary_key=True, max_length=64)
    run_id: int = Field(foreign_key="pulse_run.id", index=True)
    sealed: str = Field(sa_column=Column(Text, nullable=False))


class PulseParticipation(SQLModel, table=True):
    """Who was asked and whether they answered, kept apart from answers: only to send
    one reminder to those who have not. Never shown, never joined to answers."""

    __tablename__ = "pulse_participation"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="pulse_run.id", index=True)
    user_id: str = Field(max_length=32)
    answered: bool = False
    reminded: bool = False
