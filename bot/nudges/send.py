"""Sending a nudge: the member's rules decide whether and when, the outbox sends it once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, func, select, update

from bot.config import Settings
from bot.errors import UserError
from bot.members import find
from bot.nudges.rules import KINDS, Quiet, next_allowed, week_start
from bot.platform import outbox
from bot.workspaces import community_settings
from storage import (
    Member,
    NudgePreference,
    OutboxMessage,
    OutboxStatus,
    insert_copies_or_ignore,
    insert_or_ignore,
    utcnow,
)

SNOOZE = timedelta(days=7)
MAX_BUDGET = 20
LOOKUP_CHUNK = 500  # ids per IN (...) when looking up many members at once


@dataclass(frozen=True)
class Outcome:
    """What happened to one nudge: queued for ``due_at``, or skipped and why."""

    queued: bool
    due_at: datetime | None = None
    skipped: str | None = None  # opted_out, snoozed, undeliverable, over_budget, duplicate


def preferences(session: Session, team_id: str, user_id: str) -> NudgePreference:
    """The member's choices, saved with the defaults the first time they are needed."""
    query = select(NudgePreference).where(
        NudgePreference.team_id == team_id, NudgePreference.user_id == user_id
    )
    found = session.exec(query).first()
    if found is not None:
        return found
    insert_or_ignore(session, NudgePreference(team_id=team_id, user_id=user_id))
    return session.exec(query).one()


@dataclass(frozen=True)
class Reach:
    """What deciding whether and when to nudge a member needs: their choices and zone."""

    preference: NudgePreference
    zone: str

    def quiet_now(self, now: datetime) -> bool:
        return next_allowed(now, quiet_of(self.preference), self.zone) > now


def reach_of(
    session: Session, settings: Settings, team_id: str, user_ids: Iterable[str]
) -> dict[str, Reach]:
    """Many members' choices and time zones in a few queries, for a fan-out (looking them
    up one member at a time made opening a pulse to 10,000 people take a minute)."""
    wanted = sorted(set(user_ids))
    saved = _saved_preferences(session, team_id, wanted)
    missing = [user_id for user_id in wanted if user_id not in saved]
    defaults = NudgePreference(team_id=team_id, user_id="")
    for chunk in _chunks(missing):
        insert_copies_or_ignore(session, defaults, [{"user_id": user_id} for user_id in chunk])
    saved |= _saved_preferences(session, team_id, missing)
    zones: dict[str, str | None] = {}
    for chunk in _chunks(wanted):
        query = select(Member.slack_user_id, Member.tz).where(
            Member.team_id == team_id, col(Member.slack_user_id).in_(chunk)
        )
        zones |= dict(session.exec(query).all())
    community_zone = community_settings(session, team_id, settings).timezone
    return {
        user_id: Reach(saved[user_id], zones.get(user_id) or community_zone) for user_id in wanted
    }


def _saved_preferences(
    session: Session, team_id: str, user_ids: list[str]
) -> dict[str, NudgePreference]:
    found: dict[str, NudgePreference] = {}
    for chunk in _chunks(user_ids):
        query = select(NudgePreference).where(
            NudgePreference.team_id == team_id, col(NudgePreference.user_id).in_(chunk)
        )
        found |= {preference.user_id: preference for preference in session.exec(query)}
    return found


def _chunks(user_ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(user_ids), LOOKUP_CHUNK):
        yield user_ids[start : start + LOOKUP_CHUNK]


def quiet_of(preference: NudgePreference) -> Quiet:
    return Quiet(preference.quiet_start, preference.quiet_end, preference.quiet_weekends)


def timezone_of(session: Session, team_id: str, user_id: str, settings: Settings) -> str:
    """The member's own Slack time zone, else the community's."""
    member = find(session, team_id, user_id)
    return (member and member.tz) or community_settings(session, team_id, settings).timezone


def used_this_week(session: Session, preference: NudgePreference, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.user_id == preference.user_id,
            OutboxMessage.team_id == preference.team_id,
            col(OutboxMessage.essential).is_(False),
            col(OutboxMessage.status).in_(
                (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT)
            ),
            OutboxMessage.due_at >= since,
        )
    )
    return int(session.exec(query).one())


def send(
    session: Session,
    settings: Settings,
    *,
    team_id: str,
    user_id: str,
    kind: str,
    key: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
    respect_quiet: bool = True,
    reach: Reach | None = None,
) -> Outcome:
    """Queue a DM nudge if the member's choices allow it, at the next time they allow.

    Essential kinds (a pulse they are asked to answer, a lead's own work) skip the weekly
    budget and the snooze, but never quiet hours unless the caller says so (a lead's
    "send now"). A fan-out passes each member's ``reach`` from ``reach_of``.
    """
    nudge_kind = KINDS[kind]
    now = now or utcnow()
    reach = reach or Reach(
        preferences(session, team_id, user_id), timezone_of(session, team_id, user_id, settings)
    )
    preference, zone = reach.preference, reach.zone
    if preference.undeliverable_since is not None:
        return Outcome(False, skipped="undeliverable")
    if kind in preference.opted_out:
        return Outcome(False, skipped="opted_out")
    snoozed = preference.snoozed_until is not None and now < preference.snoozed_until
    if snoozed and not nudge_kind.essential:
        return Outcome(False, skipped="snoozed")
    if (
        not nudge_kind.essential
        and used_this_week(session, preference, week_start(now, zone)) >= preference.weekly_budget
    ):
        return Outcome(False, skipped="over_budget")
    due = next_allowed(now, quiet_of(preference), zone) if respect_quiet else now
    queued = outbox.enqueue(
        session,
        team_id=team_id,
        key=key,
        kind=kind,
        channel=user_id,
        text=text,
        blocks=blocks,
        user_id=user_id,
        essential=nudge_kind.essential,
        due_at=due,
    )
    return Outcome(queued, due, None if queued else "duplicate")


def _cancel_pending(
    session: Session, preference: NudgePreference, kinds: list[str] | None = None
) -> None:
    query = update(OutboxMessage).where(
        col(OutboxMessage.user_id) == preference.user_id,
        col(OutboxMessage.team_id) == preference.team_id,
        col(OutboxMessage.status) == OutboxStatus.PENDING,
    )
    if kinds is not None:
        query = query.where(col(OutboxMessage.kind).in_(kinds))
    else:
        query = query.where(col(OutboxMessage.essential).is_(False))
    session.exec(query.values(status=OutboxStatus.CANCELLED))  # type: ignore[call-overload]


def update_preferences(
    session: Session,
    team_id: str,
    user_id: str,
    *,
    quiet_start: time,
    quiet_end: time,
    quiet_weekends: bool,
    weekly_budget: int,
    opted_out: list[str],
) -> NudgePreference:
    if not 0 <= weekly_budget <= MAX_BUDGET:
        raise UserError(f"Choose a weekly limit from 0 to {MAX_BUDGET}.", field="weekly_budget")
    unknown = [kind for kind in opted_out if kind not in KINDS]
    if unknown:
        raise UserError("Choose from the kinds of nudge listed.", field="opted_out")
    preference = preferences(session, team_id, user_id)
    preference.quiet_start, preference.quiet_end = quiet_start, quiet_end
    preference.quiet_weekends = quiet_weekends
    preference.weekly_budget = weekly_budget
    # Opt-outs of single pulses ("pulse:<id>") are kept; they are set elsewhere in App Home.
    kept = {kind for kind in preference.opted_out if kind not in KINDS}
    preference.opted_out = sorted(set(opted_out) | kept)
    session.add(preference)
    if opted_out:
        _cancel_pending(session, preference, sorted(set(opted_out)))
    return preference


def snooze(session: Session, team_id: str, user_id: str, now: datetime | None = None) -> datetime:
    """A week without non-essential nudges; anything already queued of that sort is dropped."""
    preference = preferences(session, team_id, user_id)
    preference.snoozed_until = (now or utcnow()) + SNOOZE
    session.add(preference)
    _cancel_pending(session, preference)
    return preference.snoozed_until


def resume(session: Session, team_id: str, user_id: str) -> None:
    preference = preferences(session, team_id, user_id)
    preference.snoozed_until = None
    session.add(preference)
