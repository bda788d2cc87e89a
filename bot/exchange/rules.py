"""Exchange programmes and sign-ups: what a lead may create, and what a member may sign
up with (an expression of interest), edit, pause or withdraw. Rounds of matching are in
``bot.exchange.rounds``; introductions and follow-through in ``bot.exchange.followup``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import audit
from bot.defaults import CAREER_STAGES, EXCHANGE_FORMATS, STAFF_GROUPS
from bot.errors import UserError
from bot.privacy import refuse_patient_identifiers
from bot.roles import Actor, Role
from storage import ExchangeInterest, ExchangeProgramme, utcnow

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SET_FORMATS = {"Action learning set": 6, "Quad": 4, "Big Room table": 8}
MENTORING_FORMATS = frozenset({"Mentoring", "Coaching"})
NEXT_STEPS = {
    "Half-day swap": "Agree dates for two half-day visits, one each way.",
    "Shadowing": "Agree a date for a half-day of shadowing, and who hosts first.",
    "Mentoring": "Agree a first conversation of about an hour, and how often you will meet.",
    "Coaching": "Agree a first coaching session, and how often you will meet.",
    "Peer visit": "Agree dates to visit each other's service: all teach, all learn.",
    "Action learning set": "Agree a first meeting of the set (about two hours) and a facilitator.",
    "Quad": "Agree a first meeting around the interest you share.",
    "Big Room table": "Agree when you will meet before the next Big Room, and what you will bring.",
}
WEEKDAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
}
MODES = {"in_person": "In person", "virtual": "Virtual", "either": "Either"}
ROLES = {"mentor": "Mentor", "mentee": "Mentee", "either": "Either"}


# ------------------------------------------------------------------------- programmes


@dataclass(frozen=True)
class ProgrammeFields:
    name: str
    format: str
    group_size: int
    differ_by_organisation: bool
    differ_by_staff_group: bool
    cooldown_days: int
    signup_deadline: datetime
    every_days: int | None
    mentor_capacity: int = 2


def validate_programme(
    *,
    name: str | None,
    format: str | None,
    group_size: str | int | None,
    differ_by: Iterable[str] | None,
    cooldown_months: str | int | None,
    deadline: date | None,
    recurring: bool,
    timezone: str,
    today: date,
    mentor_capacity: str | int | None = None,
) -> ProgrammeFields:
    """Sign-ups close at the end of the deadline day in the community's time zone."""
    cleaned = (name or "").strip().lower()
    if not NAME.match(cleaned):
        raise UserError(
            "Give the programme a one-word name (letters, numbers, - or _), so people can "
            "type /exchange join <name>.",
            field="name",
        )
    if format not in EXCHANGE_FORMATS:
        raise UserError("Choose a format from the list.", field="format")
    size = SET_FORMATS.get(format, 2)
    if group_size not in (None, ""):
        size = _whole(group_size, "group_size", "The group size")
        if format in SET_FORMATS and not 3 <= size <= 8:
            raise UserError("Sets have 3 to 8 people.", field="group_size")
        if format not in SET_FORMATS and format not in MENTORING_FORMATS and size != 2:
            raise UserError(f"A {format.lower()} is for pairs; leave the size empty.", "group_size")
    months = 12 if cooldown_months in (None, "") else _whole(cooldown_months, "cooldown", "It")
    if not 0 <= months <= 60:
        raise UserError("Choose between 0 and 60 months.", field="cooldown")
    if deadline is None:
        raise UserError("Choose when sign-ups close.", field="deadline")
    if deadline < today:
        raise UserError("Sign-ups can't close in the past.", field="deadline")
    capacity = 2 if mentor_capacity in (None, "") else _whole(mentor_capacity, "capacity", "It")
    if not 1 <= capacity <= 10:
        raise UserError("A mentor can take 1 to 10 mentees.", field="capacity")
    chosen = set(differ_by or ())
    return ProgrammeFields(
        name=cleaned,
        format=format,
        group_size=size,
        differ_by_organisation="organisation" in chosen,
        differ_by_staff_group="staff_group" in chosen,
        cooldown_days=months * 365 // 12,
        signup_deadline=_end_of(deadline, timezone),
        every_days=28 if recurring else None,
        mentor_capacity=capacity,
    )


def _whole(value: str | int, field: str, what: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise UserError(f"{what} must be a whole number.", field=field) from None


def _end_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, ZoneInfo(timezone))


def create_programme(session: Session, actor: Actor, fields: ProgrammeFields) -> ExchangeProgramme:
    actor.require(Role.LEAD, "create exchange programmes")
    taken = session.exec(
        select(ExchangeProgramme.id).where(
            ExchangeProgramme.team_id == actor.team_id, ExchangeProgramme.name == fields.name
        )
    ).first()
    if taken is not None:
        raise UserError(f"There is already a programme called {fields.name}.", field="name")
    programme = ExchangeProgramme(team_id=actor.team_id, created_by=actor.user_id, **asdict(fields))
    session.add(programme)
    session.flush()
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="exchange.programme_created",
        target=f"programme:{programme.id}",
        after={"name": fields.name, "format": fields.format, "group_size": fields.group_size},
    )
    return programme


def by_name(session: Session, team_id: str, name: str) -> ExchangeProgramme:
    programme = session.exec(
        select(ExchangeProgramme).where(
            ExchangeProgramme.team_id == team_id, ExchangeProgramme.name == name.strip().lower()
        )
    ).first()
    if programme is None:
        raise UserError(f"I can't find an exchange programme called {name.strip()}.")
    return programme


def programmes(session: Session, team_id: str) -> list[ExchangeProgramme]:
    query = select(ExchangeProgramme).where(ExchangeProgramme.team_id == team_id)
    return list(session.exec(query.order_by(col(ExchangeProgramme.created_at).desc())))


def open_for_signup(
    session: Session, team_id: str, now: datetime | None = None
) -> list[ExchangeProgramme]:
    now = now or utcnow()
    query = select(ExchangeProgramme).where(
        ExchangeProgramme.team_id == team_id,
        col(ExchangeProgramme.closed_at).is_(None),
        ExchangeProgramme.signup_deadline > now,
    )
    return list(session.exec(query.order_by(col(ExchangeProgramme.signup_deadline))))


def choose_programme(
    session: Session, team_id: str, name: str, now: datetime | None = None
) -> ExchangeProgramme:
    """The named programme, or the only one open for sign-up when no name is given."""
    if name:
        return by_name(session, team_id, name)
    open_now = open_for_signup(session, team_id, now)
    if len(open_now) == 1:
        return open_now[0]
    if not open_now:
        raise UserError("No exchange programme is open for sign-up at the moment.")
    names = ", ".join(p.name for p in open_now)
    raise UserError(f"Say which programme: /exchange join <name>. Open now: {names}.")


# -------------------------------------------------------------------- interests (EOI)


@dataclass(frozen=True)
class InterestFields:
    staff_group: str = ""
    organisation: str = ""
    locality: str = ""
    professional_interests: tuple[str, ...] = ()
    personal_interests: tuple[str, ...] = ()
    offers: tuple[str, ...] = ()
    wants: tuple[str, ...] = ()
    career_stage: int = 0
    availability: tuple[str, ...] = ()
    mode: str = "either"
    role: str = "either"
    do_not_pair: tuple[str, ...] = ()
    paused: bool = False


def split_list(text: str | None) -> list[str]:
    """Free text typed as a list: commas, semicolons or new lines between items."""
    return [item.strip() for item in re.split(r"[,;\n]", text or "") if item.strip()]


def validate_interest(
    user_id: str,
    *,
    staff_group: str | None,
    organisation: str | None,
    locality: str | None,
    professional: Iterable[str] | None,
    personal: Iterable[str] | None,
    other_interests: str | None,
    offers: str | None,
    wants: str | None,
    career_stage: str | None,
    availability: Iterable[str] | None,
    mode: str | None,
    role: str | None,
    do_not_pair: Iterable[str] | None,
    paused: bool,
) -> InterestFields:
    for field, text in (("other", other_interests), ("offers", offers), ("wants", wants)):
        refuse_patient_identifiers(text or "", field)
    if staff_group and staff_group not in STAFF_GROUPS:
        raise UserError("Choose your staff group from the list.", field="staff_group")
    professional = [*(professional or ()), *split_list(other_interests)]
    personal = list(personal or ())
    if not professional and not personal:
        raise UserError(
            "Choose at least one professional or personal interest: it is how I find you a "
            "good match.",
            field="professional",
        )
    avoid = list(dict.fromkeys(do_not_pair or ()))
    if user_id in avoid:
        raise UserError("You can't ask not to be paired with yourself.", field="do_not_pair")
    if any(day not in WEEKDAYS for day in availability or ()):
        raise UserError("Choose weekdays from the list.", field="availability")
    stage = CAREER_STAGES.index(career_stage) + 1 if career_stage in CAREER_STAGES else 0
    return InterestFields(
        staff_group=staff_group or "",
        organisation=(organisation or "").strip()[:200],
        locality=(locality or "").strip()[:100],
        professional_interests=tuple(dict.fromkeys(i[:100] for i in professional)),
        personal_interests=tuple(dict.fromkeys(i[:100] for i in personal)),
        offers=tuple(i[:100] for i in split_list(offers)),
        wants=tuple(i[:100] for i in split_list(wants)),
        career_stage=stage,
        availability=tuple(availability or ()),
        mode=mode if mode in MODES else "either",
        role=role if role in ROLES else "either",
        do_not_pair=tuple(avoid),
        paused=paused,
    )


def interest(session: Session, programme_id: int, user_id: str) -> ExchangeInterest | None:
    return session.exec(
        select(ExchangeInterest).where(
            ExchangeInterest.programme_id == programme_id, ExchangeInterest.user_id == user_id
        )
    ).first()


def check_open(programme: ExchangeProgramme, now: datetime) -> None:
    if programme.closed_at is not None:
        raise UserError(f"The {programme.name} programme has finished.")
    if programme.signup_deadline <= now:
        raise UserError(
            f"Sign-ups for {programme.name} closed on "
            f"{programme.signup_deadline - timedelta(seconds=1):%-d %B}. Ask a lead about the "
            "next round."
        )


def join(
    session: Session,
    team_id: str,
    user_id: str,
    programme: ExchangeProgramme,
    fields: InterestFields,
    now: datetime | None = None,
) -> tuple[ExchangeInterest, bool]:
    """Save (or edit) an expression of interest; returns it and whether it is new."""
    now = now or utcnow()
    check_open(programme, now)
    found = interest(session, programme.id or 0, user_id)
    created = found is None or found.withdrawn_at is not None
    row = found or ExchangeInterest(
        programme_id=programme.id or 0, team_id=team_id, user_id=user_id
    )
    for name, value in asdict(fields).items():
        setattr(row, name, list(value) if isinstance(value, tuple) else value)
    row.withdrawn_at, row.updated_at = None, now
    session.add(row)
    session.flush()
    return row, created


def leave(
    session: Session, team_id: str, user_id: str, programme: ExchangeProgramme
) -> ExchangeInterest:
    row = interest(session, programme.id or 0, user_id)
    if row is None or row.withdrawn_at is not None:
        raise UserError(f"You are not signed up to {programme.name}.")
    row.withdrawn_at = row.updated_at = utcnow()
    session.add(row)
    return row


def active_interests(session: Session, programme_id: int) -> list[ExchangeInterest]:
    query = select(ExchangeInterest).where(
        ExchangeInterest.programme_id == programme_id, col(ExchangeInterest.withdrawn_at).is_(None)
    )
    return list(session.exec(query.order_by(col(ExchangeInterest.user_id))))


def signed_up_to(session: Session, team_id: str, user_id: str) -> set[int]:
    rows = session.exec(
        select(ExchangeInterest.programme_id).where(
            ExchangeInterest.team_id == team_id,
            ExchangeInterest.user_id == user_id,
            col(ExchangeInterest.withdrawn_at).is_(None),
        )
    )
    return set(rows)
