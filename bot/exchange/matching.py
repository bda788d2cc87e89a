"""The exchange matching engine: pairs, sets and mentoring, as a pure function of its inputs.

``match`` takes one round's sign-ups, the programme's rules and weights, the pairs who met
within the cooldown, and a seed, and returns who meets whom, with plain-language reasons.
It does no I/O. The same inputs and seed give the same result, whatever the order of the
candidates (they are sorted by id first); another seed breaks ties between equally good
matchings differently (a lead's "Re-run").

Objective, for every format: first match the people carried over from the last round
(``priority``), then match as many people as possible, then maximise the total score. This
is one weight per pair, ``score + PAIR_BONUS + PRIORITY_BONUS * (carried-over people in it)``,
with the bonuses large enough that the order holds in practice.

Candidates (``candidates.py``): up to ``SQUARE_LIMIT`` people every pair is scored in numpy
row blocks and each person keeps their best ``TOP_K`` eligible partners (everyone, up to
``FULL_GRAPH_LIMIT``); above it an inverted index proposes bucket-mates who share the
strongest signals, scored exactly, each person keeping their ``INDEX_TOP_K`` best.

Pairs (``pairs.py``): a maximum-weight matching of the candidate graph, exact (Edmonds'
blossom algorithm, rustworkx) up to ``EXACT_LIMIT`` people. Above it, the assignment
relaxation (everyone "points at" a partner or at themselves), solved by an auction in
numpy; its cycles are cut into pairs, everyone left out is re-solved exactly with their
neighbourhood, and 2-opt swaps finish. Every pairs round carries a ``Certificate``: the
pairing's score and a proven upper bound on any pairing's score (of the whole round when
every eligible pair is a candidate, else of the candidate pairs), from the exact solver or
from the auction's prices (``bench/matching.py`` prints both, and the gap).

A person left over joins the pair (or set) they fit best when everyone in it stays
eligible; otherwise they are carried over to the next round with priority if anyone at all
was eligible for them, or told which rule left nobody for them.

Sets (``group_size`` 3 or more): groups of about that size; each seeded with one of the
hardest people to place, then taking turns to add the person who adds the most score and
fits everyone in it, then improved by swaps; certified against a simple ceiling (everyone
with their best partners).

Mentoring: mentees assigned to mentors, each taking up to ``capacity``: an exact min-cost
flow (OR-Tools) on the candidate pairs, capacities as arc capacities (no copied places).
Candidates: every eligible pair up to ``MENTOR_FULL_PAIRS`` mentor-mentee pairs (the
certificate is then exact for the whole round); above it each mentee's and each mentor's
``MENTOR_CHOICES`` best (scored in full up to SQUARE_LIMIT people), or each person's
``MENTOR_INDEX_K`` best across the sides from the index. The certificate's gap is 0 on the
candidate pairs, which is all it proves. Measured (bench, 5,000 people): 99.86% of the
optimum of every eligible pair; at 10,000 and 100,000 keeping 48 per person instead of 32
adds under 0.001%. 100,000 people take about 18 s (71 s was scipy's assignment on copied
places, nearly as many as mentees).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from ortools.graph.python import min_cost_flow

from bot.exchange import candidates, pairs, scoring
from bot.exchange.candidates import (
    JITTER,
    PAIR_BONUS,
    PRIORITY_BONUS,
    QUANTUM,
    Graph,
    internal_weight,
    mix,
    salt_of,
)
from bot.exchange.candidates import jitter as _jitter
from bot.exchange.pairs import blossom as _blossom
from bot.exchange.scoring import (
    MODE_IN_PERSON,
    MODES,
    ROLE_EITHER,
    ROLE_MENTEE,
    ROLE_MENTOR,
    ROLES,
    Pool,
    day_key,
    norm,
    shared_value,
)

Mode = Literal["in_person", "virtual", "either"]
Role = Literal["mentor", "mentee", "either"]

__all__ = [
    "PAIR_BONUS",
    "PRIORITY_BONUS",
    "Candidate",
    "Match",
    "Mode",
    "Result",
    "Role",
    "Rules",
    "Weights",
    "broken_rule",
    "eligible_pair",
    "match",
    "pair_score",
    "violations",
]


@dataclass(frozen=True)
class Candidate:
    id: str  # Slack user id
    staff_group: str = ""
    organisation: str = ""
    locality: str = ""  # place / footprint, e.g. "Hereford"
    professional_interests: frozenset[str] = frozenset()
    personal_interests: frozenset[str] = frozenset()
    offers: frozenset[str] = frozenset()  # "I can offer" topics
    wants: frozenset[str] = frozenset()  # "I want to learn" topics
    career_stage: int = 0  # 0 unknown, 1 student/early .. 4 senior/consultant
    availability: frozenset[str] = frozenset()  # "mon".."fri" (or week labels); empty = any
    mode: Mode = "either"
    do_not_pair: frozenset[str] = frozenset()  # ids
    paused: bool = False
    priority: bool = False  # carried over from the last round: match first
    role: Role = "either"  # mentoring programmes only
    capacity: int = 1  # mentoring: how many mentees a mentor takes


@dataclass(frozen=True)
class Rules:
    group_size: int = 2  # 2 = pairs; 3..8 = sets (action learning set, quad, Big Room table)
    mentoring: bool = False  # capacitated mentor -> mentees assignment instead
    differ_by_organisation: bool = True
    differ_by_staff_group: bool = False
    same_locality_in_person: bool = True  # two in-person-only people must share a locality


@dataclass(frozen=True)
class Weights:
    professional: float = 3.0  # per shared professional interest (diminishing)
    personal: float = 1.0
    complementarity: float = 2.0  # offer -> want matches, both directions
    cross_organisation: float = 1.0
    cross_staff_group: float = 1.0
    career_bridge: float = 0.5
    availability: float = 1.0


@dataclass(frozen=True)
class Match:
    members: tuple[str, ...]  # ids; for mentoring the mentor first
    score: float
    reasons: tuple[str, ...]  # plain language, at most 3, best first, never empty


@dataclass(frozen=True)
class Certificate:
    """How close a round is to the best possible: ``score`` against a proven ``bound``.

    Pairs: no pairing that pairs as many people scores more than ``bound`` (``complete``:
    of every pairing of the round; else of the ``candidate_pairs`` considered). Sets: the
    bound is each person's best possible partners, halved. Mentoring: solved exactly on
    the candidate pairs, so the bound is the score.
    """

    kind: str  # "pairs", "sets" or "mentoring"
    score: float
    bound: float
    complete: bool
    candidate_pairs: int
    reference: float | None = None  # sets: the best of several random restarts

    @property
    def gap(self) -> float:
        """How far below the bound the score is, as a share of the bound."""
        return max(0.0, (self.bound - self.score) / self.bound) if self.bound > 0 else 0.0


@dataclass(frozen=True)
class Result:
    matches: tuple[Match, ...]
    carried_over: tuple[str, ...]  # ids carried to the next round with priority
    unmatchable: dict[str, str]  # id -> plain reason told to the person
    total_score: float
    certificate: Certificate | None = None


TOP_K = 48  # partners kept per person above FULL_GRAPH_LIMIT (pairs)
INDEX_TOP_K = 12  # the same above SQUARE_LIMIT, where the index finds them
INDEX_REACH = 8  # proposals per person per index key
SET_TOP_K = 24  # the same for sets, at least 6 x the group size
FULL_GRAPH_LIMIT = 400  # up to here every eligible pair is an edge
SQUARE_LIMIT = 5000  # up to here every pair is scored (a proven graph); the index above
EXACT_LIMIT = 1000  # up to here blossom runs on the whole kept graph
_QUANTUM = QUANTUM
_JITTER = JITTER
PAUSED_REASON = "You have paused taking part"


# ---------------------------------------------------------------------- public helpers


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


# ---------------------------------------------------------------------- match


def match(
    candidates: Sequence[Candidate],
    rules: Rules = Rules(),
    weights: Weights = Weights(),
    *,
    history: Iterable[frozenset[str]] | frozenset = frozenset(),
    seed: int = 0,
) -> Result:
    """Match one round. See the module docstring for the objective and the algorithms."""
    if rules.group_size < 2:
        raise ValueError("group_size must be at least 2")
    people = sorted(candidates, key=lambda c: c.id)
    if len({c.id for c in people}) != len(people):
        raise ValueError("candidate ids must be unique")
    unmatchable = {c.id: PAUSED_REASON for c in people if c.paused}
    pool = Pool([c for c in people if not c.paused], history)
    if rules.mentoring:
        groups, carried, stuck, certificate = _mentoring(pool, rules, weights, seed)
    elif rules.group_size == 2:
        groups, carried, stuck, certificate = _pairs(pool, rules, weights, seed)
    else:
        groups, carried, stuck, certificate = _sets(pool, rules, weights, seed)
    matches = []
    for members in groups:
        if not rules.mentoring:
            members = sorted(members)
        score = 0.0
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                score = score + pool.score(i, j, weights)
        matches.append(
            Match(
                members=tuple(pool.ids[i] for i in members),
                score=score,
                reasons=scoring.reasons(pool, members, weights, mentor_first=rules.mentoring),
            )
        )
    matches.sort(key=lambda m: m.members)
    for i, reason in stuck.items():
        unmatchable[pool.ids[i]] = reason
    total = 0.0
    for m in matches:
        total = total + m.score
    return Result(
        matches=tuple(matches),
        carried_over=tuple(sorted(pool.ids[i] for i in carried)),
        unmatchable=dict(sorted(unmatchable.items())),
        total_score=total,
        certificate=certificate,
    )


Placed = tuple[list[list[int]], list[int], dict[int, str]]  # groups, carried, unmatchable
Outcome = tuple[list[list[int]], list[int], dict[int, str], "Certificate | None"]


# ---------------------------------------------------------------------- the graph


def _build_graph(pool: Pool, rules: Rules, weights: Weights, seed: int, k: int) -> Graph:
    """Each person's ``k`` best eligible partners: exactly, by scoring every pair, up to
    SQUARE_LIMIT people (all of them up to FULL_GRAPH_LIMIT); from the index above."""
    if pool.n <= SQUARE_LIMIT:
        return candidates.square_graph(
            pool, rules, weights, seed, k, keep_all=pool.n <= FULL_GRAPH_LIMIT
        )
    return candidates.index_graph(pool, rules, weights, seed, min(k, INDEX_TOP_K), INDEX_REACH)


# ---------------------------------------------------------------------- pairs


def _pairs(pool: Pool, rules: Rules, weights: Weights, seed: int) -> Outcome:
    graph = _build_graph(pool, rules, weights, seed, TOP_K)
    mate, bound = pairs.solve(graph, exact=pool.n <= EXACT_LIMIT)
    groups = [[i, int(mate[i])] for i in range(pool.n) if mate[i] > i]
    certificate = None
    if bound is not None:
        score = 0.0
        for i, j in groups:
            score = score + pool.score(i, j, weights)
        certificate = Certificate(  # no pairing of the graph scores more than the bound
            kind="pairs",
            score=score,
            bound=bound.value,
            complete=bound.complete,
            candidate_pairs=bound.edges,
        )
    leftovers = [i for i in range(pool.n) if mate[i] < 0]
    placed = _place_leftovers(pool, rules, weights, graph.degree, groups, leftovers, 3)
    return (*placed, certificate)


# ---------------------------------------------------------------------- leftovers


def _place_leftovers(
    pool: Pool,
    rules: Rules,
    weights: Weights,
    degree: np.ndarray,
    groups: list[list[int]],
    leftovers: list[int],
    max_size: int,
) -> Placed:
    """Nobody is dropped silently. Leftovers who fit each other pair up; then each joins the
    group it fits best (every pair inside still eligible, at most ``max_size`` people); the
    rest are carried over if anyone at all was eligible for them, else unmatchable."""
    stuck = {i: _unmatchable_reason(pool, i, rules) for i in leftovers if degree[i] == 0}
    loose = [i for i in leftovers if degree[i] > 0]
    if 2 <= len(loose) <= 2000 and rules.group_size == 2:
        groups, loose = _pair_among(pool, rules, weights, groups, loose)
    carried: list[int] = []
    if not loose:
        return groups, carried, stuck
    members = np.full((len(groups), max_size), -1, dtype=np.int64)
    for g, group in enumerate(groups):
        members[g, : len(group)] = group
    sizes = np.array([len(group) for group in groups], dtype=np.int64)
    order = sorted(loose, key=lambda i: (not pool.priority[i], i))
    chunk = max(1, min(256, (1 << 22) // max(1, pool.n)))
    rank, floor = np.zeros((0, pool.n), dtype=np.float32), 0.0
    for k, x in enumerate(order):
        if k % chunk == 0 and groups:  # their scores against everyone, a chunk at a time
            rank, floor = pool.rank_block(np.array(order[k : k + chunk]), rules, weights)
        placed = False
        room = np.flatnonzero(sizes < max_size)
        if len(room):
            row = rank[k % chunk]
            inside = members[room]
            values = np.where(inside >= 0, row[np.maximum(inside, 0)], np.float32(0))
            fits = ((values > floor) | (inside < 0)).all(axis=1)
            gain = values.sum(axis=1)
            best = room[fits][np.argsort(-gain[fits], kind="stable")]
            for g in best[:8].tolist():
                if all(pool.eligible(x, m, rules) for m in groups[g]):
                    groups[g].append(x)
                    members[g, sizes[g]] = x
                    sizes[g] += 1
                    placed = True
                    break
        if not placed:
            carried.append(x)
    return groups, carried, stuck


def _pair_among(
    pool: Pool, rules: Rules, weights: Weights, groups: list[list[int]], loose: list[int]
) -> tuple[list[list[int]], list[int]]:
    """Pair leftovers who fit each other (the kept graph may have missed the edge)."""
    a, b = np.triu_indices(len(loose), k=1)
    people = np.array(loose, dtype=np.int64)
    x, y = people[a], people[b]
    ok = pool.pair_eligible(x, y, rules)
    x, y = x[ok], y[ok]
    if len(x) == 0:
        return groups, loose
    s = pool.pair_scores(x, y, weights)
    w = internal_weight(s, pool.priority[x].astype(np.int64) + pool.priority[y], 0)
    local = {p: k for k, p in enumerate(loose)}
    mate = _blossom(
        len(loose),
        np.array([local[p] for p in x.tolist()], dtype=np.int64),
        np.array([local[p] for p in y.tolist()], dtype=np.int64),
        w,
    )
    groups = groups + [[loose[k], loose[int(mate[k])]] for k in range(len(loose)) if mate[k] > k]
    return groups, [loose[k] for k in range(len(loose)) if mate[k] < 0]


def _unmatchable_reason(
    pool: Pool, i: int, rules: Rules, among: np.ndarray | None = None, side: str = ""
) -> str:
    """Why nobody in the round could be matched with person ``i``, naming the rules.

    ``among``: whom they could have been matched with (mentoring: the other side, ``side``).
    """
    others = np.ones(pool.n, dtype=bool) if among is None else among.copy()
    others[i] = False
    if not others.any():
        if side:
            return f"There are no {side} in this round yet"
        return "Nobody else has signed up for this round yet"
    masks = pool.rule_masks(i, rules)
    remaining = others.copy()
    chosen: list[str] = []
    while remaining.any() and len(chosen) < 3:
        counts = [(int((masks[r] & remaining).sum()), -k, r) for k, r in enumerate(masks)]
        best, _, rule = max(counts)
        if best == 0:
            break
        chosen.append(rule)
        remaining &= ~masks[rule]
    if not chosen:
        return "Nobody else in this round fits the programme's rules with you"
    if len(chosen) == 1 and not remaining.any():
        return _ONLY_RULE[chosen[0]](pool, i)
    parts = [_PART_RULE[r](pool, i) for r in chosen]
    return f"Nobody in this round fits: everyone else is {_join_or(parts)}"


def _join_or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _mode_phrase(pool: Pool, i: int) -> str:
    return "in person" if pool.mode[i] == MODE_IN_PERSON else "virtually"


def _place(pool: Pool, i: int) -> str:
    code = pool.locality[i]
    return pool.localities.names[code] if code >= 0 else ""


_ONLY_RULE = {
    scoring.RULE_ROLE: lambda pool, i: (
        "There are no mentees in this round yet"
        if pool.role[i] == ROLE_MENTOR
        else "There are no mentors in this round yet"
    ),
    scoring.RULE_ORGANISATION: lambda pool, i: (
        "Nobody else in this round is from a different organisation"
    ),
    scoring.RULE_STAFF_GROUP: lambda pool, i: (
        "Nobody else in this round is from a different staff group"
    ),
    scoring.RULE_MODE: lambda pool, i: (
        f"Nobody else in this round can meet {_mode_phrase(pool, i)}"
    ),
    scoring.RULE_LOCALITY: lambda pool, i: (
        f"Nobody else who meets in person is in {_place(pool, i)}"
        if _place(pool, i)
        else "In-person exchanges need your locality, and nobody else can meet virtually"
    ),
    scoring.RULE_AVAILABILITY: lambda pool, i: (
        "Nobody else in this round is free on the same days as you"
    ),
    scoring.RULE_HISTORY: lambda pool, i: "You have met everyone else in this round recently",
    scoring.RULE_DO_NOT_PAIR: lambda pool, i: (
        "Nobody else in this round is available to pair with you"
    ),
}
_PART_RULE = {
    scoring.RULE_ROLE: lambda pool, i: (
        "also a mentor" if pool.role[i] == ROLE_MENTOR else "also a mentee"
    ),
    scoring.RULE_ORGANISATION: lambda pool, i: "from your organisation",
    scoring.RULE_STAFF_GROUP: lambda pool, i: "in your staff group",
    scoring.RULE_MODE: lambda pool, i: (
        "meeting only virtually" if pool.mode[i] == MODE_IN_PERSON else "meeting only in person"
    ),
    scoring.RULE_LOCALITY: lambda pool, i: "meeting in person somewhere else",
    scoring.RULE_AVAILABILITY: lambda pool, i: "free on other days",
    scoring.RULE_HISTORY: lambda pool, i: "someone you met recently",
    scoring.RULE_DO_NOT_PAIR: lambda pool, i: "not available to pair with you",
}


# ---------------------------------------------------------------------- sets


SET_LOOKS = 24  # candidates checked in full per pick when growing sets
SWAP_NEIGHBOURS = 8  # partners looked at per person when improving sets by swaps
SWAP_BUDGET = 30_000  # swap evaluations at most (a count, not a time, so deterministic)


def group_sizes(n: int, size: int) -> list[int]:
    """Sizes for ``n`` people in groups of about ``size``: within one of it, never under 3
    unless the whole round is; bigger groups first. The sizes may add up to less than ``n``
    when no split fits (5 people in sets of 3: one group of 4, one carried over)."""
    if n < 3:
        return [n] if n == 2 else []
    if n <= size + 1:
        return [n]
    high = size + 1
    for low in (max(3, size - 1), 3):
        best: tuple[int, int, int] | None = None  # (distance from size, -exact groups, groups)
        for g in range(max(1, n // high), n // low + 1):
            q, r = divmod(n, g)
            if q < low or (q + 1 if r else q) > high:
                continue
            cost = r * abs(q + 1 - size) + (g - r) * abs(q - size)
            exact = r * (q + 1 == size) + (g - r) * (q == size)
            if best is None or (cost, -exact) < best[:2]:
                best = (cost, -exact, g)
        if best is not None:
            q, r = divmod(n, best[2])
            return [q + 1] * r + [q] * (best[2] - r)
    return group_sizes(n - 1, size)


def _sets(pool: Pool, rules: Rules, weights: Weights, seed: int) -> Outcome:
    n, size = pool.n, rules.group_size
    graph = _build_graph(pool, rules, weights, seed, max(SET_TOP_K, 6 * size))
    adj = graph.neighbours()
    stuck = {i: _unmatchable_reason(pool, i, rules) for i in range(n) if graph.degree[i] == 0}
    placeable = [i for i in range(n) if graph.degree[i] > 0]
    caps = group_sizes(len(placeable), size)
    groups = _grow_sets(pool, rules, weights, graph, adj, placeable, caps, seed)
    groups = _swap_sets(pool, rules, weights, adj, groups)
    least = min(3, n)  # never under 3 unless the whole round is
    placed = {i for group in groups for i in group}
    small = [group for group in groups if len(group) < least]
    groups = [group for group in groups if len(group) >= least]
    leftovers = [i for i in placeable if i not in placed] + [i for g in small for i in g]
    groups, carried, more = _place_leftovers(
        pool, rules, weights, graph.degree, groups, leftovers, size + 1
    )
    stuck.update(more)
    return groups, carried, stuck, _sets_certificate(pool, weights, graph, adj, groups)


def _sets_certificate(
    pool: Pool,
    weights: Weights,
    graph: Graph,
    adj: list[dict[int, float]],
    groups: list[list[int]],
) -> Certificate:
    """The sets' score against a simple bound: everyone with their best partners (as many as
    their set has other members), halved, since each pair counts from both ends. Exact
    best partners up to SQUARE_LIMIT people (a bound for every grouping of the round into
    sets of these sizes), else the best the index found."""
    score, bound = 0.0, 0.0
    for group in groups:
        for x, i in enumerate(group):
            for j in group[x + 1 :]:
                score = score + pool.score(i, j, weights)
            mates = {j: pool.score(i, j, weights) for j in group if j != i}
            best = sorted({**adj[i], **mates}.values(), reverse=True)[: len(group) - 1]
            bound += sum(best) / 2
    return Certificate(
        kind="sets",
        score=score,
        bound=bound,
        complete=pool.n <= SQUARE_LIMIT,
        candidate_pairs=len(graph.i),
    )


def _grow_sets(
    pool: Pool,
    rules: Rules,
    weights: Weights,
    graph: Graph,
    adj: list[dict[int, float]],
    people: list[int],
    caps: list[int],
    seed: int,
) -> list[list[int]]:
    """Seed each group with one of the hardest people to place (carried over first, then the
    fewest eligible partners), then let the groups take turns choosing the person who adds
    the most score and fits everyone already in it."""
    if not caps:
        return []
    tie = _tie_break(seed, pool.n)
    order = sorted(people, key=lambda i: (not pool.priority[i], int(graph.degree[i]), tie[i]))
    groups = [[i] for i in order[: len(caps)]]
    taken = np.zeros(pool.n, dtype=bool)
    taken[order[: len(caps)]] = True
    gains: list[dict[int, float]] = []  # per group: candidate -> summed score with members
    touches: list[dict[int, int]] = []  # per group: candidate -> members they are kept with
    for group in groups:
        gains.append(dict(adj[group[0]]))
        touches.append(dict.fromkeys(adj[group[0]], 1))
    rest = [i for i in order[len(caps) :]]
    cursor = 0
    for _ in range(1, max(caps)):
        for g, group in enumerate(groups):
            if len(group) >= caps[g]:
                continue
            best, best_gain = -1, -math.inf
            # The most promising candidates: kept with the most members, then best summed.
            ranked = sorted(
                ((touches[g][c], gain, c) for c, gain in gains[g].items() if not taken[c]),
                key=lambda t: (-t[0], -t[1], tie[t[2]]),
            )
            for touched, gain, c in ranked[:SET_LOOKS]:
                if touched < len(group):
                    kept = adj[c]
                    if not all(m in kept or pool.eligible(c, m, rules) for m in group):
                        continue
                    gain += sum(pool.score(c, m, weights) for m in group if m not in kept)
                if gain > best_gain or (gain == best_gain and tie[c] < tie[best]):
                    best, best_gain = c, gain
            if best < 0:  # nobody kept with all members: look further, in order
                while cursor < len(rest) and taken[rest[cursor]]:
                    cursor += 1
                for c in rest[cursor : cursor + 200]:
                    if taken[c] or not all(pool.eligible(c, m, rules) for m in group):
                        continue
                    gain = sum(pool.score(c, m, weights) for m in group)
                    if gain > best_gain:
                        best, best_gain = c, gain
            if best < 0:
                continue
            group.append(best)
            taken[best] = True
            for c, s in adj[best].items():
                if not taken[c]:
                    gains[g][c] = gains[g].get(c, 0.0) + s
                    touches[g][c] = touches[g].get(c, 0) + 1
    return groups


def _tie_break(seed: int, n: int) -> list[int]:
    """A seeded order of people for breaking ties (another seed, another order)."""
    return mix(np.arange(n, dtype=np.uint64) ^ salt_of(seed)).tolist()


def _swap_sets(
    pool: Pool,
    rules: Rules,
    weights: Weights,
    adj: list[dict[int, float]],
    groups: list[list[int]],
) -> list[list[int]]:
    """Swap two people between groups while that raises the total and keeps every pair
    inside each group eligible; at most SWAP_BUDGET evaluations (a count, so the result
    does not depend on the machine's speed)."""
    where = {i: g for g, group in enumerate(groups) for i in group}
    cache: dict[tuple[int, int], float] = {}

    def score(x: int, y: int) -> float:
        known = adj[x].get(y)
        if known is not None:
            return known
        key = (x, y) if x < y else (y, x)
        value = cache.get(key)
        if value is None:
            value = cache[key] = pool.score(x, y, weights)
        return value

    def with_group(x: int, group: list[int], without: int) -> float:
        total = 0.0
        for m in group:
            if m != x and m != without:
                total += score(x, m)
        return total

    def fits(x: int, group: list[int], without: int) -> bool:
        kept = adj[x]
        return all(m == without or m in kept or pool.eligible(x, m, rules) for m in group)

    within = {x: with_group(x, groups[g], -1) for x, g in where.items()}
    budget = SWAP_BUDGET
    for x in sorted(where):
        partners = sorted(adj[x].items(), key=lambda item: (-item[1], item[0]))
        for y, xy in partners[:SWAP_NEIGHBOURS]:
            gx, gy = where[x], where.get(y)
            if gy is None or gx == gy:
                continue
            if budget <= 0:
                return groups
            budget -= 1
            a, b = groups[gx], groups[gy]
            gain = with_group(x, b, y) + with_group(y, a, x) - within[x] - within[y]
            if gain <= 1e-9 or not fits(x, b, y) or not fits(y, a, x):
                continue
            a[a.index(x)] = y
            b[b.index(y)] = x
            where[x], where[y] = gy, gx
            for group in (a, b):
                for m in group:
                    within[m] = with_group(m, group, -1)
            del xy
    return groups


# ---------------------------------------------------------------------- mentoring


MENTOR_CHOICES = 32  # mentors kept per mentee (and mentees per mentor) in large rounds
MENTOR_FULL_PAIRS = 2_000_000  # up to this many mentor-mentee pairs, all eligible ones kept
MENTOR_INDEX_K = 32  # partners per person from the index (above SQUARE_LIMIT)


def _mentoring(pool: Pool, rules: Rules, weights: Weights, seed: int) -> Outcome:
    """Mentees to mentors, each mentor taking at most ``capacity``: an optimal assignment of
    mentees to mentor places. People who said "either" take whichever side is short, the
    most senior becoming mentors."""
    n = pool.n
    mentors = [i for i in range(n) if pool.role[i] == ROLE_MENTOR and pool.capacity[i] > 0]
    mentees = [i for i in range(n) if pool.role[i] == ROLE_MENTEE]
    either = [i for i in range(n) if pool.role[i] == ROLE_EITHER]
    stuck = {
        i: "You have no mentoring places this round"
        for i in range(n)
        if pool.role[i] == ROLE_MENTOR and pool.capacity[i] <= 0
    }
    either.sort(key=lambda i: (-pool.stage[i], i))
    willing = [i for i in either if pool.capacity[i] > 0]
    places = sum(pool.capacity[i] for i in mentors)
    takers = len(mentees) + len(either)
    best_m, best = 0, (min(places, takers), -abs(places - takers))
    for m, i in enumerate(willing, start=1):
        places += pool.capacity[i]
        takers -= 1
        key = (min(places, takers), -abs(places - takers))
        if key > best:  # the most matches possible, then the least spare
            best_m, best = m, key
    mentors = sorted(mentors + willing[:best_m])
    chosen = set(willing[:best_m])
    mentees = sorted(mentees + [i for i in either if i not in chosen])
    side = np.zeros(n, dtype=bool)
    side[mentors] = True
    if not mentors or not mentees:
        for i in mentors:
            stuck[i] = "There are no mentees in this round yet"
        for i in mentees:
            stuck[i] = "There are no mentors in this round yet"
        return [], [], stuck, None
    mentor_idx = np.array(mentors, dtype=np.int64)
    mentee_idx = np.array(mentees, dtype=np.int64)
    if n <= SQUARE_LIMIT:
        a, b, mentee_degree, mentor_degree, complete = _mentor_pairs_square(
            pool, rules, weights, mentor_idx, mentee_idx
        )
    else:
        a, b, mentee_degree, mentor_degree = _mentor_pairs_index(
            pool, rules, weights, seed, side, mentor_idx, mentee_idx
        )
        complete = False
    assigned = _assign_mentees(pool, weights, seed, mentee_idx, mentor_idx, a, b)
    groups = [
        [int(mentor_idx[assigned[k]]), int(mentee_idx[k])] for k in np.flatnonzero(assigned >= 0)
    ]
    busy = {int(mentor_idx[m]) for m in assigned[assigned >= 0]}
    carried: list[int] = []
    for k, i in enumerate(mentees):
        if assigned[k] < 0:
            if mentee_degree[k] > 0:
                carried.append(i)
            else:
                stuck[i] = _unmatchable_reason(pool, i, rules, side, "mentors")
    mentee_side = np.zeros(n, dtype=bool)
    mentee_side[mentees] = True
    for k, i in enumerate(mentors):
        if i not in busy:
            if mentor_degree[k] > 0:
                carried.append(i)
            else:
                stuck[i] = _unmatchable_reason(pool, i, rules, mentee_side, "mentees")
    score = 0.0
    for mentor, mentee in groups:
        score = score + pool.score(mentor, mentee, weights)
    certificate = Certificate(  # an optimal assignment of the candidate pairs: score = bound
        kind="mentoring", score=score, bound=score, complete=complete, candidate_pairs=len(a)
    )
    return groups, carried, stuck, certificate


def _mentor_pairs_square(
    pool: Pool, rules: Rules, weights: Weights, mentor_idx: np.ndarray, mentee_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Every eligible mentor for each mentee (when there are many: each mentee's best
    MENTOR_CHOICES mentors and each mentor's best MENTOR_CHOICES mentees, so no mentor is
    left out because nobody ranks them first), scoring every mentee against everyone:
    (mentee, mentor) positions, each side's count of eligible partners, and whether every
    eligible pair is kept."""
    n = pool.n
    small = len(mentor_idx) * len(mentee_idx) <= MENTOR_FULL_PAIRS
    choices = None if small else min(len(mentor_idx), MENTOR_CHOICES)
    rows_a: list[np.ndarray] = []
    cols_b: list[np.ndarray] = []
    mentee_degree = np.zeros(len(mentee_idx), dtype=np.int64)
    mentor_degree = np.zeros(len(mentor_idx), dtype=np.int64)
    step = max(1, (1 << 20) // n)
    if choices is not None:  # each mentor's best mentees so far, over the row blocks
        best_value = np.full((choices, len(mentor_idx)), -np.inf, dtype=np.float32)
        best_row = np.full((choices, len(mentor_idx)), -1, dtype=np.int64)
    for start in range(0, len(mentee_idx), step):
        rows = mentee_idx[start : start + step]
        rank, floor = pool.rank_block(rows, rules, weights)
        sub = rank[:, mentor_idx]
        eligible = sub > floor
        mentee_degree[start : start + step] = eligible.sum(axis=1)
        mentor_degree += eligible.sum(axis=0)
        if choices is None:
            r, c = np.nonzero(eligible)
        else:
            top = np.argpartition(-sub, choices - 1, axis=1)[:, :choices]
            ok = np.take_along_axis(eligible, top, axis=1)
            r = np.broadcast_to(np.arange(len(rows))[:, None], top.shape)[ok]
            c = top[ok]
            value = np.vstack([best_value, np.where(eligible, sub, -np.inf)])
            here = np.broadcast_to(start + np.arange(len(rows))[:, None], sub.shape)
            row = np.vstack([best_row, here])
            keep = np.argpartition(-value, choices - 1, axis=0)[:choices]
            best_value = np.take_along_axis(value, keep, axis=0)
            best_row = np.take_along_axis(row, keep, axis=0)
        rows_a.append(start + r)
        cols_b.append(c)
    if choices is not None:
        found = np.isfinite(best_value)
        rows_a.append(best_row[found])
        cols_b.append(np.broadcast_to(np.arange(len(mentor_idx)), best_row.shape)[found])
    a = np.concatenate(rows_a).astype(np.int64)  # mentee positions
    b = np.concatenate(cols_b).astype(np.int64)  # mentor positions
    key = candidates.unique_sorted(a * len(mentor_idx) + b)
    a, b = key // len(mentor_idx), key % len(mentor_idx)
    ok = pool.pair_eligible(mentee_idx[a], mentor_idx[b], rules)
    return a[ok], b[ok], mentee_degree, mentor_degree, choices is None


def _mentor_pairs_index(
    pool: Pool,
    rules: Rules,
    weights: Weights,
    seed: int,
    side: np.ndarray,
    mentor_idx: np.ndarray,
    mentee_idx: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mentor-mentee candidate pairs from the index (no square): each person's best
    partners across the two sides; anyone left with none is scored against the whole
    other side. Degrees count the pairs found (at least one when anyone fits)."""
    n = pool.n
    graph = candidates.index_graph(
        pool, rules, weights, seed, MENTOR_INDEX_K, INDEX_REACH, side=side
    )
    x, y = graph.i, graph.j
    mentee_at = np.full(n, -1, dtype=np.int64)
    mentee_at[mentee_idx] = np.arange(len(mentee_idx))
    mentor_at = np.full(n, -1, dtype=np.int64)
    mentor_at[mentor_idx] = np.arange(len(mentor_idx))
    a = np.where(side[x], mentee_at[y], mentee_at[x])
    b = np.where(side[x], mentor_at[x], mentor_at[y])
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    for people, others, other_at, mine in (
        (mentee_idx, mentor_idx, mentor_at, True),
        (mentor_idx, mentee_idx, mentee_at, False),
    ):
        count = np.bincount(a if mine else b, minlength=len(people))
        short = np.flatnonzero(count == 0)
        for start in range(0, len(short), max(1, (1 << 22) // n)):
            rows = people[short[start : start + max(1, (1 << 22) // n)]]
            rank, floor = pool.rank_block(rows, rules, weights)
            sub = rank[:, others]
            k = min(MENTOR_INDEX_K, len(others))
            top = np.argpartition(-sub, k - 1, axis=1)[:, :k]
            fits = np.take_along_axis(sub, top, axis=1) > floor
            r = np.broadcast_to(np.arange(len(rows))[:, None], top.shape)[fits]
            found = others[top[fits]]
            me = rows[r]
            ok = pool.pair_eligible(me, found, rules)
            me, found = me[ok], found[ok]
            if mine:
                a = np.concatenate([a, mentee_at[me]])
                b = np.concatenate([b, other_at[found]])
            else:
                a = np.concatenate([a, other_at[found]])
                b = np.concatenate([b, mentor_at[me]])
    key = candidates.unique_sorted(a * len(mentor_idx) + b)
    a, b = key // len(mentor_idx), key % len(mentor_idx)
    mentee_degree = np.bincount(a, minlength=len(mentee_idx)).astype(np.int64)
    mentor_degree = np.bincount(b, minlength=len(mentor_idx)).astype(np.int64)
    return a, b, mentee_degree, mentor_degree


def _assign_mentees(
    pool: Pool,
    weights: Weights,
    seed: int,
    mentee_idx: np.ndarray,
    mentor_idx: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
) -> np.ndarray:
    """Optimal assignment of mentees (rows) to mentor places; each mentee may stay
    unassigned at no gain. Returns each mentee's mentor position, or -1.

    Solved exactly as a min-cost flow (OR-Tools' cost scaling): one unit from each mentee,
    through a candidate pair to its mentor (cost: minus the pair's integer weight) or
    straight to the sink (unassigned, cost 0), and from each mentor to the sink up to their
    capacity. Capacities are arc capacities, so mentor places are never copied: the same
    optimum as an assignment to expanded places (scipy's sparse Jonker-Volgenant took 71 s
    at 100,000 people, where places nearly equal mentees; this takes about 3 s)."""
    m, k = len(mentee_idx), len(mentor_idx)
    assigned = np.full(m, -1, dtype=np.int64)
    if len(a) == 0:
        return assigned
    x, y = mentee_idx[a], mentor_idx[b]
    score = pool.pair_scores(x, y, weights)
    # The mentee's carry-over bonus is on the pair; a carried-over mentor's is on their
    # first place only (an arc of capacity 1 to the sink), so they get one mentee first.
    weight = internal_weight(score, pool.priority[x].astype(np.int64), _jitter(seed, x, y))
    caps = np.array([pool.capacity[i] for i in mentor_idx.tolist()], dtype=np.int64)
    first = pool.priority[mentor_idx].astype(bool) & (caps > 0)
    bonus = round(PRIORITY_BONUS * QUANTUM) * JITTER
    sink = m + k
    mentors = m + np.arange(k, dtype=np.int64)
    tails = np.concatenate([a, np.arange(m), mentors, mentors[first]])
    heads = np.concatenate([m + b, np.full(m + k + int(first.sum()), sink)])
    capacity = np.concatenate(
        [np.ones(len(a) + m, dtype=np.int64), caps - first, np.ones(int(first.sum()), np.int64)]
    )
    cost = np.concatenate(
        [-weight, np.zeros(m + k, dtype=np.int64), np.full(int(first.sum()), -bonus)]
    ).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacity, cost)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:m] = 1
    supplies[sink] = -m
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:  # cannot happen: every mentee may go straight to the sink
        raise RuntimeError(f"mentoring assignment failed: {status}")
    used = flow.flows(arcs[: len(a)]) > 0
    assigned[a[used]] = b[used]
    return assigned
