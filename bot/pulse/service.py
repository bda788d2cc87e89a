"""Pulse rules: design, audience, opening a run, answers, one reminder, closing.

Plain functions taking a Session (one transaction, the caller's). Anonymity is a property
of the data. ``PulseParticipation`` knows who answered, only to remind the others once.
While a run is open, what each member answered is a sealed ballot (``bot.pulse.ballots``),
found again only through their answer token (random, made at their first answer and
carried only in their own DM); so a backup taken between two answers shows who answered,
never what. At close the ballots are opened and written as answer rows all at once, in
shuffled order with random keys and groups too small to show folded into "Other"; a run
that closes below its minimum keeps only its count, since its answers can never be shown.
The minimum in force when a run opens is stored on it and can only rise for it.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert
from sqlmodel import Session, col, delete, func, select, update

from bot import audit, members
from bot.config import Settings
from bot.errors import UserError
from bot.ideas.insights import OTHER_GROUPS
from bot.members import find
from bot.nudges import send as nudges
from bot.platform.rendering import render
from bot.pulse.ballots import Ballot, Sealer, Unreadable, ballot_id
from bot.pulse.messages import PulseDM
from bot.pulse.questions import FREE_TEXT, Answer, check_answer, clean_questions
from bot.roles import Actor, Role
from bot.slack import SlackPort
from bot.workspaces import community_settings
from storage import (
    Database,
    Member,
    NudgePreference,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Pulse,
    PulseAnswer,
    PulseBallot,
    PulseParticipation,
    PulseRun,
    insert_or_ignore,
    utcnow,
)

AUDIENCE_KINDS = ("channel", "staff_group", "organisation", "everyone")
SCHEDULES = ("one_off", "weekly")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
OPEN_DAYS = (1, 14)
COMMENT_MIN = (3, 1000)
OPEN, CLOSED = "open", "closed"
DELIVERY, REMINDER = "pulse.delivery", "pulse.reminder"
_CHUNK = 500
_SHUFFLE = random.SystemRandom()

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ tokens


def new_token() -> str:
    """256 random bits: unguessable, so its hash can't be matched by trying tokens."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """How answers stored before sealed ballots were grouped (``PulseAnswer.respondent``)."""
    return hashlib.sha256(token.encode()).hexdigest()


def minimum_for(session: Session, settings: Settings, run: PulseRun, team_id: str) -> int:
    """The run's anonymity minimum: the one in force when it opened, or the community's
    setting if that has risen since. Lowering the setting never reveals an earlier run."""
    current = community_settings(session, team_id, settings).anonymity_min
    return max(run.anonymity_min or 0, current)


def comment_minimum_for(session: Session, settings: Settings, run: PulseRun, team_id: str) -> int:
    """Written answers are shown only from at least this many people: the run's minimum,
    or the lead's higher comment minimum for the pulse."""
    return max(run.comment_min or 0, minimum_for(session, settings, run, team_id))


# ------------------------------------------------------------------------------ design


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
    _audit(session, actor, "pulse.create", created, {"schedule": schedule, "anonymous": anonymous})
    return created


def _audit(
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
    _audit(session, actor, "pulse.pause" if paused else "pulse.resume", pulse)
    return pulse


# ---------------------------------------------------------------------------- audience


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


# ---------------------------------------------------------------------------- opening


@dataclass(frozen=True)
class OpenedRun:
    run: PulseRun
    invited: int
    queued: int
    outside_working_hours: int  # send-now: how many get it in their quiet hours


def _local_due(on_date: date, at: str, zone: str, now: datetime) -> datetime:
    """``at`` on ``on_date`` in the member's own zone, or now if that has passed."""
    hour, minute = (int(part) for part in at.split(":"))
    due = datetime.combine(on_date, time(hour, minute), ZoneInfo(zone))
    return max(due, now)


def open_run(
    session: Session,
    settings: Settings,
    pulse: Pulse,
    *,
    now: datetime | None = None,
    on_date: date | None = None,
    channel_members: Iterable[str] | None = None,
    send_now: bool = False,
) -> OpenedRun:
    """Open a run and queue one DM per audience member through the nudge layer.

    Scheduled runs reach each member at the pulse's local time in the member's own time
    zone on ``on_date`` (default: today in the pulse's zone), then wait out quiet hours;
    ``send_now`` delivers at once. Opening twice at the same moment (a scheduler retry)
    returns the first run and queues nothing new (outbox keys are per run and member).
    """
    now = now or utcnow()
    if pulse.paused and not send_now:
        raise UserError(f"The {pulse.name} pulse is paused.", field="name")
    recipients = audience(session, pulse, channel_members)
    reach = nudges.reach_of(session, settings, pulse.team_id, recipients)
    zone = pulse.timezone or community_settings(session, pulse.team_id, settings).timezone
    dues: dict[str, datetime] = {}
    for user_id in recipients:
        if send_now or not pulse.local_time:
            dues[user_id] = now
        else:
            day = on_date or now.astimezone(ZoneInfo(zone)).date()
            dues[user_id] = _local_due(day, pulse.local_time, reach[user_id].zone, now)
    latest = max(dues.values(), default=now)
    insert_or_ignore(
        session,
        PulseRun(
            pulse_id=pulse.id,  # type: ignore[arg-type]
            questions=pulse.questions,
            anonymous=pulse.anonymous,
            opens_at=now,
            closes_at=latest + timedelta(days=pulse.open_days),
            invited=len(recipients),
            anonymity_min=community_settings(session, pulse.team_id, settings).anonymity_min,
            comment_min=pulse.comment_min,
        ),
    )
    run = session.exec(
        select(PulseRun).where(PulseRun.pulse_id == pulse.id, PulseRun.opens_at == now)
    ).one()
    minimum = minimum_for(session, settings, run, pulse.team_id)
    invitation = PulseDM(
        run.id or 0, pulse.name, run.questions, run.anonymous, minimum, run.closes_at
    )
    dm = render(invitation)
    queued = outside = 0
    for user_id in recipients:
        insert_or_ignore(session, PulseParticipation(run_id=run.id, user_id=user_id))  # type: ignore[arg-type]
        outcome = nudges.send(
            session,
            settings,
            team_id=pulse.team_id,
            user_id=user_id,
            kind=DELIVERY,
            key=f"pulse:{run.id}:{user_id}",
            text=dm.text,
            blocks=dm.blocks,
            now=dues[user_id],
            respect_quiet=not send_now,
            reach=reach[user_id],
        )
        queued += outcome.queued
        outside += send_now and outcome.queued and reach[user_id].quiet_now(now)
    return OpenedRun(run, len(recipients), queued, outside)


def send_now(
    session: Session,
    actor: Actor,
    settings: Settings,
    name: str,
    *,
    now: datetime | None = None,
    channel_members: Iterable[str] | None = None,
) -> OpenedRun:
    """``/pulse send-now``: the lead chose now, so quiet hours are not waited out."""
    actor.require(Role.LEAD, "send a pulse")
    pulse = by_name(session, actor.team_id, name)
    opened = open_run(
        session, settings, pulse, now=now, channel_members=channel_members, send_now=True
    )
    _audit(session, actor, "pulse.send_now", pulse, {"invited": opened.invited})
    return opened


# ----------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Receipt:
    """What the member's reply shows; ``token`` goes into their updated DM's buttons."""

    run_id: int
    token: str
    changed: bool
    chosen: Mapping[int, int]


def run_of_team(session: Session, team_id: str, run_id: int) -> tuple[PulseRun, Pulse]:
    """A run and its pulse, only if they belong to ``team_id`` (ids in buttons are the
    sender's to choose: another workspace's ids name nothing here)."""
    run = session.get(PulseRun, run_id) if run_id else None
    pulse = session.get(Pulse, run.pulse_id) if run else None
    if run is None or pulse is None or pulse.team_id != team_id:
        raise UserError("That pulse no longer exists.")
    return run, pulse


def job_visible_to(session: Session, team_id: str, job_id: str) -> bool:
    """Whether a scheduled job may be listed to this workspace's leads: copbot's own
    rhythm, or a pulse of theirs (never another workspace's pulse names)."""
    own = re.fullmatch(r"pulse:(\d+):open", job_id)
    if own is None:
        return True
    pulse = session.get(Pulse, int(own.group(1)))
    return pulse is not None and pulse.team_id == team_id


def _locked_run(session: Session, run_id: int, *, shared: bool) -> PulseRun | None:
    """The run as it is now, locked until this transaction ends: closing waits for
    answers in flight, and an answer after it sees the run closed. PostgreSQL locks the
    row (shared for answers); SQLite has no row locks, so a no-op write takes its one
    write lock first and what is read next is current."""
    query = select(PulseRun).where(PulseRun.id == run_id)
    if session.get_bind().dialect.name == "sqlite":
        session.exec(  # type: ignore[call-overload]
            update(PulseRun).where(col(PulseRun.id) == run_id).values(status=PulseRun.status)
        )
    else:
        query = query.with_for_update(read=shared)
    return session.exec(query.execution_options(populate_existing=True)).first()


def _open_run(session: Session, run_id: int, now: datetime, *, lock: bool = False) -> PulseRun:
    """The run if it still takes answers (``lock``: see ``_locked_run``)."""
    run = _locked_run(session, run_id, shared=True) if lock else session.get(PulseRun, run_id)
    if run is None:
        raise UserError("I can't find that pulse.", field="answer")
    if run.status != OPEN or now >= run.closes_at:
        raise UserError(
            "This pulse has closed, so answers can't be added or changed.", field="answer"
        )
    return run


def record_answers(
    session: Session,
    settings: Settings,
    *,
    run_id: int,
    user_id: str,
    token: str | None,
    answers: Sequence[Answer],
    replace_all: bool = False,
    now: datetime | None = None,
) -> Receipt:
    """Seal a member's answers into their ballot; a change replaces the earlier ones, so
    they count once.

    ``user_id`` is the one Slack signed into the request: it is used only to check that
    the member was asked and to mark them answered, and is sealed into the ballot only for
    attributed runs. Without a token this must be the member's first answer (claimed
    atomically, so a double tap counts once) and a new token is made; with one, the token
    must already hold a ballot in this run. ``replace_all`` (the full form) clears answers
    the form left empty; a one-tap answer replaces only its question.
    """
    now = now or utcnow()
    run = _open_run(session, run_id, now, lock=True)
    checked = {answer.question: check_answer(run.questions, answer) for answer in answers}
    given = [answer for answer in checked.values() if answer.value is not None or answer.text]
    participation = session.exec(
        select(PulseParticipation).where(
            PulseParticipation.run_id == run_id, PulseParticipation.user_id == user_id
        )
    ).first()
    if participation is None:
        raise UserError("This pulse wasn't sent to you, so I can't take an answer.")
    sealer = Sealer(settings, run_id, run.questions)
    stored: PulseBallot | None = None
    if token is None:
        if not given:
            raise UserError("Choose an answer first.", field="answer")
        claimed = session.exec(  # type: ignore[call-overload]
            update(PulseParticipation)
            .where(
                col(PulseParticipation.id) == participation.id,
                col(PulseParticipation.answered).is_(False),
            )
            .values(answered=True)
        )
        if claimed.rowcount != 1:
            raise UserError(
                "You've already answered this pulse. To change your answers, use the buttons "
                "in my latest message to you.",
                field="answer",
            )
        token, changed, ballot = new_token(), False, Ballot()
        _cancel_reminder(session, run_id, user_id)
    else:
        changed = True
        stored = session.exec(
            select(PulseBallot)
            .where(PulseBallot.id == ballot_id(token), PulseBallot.run_id == run_id)
            .with_for_update()
        ).first()
        found = _ballot_of(sealer, stored) if stored else _earlier_answers(session, run_id, token)
        if found is None:
            raise UserError("That answer link doesn't belong to this pulse.", field="answer")
        if replace_all and not given:
            raise UserError("Choose an answer first.", field="answer")
        ballot = found
    if replace_all:
        ballot.answers = {}
    for question in checked:
        ballot.answers.pop(question, None)
    for answer in given:
        ballot.answers[answer.question] = (answer.value, answer.text)
    if not ballot.answers:
        # Every earlier answer was cleared: nothing would hold the token any more.
        raise UserError("Choose an answer first.", field="answer")
    member = find(session, _team_of(session, run), user_id)
    ballot.staff_group, ballot.organisation_type = _snapshot(session, member)
    ballot.user_id = None if run.anonymous else user_id
    key = ballot_id(token)
    if stored is None:
        stored = PulseBallot(id=key, run_id=run_id, sealed="")
    stored.sealed = sealer.seal(key, ballot)
    session.add(stored)
    session.flush()
    return Receipt(run_id, token, changed, ballot.chosen())


def _ballot_of(sealer: Sealer, stored: PulseBallot) -> Ballot:
    """A stored ballot, opened; one sealed under another secret starts again empty."""
    try:
        return sealer.open(stored.id, stored.sealed)
    except Unreadable:
        log.warning("a pulse ballot could not be opened (the secret changed); it starts again")
        return Ballot()


def _earlier_answers(session: Session, run_id: int, token: str) -> Ballot | None:
    """Answers stored as rows before ballots existed (an upgrade during an open run):
    taken back into a ballot, so a change still replaces them."""
    rows = session.exec(
        select(PulseAnswer).where(
            PulseAnswer.run_id == run_id, PulseAnswer.respondent == hash_token(token)
        )
    ).all()
    if not rows:
        return None
    for row in rows:
        session.delete(row)
    return Ballot({row.question: (row.value, row.text) for row in rows})


def _team_of(session: Session, run: PulseRun) -> str:
    pulse = session.get(Pulse, run.pulse_id)
    assert pulse is not None
    return pulse.team_id


def _snapshot(session: Session, member: Member | None) -> tuple[str | None, str | None]:
    """Staff group and organisation type as they are now, for breakdowns only."""
    if member is None:
        return None, None
    organisation = (
        session.get(Organisation, member.organisation_id) if member.organisation_id else None
    )
    return member.staff_group, organisation.org_type if organisation else None


def _cancel_reminder(session: Session, run_id: int, user_id: str) -> None:
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(
            col(OutboxMessage.key) == f"pulse:{run_id}:{user_id}:reminder",
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED)
    )


# ---------------------------------------------------------------------------- reminders


def send_reminders(
    session: Session, settings: Settings, run_id: int, *, now: datetime | None = None
) -> int:
    """One reminder to each member who has not answered, before close; quiet hours and
    opt-outs are the nudge layer's. A reminder that would land after close is dropped.
    Returns how many were queued."""
    now = now or utcnow()
    run = _open_run(session, run_id, now)
    pulse = session.get(Pulse, run.pulse_id)
    assert pulse is not None
    minimum = minimum_for(session, settings, run, pulse.team_id)
    reminder = PulseDM(
        run_id, pulse.name, run.questions, run.anonymous, minimum, run.closes_at, reminder=True
    )
    dm = render(reminder)
    pending = session.exec(
        select(PulseParticipation).where(
            PulseParticipation.run_id == run_id,
            col(PulseParticipation.answered).is_(False),
            col(PulseParticipation.reminded).is_(False),
        )
    ).all()
    reach = nudges.reach_of(session, settings, pulse.team_id, (p.user_id for p in pending))
    queued = 0
    for participation in pending:
        key = f"pulse:{run_id}:{participation.user_id}:reminder"
        outcome = nudges.send(
            session,
            settings,
            team_id=pulse.team_id,
            user_id=participation.user_id,
            kind=REMINDER,
            key=key,
            text=dm.text,
            blocks=dm.blocks,
            now=now,
            reach=reach[participation.user_id],
        )
        if outcome.queued and outcome.due_at and outcome.due_at >= run.closes_at:
            _cancel_reminder(session, run_id, participation.user_id)
        else:
            queued += outcome.queued
        participation.reminded = True
        session.add(participation)
    run.reminder_sent_at = now
    session.add(run)
    return queued


# ----------------------------------------------------------------------------- closing


def close_run(
    session: Session, settings: Settings, run_id: int, *, now: datetime | None = None
) -> PulseRun:
    """Close the run: no more answers, and anything of it still queued is not sent.

    Its ballots are opened and written as answer rows in one shuffled batch with random
    keys, then deleted; a run whose respondents are fewer than its minimum keeps only
    their number (its answers could never be shown). Breakdown groups with fewer
    respondents than the minimum are stored as "Other (small groups)", with
    complementary folding, so no stored group picks anyone out.
    """
    run = _locked_run(session, run_id, shared=False)
    if run is None:
        raise UserError("I can't find that pulse.")
    if run.status == CLOSED:
        return run
    run.status, run.closed_at = CLOSED, now or utcnow()
    pulse = session.get(Pulse, run.pulse_id)
    assert pulse is not None
    opened, unreadable = _open_ballots(session, settings, run)
    run.respondents = len(opened) + unreadable
    minimum = minimum_for(session, settings, run, pulse.team_id)
    if run.anonymous:
        _drop_few_comments(run, opened, comment_minimum_for(session, settings, run, pulse.team_id))
    if opened and (run.respondents >= minimum or not run.anonymous):
        _write_answers(session, run_id, opened, minimum)
    session.exec(delete(PulseBallot).where(col(PulseBallot.run_id) == run_id))  # type: ignore[call-overload]
    session.add(run)
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(
            col(OutboxMessage.key).startswith(f"pulse:{run_id}:"),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED)
    )
    return run


def _open_ballots(session: Session, settings: Settings, run: PulseRun) -> tuple[list[Ballot], int]:
    """Every ballot of the run, opened (and answers stored as rows before ballots existed,
    taken back), with how many could not be opened (sealed under another secret)."""
    sealer = Sealer(settings, run.id or 0, run.questions)
    opened: list[Ballot] = []
    unreadable = 0
    for stored in session.exec(select(PulseBallot).where(PulseBallot.run_id == run.id)):
        try:
            opened.append(sealer.open(stored.id, stored.sealed))
        except Unreadable:
            unreadable += 1
    earlier: dict[str, Ballot] = {}
    for row in session.exec(select(PulseAnswer).where(PulseAnswer.run_id == run.id)):
        ballot = earlier.setdefault(
            row.respondent, Ballot({}, row.staff_group, row.organisation_type, row.user_id)
        )
        ballot.answers[row.question] = (row.value, row.text)
    if earlier:
        session.exec(delete(PulseAnswer).where(col(PulseAnswer.run_id) == run.id))  # type: ignore[call-overload]
        opened.extend(earlier.values())
    if unreadable:
        log.warning("%s pulse ballots of run %s could not be opened", unreadable, run.id)
    return opened, unreadable


def _drop_few_comments(run: PulseRun, opened: list[Ballot], comment_min: int) -> None:
    """Written answers to a question fewer than ``comment_min`` people wrote can never be
    shown, and kept they would point at the few who wrote (their ballots changed when
    they did): they are not kept. Their other answers are."""
    for index, question in enumerate(run.questions):
        if question.get("kind") != FREE_TEXT:
            continue
        writers = [b for b in opened if (b.answers.get(index) or (None, None))[1]]
        if len(writers) >= comment_min:
            continue
        for ballot in writers:
            del ballot.answers[index]


def shown_groups(labels: Sequence[str | None], minimum: int) -> set[str | None]:
    """The groups that may be stored as they are: each held by at least ``minimum``
    respondents, and what is folded into Other is itself 0 or at least ``minimum``."""
    counts: dict[str | None, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] or ""))
    shown = [item for item in ordered if item[1] >= minimum]
    other = len(labels) - sum(people for _, people in shown)
    while shown and 0 < other < minimum:
        other += shown.pop()[1]
    return {label for label, _ in shown}


def _write_answers(session: Session, run_id: int, opened: list[Ballot], minimum: int) -> None:
    groups = shown_groups([b.staff_group for b in opened], minimum)
    types = shown_groups([b.organisation_type for b in opened], minimum)
    rows: list[dict[str, Any]] = []
    for ballot in opened:
        respondent = secrets.token_hex(16)
        staff_group = ballot.staff_group if ballot.staff_group in groups else OTHER_GROUPS
        org_type = ballot.organisation_type if ballot.organisation_type in types else OTHER_GROUPS
        for question, (value, text) in ballot.answers.items():
            rows.append(
                {
                    "id": secrets.token_hex(16),
                    "run_id": run_id,
                    "respondent": respondent,
                    "question": question,
                    "value": value,
                    "text": text,
                    "staff_group": staff_group,
                    "organisation_type": org_type,
                    "user_id": ballot.user_id,
                }
            )
    _SHUFFLE.shuffle(rows)
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(PulseAnswer), rows[start : start + _CHUNK])


def runs_due(session: Session, now: datetime) -> tuple[list[int], list[int]]:
    """(runs to remind, runs to close) at ``now``: reminders go two thirds of the way in."""
    open_runs = session.exec(select(PulseRun).where(PulseRun.status == OPEN)).all()
    to_close = [run.id for run in open_runs if now >= run.closes_at]
    to_remind = [
        run.id
        for run in open_runs
        if run.reminder_sent_at is None
        and now < run.closes_at
        and now >= run.opens_at + (run.closes_at - run.opens_at) * 2 / 3
    ]
    return to_remind, to_close  # type: ignore[return-value]
