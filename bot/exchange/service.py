"""Exchange programmes, expressions of interest and rounds of matching.

A round is proposed (and re-run as often as the lead likes), reviewed, then approved;
nothing reaches members before approval. Introductions and follow-through are in
``bot.exchange.followup``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from itertools import combinations
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, delete, select

from bot import audit
from bot.defaults import CAREER_STAGES, EXCHANGE_FORMATS, STAFF_GROUPS
from bot.errors import UserError
from bot.exchange import matching
from bot.privacy import refuse_patient_identifiers
from bot.roles import Actor, Role
from storage import (
    ExchangeInterest,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    ExchangeRound,
    utcnow,
)

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
LIVE = ("approved", "introduced", "date_set", "done")  # matches that count as having met
WEIGHT_NAMES = tuple(f.name for f in fields(matching.Weights))


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


def candidate(row: ExchangeInterest, capacity: int = 1) -> matching.Candidate:
    """The matcher's view of a sign-up; ``capacity`` is how many mentees a mentor takes."""
    return matching.Candidate(
        id=row.user_id,
        staff_group=row.staff_group,
        organisation=row.organisation,
        locality=row.locality.strip().lower(),
        professional_interests=frozenset(i.lower() for i in row.professional_interests),
        personal_interests=frozenset(i.lower() for i in row.personal_interests),
        offers=frozenset(i.lower() for i in row.offers),
        wants=frozenset(i.lower() for i in row.wants),
        career_stage=row.career_stage,
        availability=frozenset(row.availability),
        mode=row.mode,  # type: ignore[arg-type]
        do_not_pair=frozenset(row.do_not_pair),
        paused=row.paused,
        priority=row.priority,
        role=row.role,  # type: ignore[arg-type]
        capacity=capacity,
    )


# ----------------------------------------------------------------------------- rounds


def rules_of(programme: ExchangeProgramme) -> matching.Rules:
    mentoring = programme.format in MENTORING_FORMATS
    return matching.Rules(
        group_size=2 if mentoring else programme.group_size,
        mentoring=mentoring,
        differ_by_organisation=programme.differ_by_organisation,
        differ_by_staff_group=programme.differ_by_staff_group,
    )


def weights_of(values: Mapping[str, float]) -> matching.Weights:
    return matching.Weights(**{k: float(v) for k, v in values.items() if k in WEIGHT_NAMES})


def history(
    session: Session, team_id: str, cooldown_days: int, now: datetime | None = None
) -> frozenset[frozenset[str]]:
    """Everyone who met through an approved match within the cooldown, as pairs."""
    if cooldown_days <= 0:
        return frozenset()
    since = (now or utcnow()) - timedelta(days=cooldown_days)
    rows = session.exec(
        select(ExchangeMatchMember.match_id, ExchangeMatchMember.user_id)
        .join(ExchangeMatch, col(ExchangeMatch.id) == ExchangeMatchMember.match_id)
        .join(ExchangeRound, col(ExchangeRound.id) == ExchangeMatch.round_id)
        .where(
            ExchangeMatch.team_id == team_id,
            col(ExchangeMatch.status).in_(LIVE),
            col(ExchangeRound.approved_at) >= since,
        )
    )
    groups: dict[int, list[str]] = {}
    for match_id, user_id in rows:
        groups.setdefault(match_id, []).append(user_id)
    return frozenset(frozenset(p) for g in groups.values() for p in combinations(sorted(g), 2))


def current_round(session: Session, programme: ExchangeProgramme) -> ExchangeRound | None:
    return session.exec(
        select(ExchangeRound).where(
            ExchangeRound.programme_id == programme.id,
            ExchangeRound.number == programme.round_number,
        )
    ).first()


def round_matches(session: Session, round_id: int) -> list[tuple[ExchangeMatch, list[str]]]:
    """A round's matches with their members (mentor first), best score first."""
    found = list(
        session.exec(
            select(ExchangeMatch)
            .where(ExchangeMatch.round_id == round_id)
            .order_by(col(ExchangeMatch.score).desc(), col(ExchangeMatch.id))
        )
    )
    members: dict[int, list[str]] = {m.id or 0: [] for m in found}
    rows = session.exec(
        select(ExchangeMatchMember)
        .where(col(ExchangeMatchMember.match_id).in_(list(members)))
        .order_by(col(ExchangeMatchMember.position))
    )
    for row in rows:
        members[row.match_id].append(row.user_id)
    return [(m, members[m.id or 0]) for m in found]


def propose(
    session: Session,
    programme: ExchangeProgramme,
    *,
    weights: Mapping[str, float] | None = None,
    seed: int | None = None,
    now: datetime | None = None,
) -> ExchangeRound:
    """Match the current round and store it as a proposal, replacing an earlier one.

    A round that leaves nobody matchable is refused and stores nothing.
    """
    now = now or utcnow()
    existing = current_round(session, programme)
    if existing is not None and existing.approved_at is not None:
        raise UserError("This round is already approved.")
    rows = active_interests(session, programme.id or 0)
    if len(rows) < 2:
        raise UserError(f"{programme.name} needs at least two sign-ups to match anyone.")
    chosen = dict(programme.weights if weights is None else weights)
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    met = history(session, programme.team_id, programme.cooldown_days, now)
    result = matching.match(
        [candidate(row, programme.mentor_capacity) for row in rows],
        rules_of(programme),
        weights_of(chosen),
        history=met,
        seed=seed,
    )
    if not result.matches:
        reasons = sorted(set(result.unmatchable.values())) or ["the rules leave no eligible pair"]
        raise UserError(
            f"Nobody in {programme.name} can be matched under its rules: "
            + "; ".join(r.rstrip(".") for r in reasons[:3])
            + ". Try relaxing a rule, or wait for more sign-ups."
        )
    if existing is not None:
        _clear(session, existing.id or 0)
        round_ = existing
        round_.proposed_at = now
    else:
        round_ = ExchangeRound(programme_id=programme.id or 0, number=programme.round_number)
    round_.seed, round_.weights = seed, chosen
    round_.outcome = {
        "carried_over": list(result.carried_over),
        "unmatchable": dict(result.unmatchable),
        "total_score": result.total_score,
    }
    if result.certificate is not None:  # how close to the best possible, for the review
        round_.outcome["certificate"] = {
            **asdict(result.certificate),
            "gap": result.certificate.gap,
        }
    session.add(round_)
    session.flush()
    for found in result.matches:
        _store_match(session, programme, round_, found.members, found.score, found.reasons)
    return round_


def _store_match(
    session: Session,
    programme: ExchangeProgramme,
    round_: ExchangeRound,
    members: Iterable[str],
    score: float,
    reasons: Iterable[str],
) -> ExchangeMatch:
    match = ExchangeMatch(
        round_id=round_.id or 0,
        programme_id=programme.id or 0,
        team_id=programme.team_id,
        score=round(score, 2),
        reasons=list(reasons),
    )
    session.add(match)
    session.flush()
    for position, user_id in enumerate(members):
        session.add(ExchangeMatchMember(match_id=match.id or 0, user_id=user_id, position=position))
    return match


def _clear(session: Session, round_id: int) -> None:
    ids = list(session.exec(select(ExchangeMatch.id).where(ExchangeMatch.round_id == round_id)))
    if ids:
        session.exec(delete(ExchangeMatchMember).where(col(ExchangeMatchMember.match_id).in_(ids)))  # type: ignore[call-overload]
        session.exec(delete(ExchangeMatch).where(col(ExchangeMatch.id).in_(ids)))  # type: ignore[call-overload]


def run_matching(
    session: Session,
    actor: Actor,
    programme: ExchangeProgramme,
    *,
    weights: Mapping[str, float] | None = None,
    seed: int | None = None,
) -> ExchangeRound:
    actor.require(Role.LEAD, "run matching")
    found = propose(session, programme, weights=weights, seed=seed)
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="exchange.matching_run",
        target=f"programme:{programme.id}",
        after={"round": found.number, "weights": found.weights, "seed": found.seed},
    )
    return found


def _proposal(
    session: Session, actor: Actor, round_id: int
) -> tuple[ExchangeRound, ExchangeProgramme]:
    round_ = session.get(ExchangeRound, round_id)
    programme = session.get(ExchangeProgramme, round_.programme_id) if round_ else None
    if round_ is None or programme is None or programme.team_id != actor.team_id:
        raise UserError("That proposal no longer exists.")
    if round_.approved_at is not None:
        raise UserError("These matches are already approved.")
    return round_, programme


def rerun(
    session: Session, actor: Actor, round_id: int, weights: Mapping[str, float]
) -> ExchangeRound:
    """Re-run a proposal with other weights (see ``parse_weights``) and a new shuffle."""
    actor.require(Role.LEAD, "re-run matching")
    round_, programme = _proposal(session, actor, round_id)
    return run_matching(session, actor, programme, weights={**round_.weights, **weights})


def swap(session: Session, actor: Actor, round_id: int, first: str, second: str) -> ExchangeRound:
    """Swap two people between matches of a proposal, if every rule still holds."""
    actor.require(Role.LEAD, "swap people between matches")
    round_, programme = _proposal(session, actor, round_id)
    if not first or not second or first == second:
        raise UserError("Choose two different people to swap.", field="first")
    found = round_matches(session, round_id)
    where = {user: (match, members) for match, members in found for user in members}
    if first not in where or second not in where:
        raise UserError("Both people must be in this round's matches.", field="first")
    (match_a, members_a), (match_b, members_b) = where[first], where[second]
    if match_a.id == match_b.id:
        raise UserError("They are already matched together.", field="second")
    new_a = [second if u == first else u for u in members_a]
    new_b = [first if u == second else u for u in members_b]
    rows = {row.user_id: row for row in active_interests(session, programme.id or 0)}
    met = history(session, programme.team_id, programme.cooldown_days)
    rules, weights = rules_of(programme), weights_of(round_.weights)
    described = []
    for members in (new_a, new_b):
        group = [candidate(rows[u]) for u in members if u in rows]
        for a, b in combinations(group, 2):
            if not matching.eligible_pair(a, b, rules, met):
                raise UserError(
                    "That swap would break one of the programme's rules (organisation, "
                    "do-not-pair, a recent match, format or availability). Nothing changed."
                )
        described.append(_describe(group, rules, weights, met))
    for match, members, (score, reasons) in (
        (match_a, new_a, described[0]),
        (match_b, new_b, described[1]),
    ):
        session.exec(delete(ExchangeMatchMember).where(ExchangeMatchMember.match_id == match.id))  # type: ignore[call-overload]
        for position, user_id in enumerate(members):
            session.add(
                ExchangeMatchMember(match_id=match.id or 0, user_id=user_id, position=position)
            )
        match.score, match.reasons = round(score, 2), reasons
        session.add(match)
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="exchange.swap",
        target=f"round:{round_id}",
        before={"matches": [members_a, members_b]},
        after={"matches": [new_a, new_b]},
    )
    return round_


def _describe(
    group: list[matching.Candidate],
    rules: matching.Rules,
    weights: matching.Weights,
    met: frozenset[frozenset[str]],
) -> tuple[float, list[str]]:
    """Score and reasons of a group a lead put together: the matcher run on just them."""
    size = len(group)
    shaped = matching.Rules(**{**asdict(rules), "group_size": max(size, 2)})
    if rules.mentoring or size == 2:
        shaped = rules
    result = matching.match(group, shaped, weights, history=met)
    whole = [m for m in result.matches if len(m.members) == size]
    if whole:
        return whole[0].score, list(whole[0].reasons)
    score = sum(matching.pair_score(a, b, weights) for a, b in combinations(group, 2))
    return score, ["Put together by a lead"]


def approve(
    session: Session, actor: Actor, round_id: int, now: datetime | None = None
) -> ExchangeRound:
    """Approve a proposal: its matches are introduced next; the carried over go first in
    the next round; a recurring programme opens its next round."""
    actor.require(Role.LEAD, "approve matches")
    now = now or utcnow()
    round_, programme = _proposal(session, actor, round_id)
    round_.approved_at, round_.approved_by = now, actor.user_id
    matched = set()
    for match, members in round_matches(session, round_id):
        match.status = "approved"
        session.add(match)
        matched.update(members)
    carried = set(round_.outcome.get("carried_over") or ())
    for row in active_interests(session, programme.id or 0):
        row.priority = row.user_id in carried or (row.priority and row.user_id not in matched)
        session.add(row)
    programme.round_number += 1
    if programme.every_days:
        while programme.signup_deadline <= now:
            programme.signup_deadline += timedelta(days=programme.every_days)
    else:
        programme.closed_at = now
    session.add_all([round_, programme])
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="exchange.matches_approved",
        target=f"round:{round_id}",
        after={"programme": programme.name, "round": round_.number, "matched": len(matched)},
    )
    return round_


def matches_of(
    session: Session, team_id: str, user_id: str, limit: int = 10
) -> list[tuple[str, list[str], str]]:
    """A member's introduced matches, newest first: (programme, the others, status)."""
    mine = select(ExchangeMatchMember.match_id).where(ExchangeMatchMember.user_id == user_id)
    rows = session.exec(
        select(ExchangeMatch, ExchangeProgramme.name)
        .join(ExchangeProgramme, col(ExchangeProgramme.id) == ExchangeMatch.programme_id)
        .where(
            ExchangeMatch.team_id == team_id,
            col(ExchangeMatch.id).in_(mine),
            col(ExchangeMatch.status).in_(("introduced", "date_set", "done", "cancelled")),
        )
        .order_by(col(ExchangeMatch.introduced_at).desc())
        .limit(limit)
    ).all()
    found = []
    for match, name in rows:
        others = session.exec(
            select(ExchangeMatchMember.user_id).where(
                ExchangeMatchMember.match_id == match.id, ExchangeMatchMember.user_id != user_id
            )
        ).all()
        found.append((name, list(others), match.status))
    return found


def parse_weights(values: Mapping[str, Any]) -> dict[str, float]:
    """Weights typed in the re-run form: numbers from 0 to 10; empty keeps the current one."""
    chosen = {}
    for name in WEIGHT_NAMES:
        raw = values.get(name)
        if raw in (None, ""):
            continue
        try:
            value = float(str(raw))
        except ValueError:
            raise UserError("Weights are numbers from 0 to 10.", field=name) from None
        if not 0 <= value <= 10:
            raise UserError("Weights are numbers from 0 to 10.", field=name)
        chosen[name] = value
    return chosen


def signed_up_to(session: Session, team_id: str, user_id: str) -> set[int]:
    rows = session.exec(
        select(ExchangeInterest.programme_id).where(
            ExchangeInterest.team_id == team_id,
            ExchangeInterest.user_id == user_id,
            col(ExchangeInterest.withdrawn_at).is_(None),
        )
    )
    return set(rows)
