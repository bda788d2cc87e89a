"""Sending a nudge: the member's rules decide whether and when, the outbox sends it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, func, select, update

from bot import outbox
from bot.config import Settings
from bot.errors import UserError
from bot.members import find
from bot.nudges.rules import KINDS, Quiet, next_allowed, week_start
from bot.workspaces import community_settings
from storage import NudgePreference, OutboxMessage, OutboxStatus, insert_or_ignore, utcnow

SNOOZE = timedelta(days=7)
MAX_BUDGET = 20


@dataclass(frozen=True)
class Outcome:
    """What happened to one nudge: queued for ``due_at``, or skipped and why."""

    queued: bool
    due_at: datetime | None = None
    skipped: str | None = None  # opted_out, snoozed, undeliverable, over_budget, duplicate


def preferences(session: Session, team_id: str, user_id: str) -> NudgePreference:
    insert_or_ignore(session, NudgePreference(team_id=team_id, user_id=user_id))
    query = select(NudgePreference).where(
        NudgePreference.team_id == team_id, NudgePreference.user_id == user_id
    )
    return session.exec(query).one()


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
) -> Outcome:
    """Queue a DM nudge if the member's choices allow it, at the next time they allow.

    Essential kinds (a pulse they are asked to answer, a lead's own work) skip the weekly
    budget and the snooze, but never quiet hours unless the caller says so (a lead's
    "send now").
    """
    nudge_kind = KINDS[kind]
    now = now or utcnow()
    preference = preferences(session, team_id, user_id)
    if preference.undeliverable_since is not None:
        return Outcome(False, skipped="undeliverable")
    if kind in preference.opted_out:
        return Outcome(False, skipped="opted_out")
    snoozed = preference.snoozed_until is not None and now < preference.snoozed_until
    if snoozed and not nudge_kind.essential:
        return Outcome(False, skipped="snoozed")
    zone = timezone_of(session, team_id, user_id, settings)
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
