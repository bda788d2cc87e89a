"""Pulse design and audience: what a lead designs (checked whole before anything is
written), who a pulse goes to, and who asked not to receive it.

Plain functions taking a Session (one transaction, the caller's). A channel audience's
members are read from Slack before the transaction (``read_audience``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, func, select

from bot import audit, members
from bot.config import Settings
from bot.errors import UserError
from bot.nudges import send as nudges
from bot.pulse.questions import clean_questions
from bot.roles import Actor, Role
from bot.slack import SlackPort
from bot.workspaces import community_settings
from storage import (
    Database,
    Member,
    NudgePreference,
    Organisation,
    Pulse,
    PulseParticipation,
    PulseRun,
    insert_or_ignore,
)

AUDIENCE_KINDS = ("channel", "staff_group", "organisation", "everyone")
SCHEDULES = ("one_off", "weekly")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
OPEN_DAYS = (1, 14)
COMMENT_MIN = (3, 1000)
_CHUNK = 500


def _clean_name(name: str) -> str:
    cleaned = name.strip().lower()
    if not NAME.match(cleaned):
        raise UserError(
            "Give the pulse a one-word name (letters, numbers, - or _), so it can be typed "
            "in /pulse results <name>.",
            field="name",
        )
    return cleaned


def _check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"“{zone}” is not a time zone I know. Try one like Europe/London.", field="schedule"
        ) from None
    return zone


def create_pulse(
    session: Session,
    actor: Actor,
    settings: Settings,
    *,
    name: str,
    audience_kind: str,
    audience_value: str | None = None,
    questions: Sequence[Mapping[str, Any]],
    schedule: str = "one_off",
    weekday: int | None = None,
    local_time: str | None = None,
    timezone: str | None = None,
    open_days: int = 3,
    anonymous: bool = True,
    results_channel: str | None = None,
    comment_min: int | None = None,
) -> Pulse:
    """Check everything before writing anything; a refusal names the field to fix."""
    actor.require(Role.LEAD, "design a pulse")
    cleaned_name = _clean_name(name)
    if audience_kind not in AUDIENCE_KINDS:
        raise UserError("Choose who receives the pulse.", field="audience")
    value = (audience_value or "").strip() or None
    if audience_kind == "everyone":
        value = None
    elif value is None:
        raise UserError("Choose the channel, staff group or organisation.", field="audience")
    if audience_kind == "organisation" and _organisation(session, actor.team_id, value) is None:
        raise UserError("That organisation is not in the community's list.", field="audience")
    cleaned_questions = clean_questions(questions)
    if schedule not in SCHEDULES:
        raise UserError("Choose one-off or weekly.", field="schedule")
    zone = _check_zone(timezone or community_settings(session, actor.team_id, settings).timezone)
    if schedule == "weekly":
        if weekday is None or not 0 <= weekday <= 6:
            raise UserError("Choose the day of the week to send it.", field="schedule")
        if not local_time or not CLOCK.match(local_time):
            raise UserError("Give the time to send it as HH:MM, e.g. 09:30.", field="schedule")
    elif local_time and not CLOCK.match(local_time):
        raise UserError("Give the time to send it as HH:MM, e.g. 09:30.", field="schedule")
    if isinstance(open_days, bool) or not OPEN_DAYS[0] <= open_days <= OPEN_DAYS[1]:
        raise UserError(
            f"Keep it open for {OPEN_DAYS[0]} to {OPEN_DAYS[1]} days.", field="open_days"
        )
    if comment_min is not None and (
        isinstance(comment_min, bool) or not COMMENT_MIN[0] <= comment_min <= COMMENT_MIN[1]
    ):
        raise UserError(
            f"Give a comment minimum of {COMMENT_MIN[0]} to {COMMENT_MIN[1]} people, or leave "
            "it empty to use the anonymity minimum.",
            field="comment_min",
        )
    taken = session.exec(
        select(Pulse.id).where(Pulse.team_id == actor.team_id, Pulse.name == cleaned_name)
    ).first()
    if taken is not None:
        raise UserError(f"There is already a pulse called {cleaned_name}.", field="name")
    pulse = Pulse(
        team_id=actor.team_id,
        name=cleaned_name,
        audience_kind=audience_kind,
        audience_value=value,
        questions=cleaned_questions,
        schedule=schedule,
        weekday=weekday if schedule == "weekly" else None,
        local_time=local_time,
        timezone=zone,
        open_days=open_days,
        anonymous=anonymous,
        results_channel=results_channel,
        created_by=actor.user_id,
        comment_min=comment_min,
    )
    if not insert_or_ignore(session, pulse):  # a concurrent designer took the name
        raise UserError(f"There is already a pulse called {cleaned_name}.", field="name")
    created = by_name(session, actor.team_id, cleaned_name)
    after = {"schedule": schedule, "anonymous": anonymous}
    audit_pulse(session, actor, "pulse.create", created, after)
    return created


def audit_pulse(
    session: Session, actor: Actor, action: str, pulse: Pulse, after: dict[str, Any] | None = None
) -> None:
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action=action,
        target=f"pulse:{pulse.id} {pulse.name}",
        after=after,
    )


def by_name(session: Session, team_id: str, name: str) -> Pulse:
    pulse = session.exec(
        select(Pulse).where(Pulse.team_id == team_id, Pulse.name == name.strip().lower())
    ).first()
    if pulse is None:
        raise UserError(f"I can't find a pulse called {name.strip()}.", field="name")
    return pulse


def set_paused(session: Session, actor: Actor, name: str, paused: bool = True) -> Pulse:
    actor.require(Role.LEAD, "pause a pulse")
    pulse = by_name(session, actor.team_id, name)
    pulse.paused = paused
    session.add(pulse)
    audit_pulse(session, actor, "pulse.pause" if paused else "pulse.resume", pulse)
    return pulse


def _organisation(session: Session, team_id: str, name: str) -> Organisation | None:
    query = select(Organisation).where(
        Organisation.team_id == team_id, func.lower(Organisation.name) == name.lower()
    )
    return session.exec(query).first()


def audience(
    session: Session, pulse: Pulse, channel_members: Iterable[str] | None = None
) -> list[str]:
    """The Slack user IDs the pulse goes to: the workspace's people as Slack lists them
    (Member rows from the directory), never bots, Slackbot or deactivated accounts.

    For a channel audience the caller passes the channel's members (``read_audience``,
    before the transaction, reads them and the directory from Slack).
    """
    base = select(Member.slack_user_id).where(
        Member.team_id == pulse.team_id, col(Member.deactivated).is_(False)
    )
    found: list[str] = []
    if pulse.audience_kind == "everyone":
        found = list(session.exec(base))
    elif pulse.audience_kind == "staff_group":
        found = list(session.exec(base.where(Member.staff_group == pulse.audience_value)))
    elif pulse.audience_kind == "organisation":
        organisation = _organisation(session, pulse.team_id, pulse.audience_value or "")
        if organisation is not None:
            found = list(session.exec(base.where(Member.organisation_id == organisation.id)))
    else:
        wanted = sorted(set(channel_members or ()))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found.extend(session.exec(base.where(col(Member.slack_user_id).in_(chunk))))
    stopped = opted_out_of(session, pulse)
    return sorted(user for user in found if user not in stopped)


def read_audience(
    database: Database, slack: SlackPort, pulse: Pulse, settings: Settings
) -> list[str] | None:
    """What opening a run needs from Slack, asked before its transaction: a channel
    audience's members, and the directory read if it never was (day one) or lacks some of
    them. Returns the channel's members (None for other audiences)."""
    people = (
        slack.channel_members(pulse.audience_value or "")
        if pulse.audience_kind == "channel"
        else None
    )
    members.read_directory_if_needed(database, pulse.team_id, slack, settings, people or ())
    return people


def opt_out_key(pulse: Pulse) -> str:
    """How a member's opt-out of one pulse is kept in their nudge preferences."""
    return f"pulse:{pulse.id}"


def opted_out_of(session: Session, pulse: Pulse) -> set[str]:
    """Members who asked not to receive this pulse (a few rows: filtered in Python, since
    JSON containment differs between SQLite and PostgreSQL)."""
    key = opt_out_key(pulse)
    query = select(NudgePreference.user_id, NudgePreference.opted_out).where(
        NudgePreference.team_id == pulse.team_id
    )
    return {user for user, kinds in session.exec(query) if key in (kinds or [])}


def set_opt_out(session: Session, team_id: str, user_id: str, pulse_id: int, out: bool) -> Pulse:
    """A member stops (or resumes) receiving one pulse, from App Home."""
    pulse = session.get(Pulse, pulse_id)
    if pulse is None or pulse.team_id != team_id:
        raise UserError("That pulse no longer exists.")
    preference = nudges.preferences(session, team_id, user_id)
    kinds = set(preference.opted_out) - {opt_out_key(pulse)}
    preference.opted_out = sorted(kinds | ({opt_out_key(pulse)} if out else set()))
    session.add(preference)
    return pulse


def open_for(session: Session, user_id: str) -> list[tuple[str, bool]]:
    """A member's open pulses by name, with whether they answered (their own
    participation, shown only to them)."""
    query = (
        select(Pulse.name, PulseParticipation.answered)
        .join(PulseRun, col(PulseRun.id) == PulseParticipation.run_id)
        .join(Pulse, col(Pulse.id) == PulseRun.pulse_id)
        .where(PulseParticipation.user_id == user_id, PulseRun.status == "open")
    )
    return [(name, bool(answered)) for name, answered in session.exec(query)]


def pulses_for(session: Session, team_id: str, user_id: str) -> list[tuple[Pulse, bool]]:
    """The pulses this member is in the audience of (channel pulses once they have had
    one), with whether they opted out: for their App Home."""
    member = session.exec(
        select(Member).where(Member.team_id == team_id, Member.slack_user_id == user_id)
    ).first()
    had = set(
        session.exec(
            select(PulseRun.pulse_id)
            .join(PulseParticipation, col(PulseParticipation.run_id) == PulseRun.id)
            .where(PulseParticipation.user_id == user_id)
        )
    )
    preference = nudges.preferences(session, team_id, user_id)
    result = []
    for pulse in session.exec(select(Pulse).where(Pulse.team_id == team_id)):
        organisation = (
            _organisation(session, team_id, pulse.audience_value or "")
            if pulse.audience_kind == "organisation"
            else None
        )
        included = (
            pulse.audience_kind == "everyone"
            or pulse.id in had
            or (
                member is not None
                and pulse.audience_kind == "staff_group"
                and member.staff_group == pulse.audience_value
            )
            or (
                member is not None
                and organisation is not None
                and member.organisation_id == organisation.id
            )
        )
        if included:
            result.append((pulse, opt_out_key(pulse) in preference.opted_out))
    return result


def job_visible_to(session: Session, team_id: str, job_id: str) -> bool:
    """Whether a scheduled job may be listed to this workspace's leads: copbot's own
    rhythm, or a pulse of theirs (never another workspace's pulse names)."""
    own = re.fullmatch(r"pulse:(\d+):open", job_id)
    if own is None:
        return True
    pulse = session.get(Pulse, int(own.group(1)))
    return pulse is not None and pulse.team_id == team_id
