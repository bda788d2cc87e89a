"""Nudge use cases: a member's own settings, snooze and resume, and the schedule leads
see. Each owns its unit of work; listeners make one call here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol

from bot.config import Settings
from bot.nudges import send as nudges
from bot.platform import outbox
from bot.pulse import design as pulses
from bot.roles import Actor
from bot.workspaces import community_settings
from storage import Database, NudgePreference


@dataclass(frozen=True)
class NudgeSettings:
    """What a member chose in the nudge settings form."""

    quiet_start: time
    quiet_end: time
    quiet_weekends: bool
    weekly_budget: int
    opted_out: list[str]


def preferences(db: Database, who: Actor) -> NudgePreference:
    """The member's choices (saved with the defaults the first time)."""
    with db.session() as session:
        return nudges.preferences(session, who.team_id, who.user_id)


def save_settings(db: Database, who: Actor, chosen: NudgeSettings) -> None:
    with db.session() as session:
        nudges.update_preferences(
            session,
            who.team_id,
            who.user_id,
            quiet_start=chosen.quiet_start,
            quiet_end=chosen.quiet_end,
            quiet_weekends=chosen.quiet_weekends,
            weekly_budget=chosen.weekly_budget,
            opted_out=chosen.opted_out,
        )


def snooze(db: Database, who: Actor) -> None:
    with db.session() as session:
        nudges.snooze(session, who.team_id, who.user_id)


def resume(db: Database, who: Actor) -> None:
    with db.session() as session:
        nudges.resume(session, who.team_id, who.user_id)


class Job(Protocol):
    """A scheduled job as the scheduler lists it."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def next_run_time(self) -> datetime | None: ...


@dataclass(frozen=True)
class Schedule:
    """``/copbot schedule``: what runs next, and what waits in the outbox."""

    upcoming: list[tuple[str, datetime | None]]
    backlog: dict[str, int]
    delivered: dict[str, int]
    timezone: str


def schedule(db: Database, settings: Settings, who: Actor, upcoming: Iterable[Job]) -> Schedule:
    """The next ten jobs this workspace's leads may see (never another workspace's
    pulses), its outbox backlog and this process's delivery counts."""
    with db.session() as session:
        visible = [job for job in upcoming if pulses.job_visible_to(session, who.team_id, job.id)]
        waiting = outbox.backlog(session, team_id=who.team_id)
        zone = community_settings(session, who.team_id, settings).timezone
    return Schedule(
        [(job.name, job.next_run_time) for job in visible[:10]], waiting, outbox.metrics(), zone
    )
