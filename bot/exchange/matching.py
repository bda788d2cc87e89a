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
``FULL_GRAPH_LIMIT``); above it an inverted index (``index.py``) proposes bucket-mates who
share the strongest signals, scored exactly, each person keeping their ``INDEX_TOP_K`` best
(``WIDE_TOP_K`` from a wider reach for pairs too many to price, where nothing is priced).

Pairs (``pairs.py``): a maximum-weight matching of the candidate graph, exact (Edmonds'
blossom algorithm, rustworkx) up to ``EXACT_LIMIT`` people. Above it, the assignment
relaxation (everyone "points at" a partner or at themselves), solved by an auction (its
bidding compiled, ``compiled.py``); its cycles are cut into pairs, everyone left out is
re-solved exactly with their neighbourhood, and 2-opt swaps finish. Every pairs round
carries a ``Certificate``: the pairing's score and a proven upper bound on any pairing's
score. Up to ``PRICE_LIMIT`` people (fewer when free text spreads what people share over
many items, ``_prices_every_pair``) the bound holds for every pairing of the round
(``certify.py``): every pair is priced against the auction's dual (a compiled loop: 5
billion pairs at 100,000 people in about 17 s on two cores), the pairs the graph missed
that come near paying are added and the round solved again, and the dual is raised to
cover the rest. Above it the certificate shows the bound over the candidate pairs, and
carries a looser global one beside it (measured at 100,000 people before pricing reached
them: the index's round was 1.8% below the one pricing finds, which the candidate bound
could not show).

A person left over joins the pair (or set) they fit best when everyone in it stays
eligible; otherwise they are carried over to the next round with priority if anyone at all
was eligible for them, or told which rule left nobody for them.

Sets (``group_size`` 3 or more, ``sets.py``): groups of about that size; each seeded with
one of the hardest people to place, then taking turns to add the person who adds the most
score and fits everyone in it, then improved by swaps; certified against a simple ceiling
(everyone with their best partners).

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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.exchange import candidates, certify, index, pairs, reasons, scoring
from bot.exchange.candidates import (
    JITTER,
    PAIR_BONUS,
    PRIORITY_BONUS,
    QUANTUM,
    Graph,
    internal_weight,
)
from bot.exchange.checks import broken_rule, eligible_pair, pair_score, violations
from bot.exchange.pairs import blossom as _blossom
from bot.exchange.scoring import (
    MODE_IN_PERSON,
    ROLE_MENTOR,
    Pool,
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

    Pairs: no pairing scores more than ``bound`` (``complete``: no pairing of the round,
    ``global_bound``; else of the ``candidate_pairs`` considered, ``candidate_bound``, with
    the looser ``global_bound`` beside it; ``certify.py`` has the argument). Sets: the
    bound is each person's best possible partners, halved. Mentoring: solved exactly on
    the candidate pairs, so the bound is the score.
    """

    kind: str  # "pairs", "sets" or "mentoring"
    score: float
    bound: float
    complete: bool
    candidate_pairs: int
    reference: float | None = None  # sets: the best of several random restarts
    candidate_bound: float | None = None  # pairs: over the pairings of the candidate graph
    global_bound: float | None = None  # pairs: over every pairing of the round

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
PRICE_LIMIT = 120_000  # up to here every pair is priced, the certificate global (100,000: 46 s)
# Pairs not priced (``_prices_every_pair``): the index alone must find the round's pairs;
# a wider reach (measured at 100,000 people: +1.2% of score for +16 s).
WIDE_TOP_K = 16
WIDE_REACH = 16
_QUANTUM = QUANTUM
_JITTER = JITTER
PAUSED_REASON = "You have paused taking part"


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
        from bot.exchange import mentoring  # it builds on this module's types

        groups, carried, stuck, certificate = mentoring.solve(pool, rules, weights, seed)
    elif rules.group_size == 2:
        groups, carried, stuck, certificate = _pairs(pool, rules, weights, seed)
    else:
        from bot.exchange import sets  # it builds on this module's types

        groups, carried, stuck, certificate = sets.solve(pool, rules, weights, seed)
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
                reasons=reasons.reasons(pool, members, weights, mentor_first=rules.mentoring),
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
    return index.index_graph(pool, rules, weights, seed, min(k, INDEX_TOP_K), INDEX_REACH)


# ---------------------------------------------------------------------- pairs


def _prices_every_pair(pool: Pool) -> bool:
    """Whether the round prices every pair: up to PRICE_LIMIT people when each field's
    shared items fit one 64-bit word (5 words in all), fewer when free text spreads them
    over more: a pass over every pair costs about (words + 5) / 10 of a one-word pass
    (measured at 20,000 people with 65 words: 4.6 times)."""
    words = sum(len(bits) for bits in certify.shareable(pool).sets)
    return pool.n**2 * (words + 5) <= PRICE_LIMIT**2 * 10


def _pairs(pool: Pool, rules: Rules, weights: Weights, seed: int) -> Outcome:
    every = _prices_every_pair(pool)
    if every or pool.n <= SQUARE_LIMIT:
        graph = _build_graph(pool, rules, weights, seed, TOP_K)
    else:
        graph = index.index_graph(pool, rules, weights, seed, WIDE_TOP_K, WIDE_REACH)
    relaxed, whole = None, None  # whole: a bound over every pairing of the round
    if every and not graph.complete and len(graph.i):
        graph, relaxed, whole = certify.priced(pool, rules, weights, seed, graph)
    mate, bound, relaxed = pairs.solve(graph, pool.n <= EXACT_LIMIT, relaxed)
    if bound is not None and whole is None:  # complete, or too many pairs to price
        whole = bound.value
        if relaxed is not None and not graph.complete:  # every person's cap: loose
            whole = float(certify.capped(relaxed.y, certify.caps(pool, weights)).sum())
    groups = [[i, int(mate[i])] for i in range(pool.n) if mate[i] > i]
    certificate = None
    if bound is not None and whole is not None:
        score = 0.0
        for i, j in groups:
            score = score + pool.score(i, j, weights)
        priced = graph.complete or every  # whole is tight
        certificate = Certificate(  # no pairing of the round (or graph) scores more
            kind="pairs",
            score=score,
            bound=whole if priced else bound.value,
            complete=priced,
            candidate_pairs=bound.edges,
            candidate_bound=bound.value,
            global_bound=whole,
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
