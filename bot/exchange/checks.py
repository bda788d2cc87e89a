"""The hard rules and the score of one pair, read straight from two candidates, and the
independent checker of a finished round (``violations``): the reference the fast
``scoring.Pool`` must agree with, to the last bit."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bot.exchange.fields import day_key, norm, shared_value
from bot.exchange.scoring import MODES, ROLES

if TYPE_CHECKING:
    from bot.exchange.matching import Candidate, Result, Rules, Weights


def eligible_pair(
    a: Candidate, b: Candidate, rules: Rules, history: frozenset[frozenset[str]]
) -> bool:
    """Whether ``a`` and ``b`` may be in the same match: every hard rule, for one pair.

    Unknown organisations or staff groups never block the "differ" rules (they cannot be
    shown to be the same); two in-person-only people need the same, known locality. Someone
    on their own do-not-pair list is ignored.
    """
    return broken_rule(a, b, rules, history) is None


def broken_rule(
    a: Candidate, b: Candidate, rules: Rules, history: frozenset[frozenset[str]]
) -> str | None:
    """The first hard rule that keeps ``a`` and ``b`` apart, or None."""
    if a.id == b.id:
        return "the same person"
    if a.paused or b.paused:
        return "paused"
    if b.id in a.do_not_pair or a.id in b.do_not_pair:
        return "do not pair"
    if frozenset((a.id, b.id)) in history:
        return "met within the cooldown"
    role_a, role_b = _known(a.role, ROLES), _known(b.role, ROLES)
    if rules.mentoring and role_a == role_b != "either":
        return f"both {role_a}s"
    if rules.differ_by_organisation:
        org = norm(a.organisation)
        if org and org == norm(b.organisation):
            return "same organisation"
    if rules.differ_by_staff_group:
        group = norm(a.staff_group)
        if group and group == norm(b.staff_group):
            return "same staff group"
    mode_a, mode_b = _known(a.mode, MODES), _known(b.mode, MODES)
    if {mode_a, mode_b} == {"in_person", "virtual"}:
        return "in person and virtual"
    if rules.same_locality_in_person and mode_a == mode_b == "in_person":
        place = norm(a.locality)
        if not place or place != norm(b.locality):
            return "in person in different places"
    days_a = {day_key(d) for d in a.availability} - {""}
    days_b = {day_key(d) for d in b.availability} - {""}
    if days_a and days_b and not days_a & days_b:
        return "no shared availability"
    return None


def _known(value: str, allowed: dict[str, int]) -> str:
    """A mode or role as the engine reads it: anything unrecognised counts as "either"."""
    return value if value in allowed else "either"


def pair_score(a: Candidate, b: Candidate, weights: Weights) -> float:
    """How good a pair ``a`` and ``b`` would be, hard rules aside. Symmetric; never negative
    when no weight is. Shared items count with diminishing returns: sqrt(shared)."""

    def shared(x: frozenset[str], y: frozenset[str]) -> int:
        return len(({norm(v) for v in x} - {""}) & ({norm(v) for v in y} - {""}))

    org_a, org_b = norm(a.organisation), norm(b.organisation)
    group_a, group_b = norm(a.staff_group), norm(b.staff_group)
    stage_a, stage_b = max(0, a.career_stage), max(0, b.career_stage)
    days_a = {day_key(d) for d in a.availability} - {""}
    days_b = {day_key(d) for d in b.availability} - {""}
    total = 0.0
    total = total + weights.professional * shared_value(
        shared(a.professional_interests, b.professional_interests)
    )
    total = total + weights.personal * shared_value(
        shared(a.personal_interests, b.personal_interests)
    )
    total = total + weights.complementarity * (
        shared_value(shared(a.offers, b.wants)) + shared_value(shared(b.offers, a.wants))
    )
    total = total + weights.cross_organisation * float(bool(org_a and org_b and org_a != org_b))
    total = total + weights.cross_staff_group * float(
        bool(group_a and group_b and group_a != group_b)
    )
    bridge = min(stage_a, stage_b) > 0 and abs(stage_a - stage_b) >= 2
    total = total + weights.career_bridge * float(bridge)
    total = total + weights.availability * float(bool(days_a & days_b))
    return total


def violations(
    result: Result,
    candidates: Sequence[Candidate],
    rules: Rules,
    history: Iterable[frozenset[str]] | frozenset = frozenset(),
) -> list[str]:
    """Every broken hard rule in ``result``, checked independently of how it was made.

    For every pair inside every match: ``eligible_pair``. Also: nobody unknown, nobody
    paused matched, nobody in two matches (a mentor in at most ``capacity``), match sizes,
    and nobody dropped silently (every non-paused candidate is in a match, carried over or
    told why they are unmatchable, exactly once).
    """
    history = frozenset(frozenset(p) for p in history)
    people = {c.id: c for c in candidates}
    active = sum(not c.paused for c in people.values())
    problems: list[str] = []
    seen: dict[str, int] = {}
    as_mentor: dict[str, int] = {}
    as_mentee: set[str] = set()
    for m in result.matches:
        for pid in m.members:
            if pid not in people:
                problems.append(f"{pid} is matched but not a candidate")
        members = [people[pid] for pid in m.members if pid in people]
        if len(set(m.members)) != len(m.members):
            problems.append(f"{m.members}: someone appears twice in one match")
        if not m.reasons or len(m.reasons) > 3 or not all(m.reasons):
            problems.append(f"{m.members}: needs one to three reasons")
        if rules.mentoring:
            if len(m.members) != 2:
                problems.append(f"{m.members}: a mentoring match is a mentor and a mentee")
            elif len(members) == 2:
                mentor, mentee = members
                if mentor.role == "mentee" or mentee.role == "mentor":
                    problems.append(f"{m.members}: roles the wrong way round")
                as_mentor[mentor.id] = as_mentor.get(mentor.id, 0) + 1
                as_mentee.add(mentee.id)
        else:
            low = 2 if rules.group_size == 2 else min(3, active)
            high = 3 if rules.group_size == 2 else rules.group_size + 1
            if not low <= len(m.members) <= high:
                problems.append(f"{m.members}: {len(m.members)} people in one match")
            for pid in m.members:
                seen[pid] = seen.get(pid, 0) + 1
        for x, a in enumerate(members):
            if a.paused:
                problems.append(f"{a.id} is paused but matched")
            for b in members[x + 1 :]:
                rule = broken_rule(a, b, rules, history)
                if rule is not None:
                    problems.append(f"{a.id} and {b.id} are matched: {rule}")
    if rules.mentoring:
        for pid, count in as_mentor.items():
            if pid in as_mentee:
                problems.append(f"{pid} is both a mentor and a mentee")
            if count > max(0, people[pid].capacity):
                problems.append(f"{pid} mentors {count}, over capacity")
        for m in result.matches:
            if len(m.members) == 2:
                seen[m.members[1]] = seen.get(m.members[1], 0) + 1
        for pid in as_mentor:
            seen.setdefault(pid, 1)
    for pid, count in seen.items():
        if count > 1:
            problems.append(f"{pid} is in {count} matches")
    accounted: dict[str, int] = dict.fromkeys(seen, 1)
    for pid in result.carried_over:
        accounted[pid] = accounted.get(pid, 0) + 1
        if pid in people and people[pid].paused:
            problems.append(f"{pid} is paused but carried over")
    for pid, reason in result.unmatchable.items():
        if not reason:
            problems.append(f"{pid} is unmatchable without a reason")
        if pid in people and people[pid].paused:
            continue
        accounted[pid] = accounted.get(pid, 0) + 1
    for pid, person in people.items():
        if person.paused:
            continue
        count = accounted.get(pid, 0)
        if count == 0:
            problems.append(f"{pid} was dropped silently")
        elif count > 1:
            problems.append(f"{pid} is accounted for {count} times")
    total = sum(m.score for m in result.matches)
    if not math.isclose(total, result.total_score, rel_tol=1e-9, abs_tol=1e-9):
        problems.append(f"total_score {result.total_score} is not the sum {total}")
    return problems
