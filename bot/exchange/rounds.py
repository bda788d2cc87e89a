"""Rounds of matching: a round is proposed (and re-run as often as the lead likes, or
two people swapped), reviewed, then approved; nothing reaches members before approval.
The sign-ups matched are in ``bot.exchange.rules``; the matcher in ``bot.exchange.matching``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

from sqlmodel import Session, col, delete, select

from bot import audit
from bot.errors import UserError
from bot.exchange import matching
from bot.exchange.rules import MENTORING_FORMATS, active_interests
from bot.roles import Actor, Role
from storage import (
    ExchangeInterest,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    ExchangeRound,
    utcnow,
)

LIVE = ("approved", "introduced", "date_set", "done")  # matches that count as having met
WEIGHT_NAMES = tuple(f.name for f in fields(matching.Weights))


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
