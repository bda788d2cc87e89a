"""Pulse runs: opening one (a DM per member through the nudge layer), one reminder, and
what is due when; the anonymity minimum each run keeps.

Plain functions taking a Session (one transaction, the caller's). ``PulseParticipation``
knows who was asked and who answered, only to remind the others once. The minimum in
force when a run opens is stored on it and can only rise for it. Answers are in
``answers`` (sealed while the run is open), closing in ``closing``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select, update

from bot.config import Settings
from bot.errors import UserError
from bot.nudges import send as nudges
from bot.platform.rendering import render
from bot.pulse.design import audience, audit_pulse, by_name
from bot.pulse.messages import PulseDM
from bot.roles import Actor, Role
from bot.workspaces import community_settings
from storage import (
    OutboxMessage,
    OutboxStatus,
    Pulse,
    PulseParticipation,
    PulseRun,
    insert_or_ignore,
    utcnow,
)

OPEN, CLOSED = "open", "closed"
DELIVERY, REMINDER = "pulse.delivery", "pulse.reminder"


def minimum_for(session: Session, settings: Settings, run: PulseRun, team_id: str) -> int:
    """The run's anonymity minimum: the one in force when it opened, or the community's
    setting if that has risen since. Lowering the setting never reveals an earlier run."""
    current = community_settings(session, team_id, settings).anonymity_min
    return max(run.anonymity_min or 0, current)


def comment_minimum_for(session: Session, settings: Settings, run: PulseRun, team_id: str) -> int:
    """Written answers are shown only from at least this many people: the run's minimum,
    or the lead's higher comment minimum for the pulse."""
    return max(run.comment_min or 0, minimum_for(session, settings, run, team_id))


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
    audit_pulse(session, actor, "pulse.send_now", pulse, {"invited": opened.invited})
    return opened


def run_of_team(session: Session, team_id: str, run_id: int) -> tuple[PulseRun, Pulse]:
    """A run and its pulse, only if they belong to ``team_id`` (ids in buttons are the
    sender's to choose: another workspace's ids name nothing here)."""
    run = session.get(PulseRun, run_id) if run_id else None
    pulse = session.get(Pulse, run.pulse_id) if run else None
    if run is None or pulse is None or pulse.team_id != team_id:
        raise UserError("That pulse no longer exists.")
    return run, pulse


def locked_run(session: Session, run_id: int, *, shared: bool) -> PulseRun | None:
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


def answerable_run(session: Session, run_id: int, now: datetime, *, lock: bool = False) -> PulseRun:
    """The run if it still takes answers (``lock``: see ``_locked_run``)."""
    run = locked_run(session, run_id, shared=True) if lock else session.get(PulseRun, run_id)
    if run is None:
        raise UserError("I can't find that pulse.", field="answer")
    if run.status != OPEN or now >= run.closes_at:
        raise UserError(
            "This pulse has closed, so answers can't be added or changed.", field="answer"
        )
    return run


def cancel_reminder(session: Session, run_id: int, user_id: str) -> None:
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(
            col(OutboxMessage.key) == f"pulse:{run_id}:{user_id}:reminder",
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED)
    )


def send_reminders(
    session: Session, settings: Settings, run_id: int, *, now: datetime | None = None
) -> int:
    """One reminder to each member who has not answered, before close; quiet hours and
    opt-outs are the nudge layer's. A reminder that would land after close is dropped.
    Returns how many were queued."""
    now = now or utcnow()
    run = answerable_run(session, run_id, now)
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
            cancel_reminder(session, run_id, participation.user_id)
        else:
            queued += outcome.queued
        participation.reminded = True
        session.add(participation)
    run.reminder_sent_at = now
    session.add(run)
    return queued


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
