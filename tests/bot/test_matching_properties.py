"""Properties of the matching engine over random rounds, rules and weights (hypothesis)."""

from __future__ import annotations

import random
from contextlib import nullcontext
from functools import cache
from itertools import combinations
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.exchange import matching
from bot.exchange.matching import (
    PAIR_BONUS,
    PRIORITY_BONUS,
    Candidate,
    Result,
    Rules,
    Weights,
    eligible_pair,
    match,
    pair_score,
    violations,
)
from bot.exchange.scoring import Pool

THEMES = ["Frailty", "frailty ", "Cancer", "Prevention", "Mental health", "Digital and data"]
HOBBIES = ["Running", "Baking", "Choir", "Walking"]
TOPICS = ["QI coaching", "Data analysis", "Audit", "Facilitation"]
DAYS = ["mon", "Tuesday", "tue", "wed", "thu", "fri", "week 2"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


ORGS = ["", "Trust", "trust ", "Practice", "Council", "Hospice", "Trust", "Practice"]
STAFF = ["", "Medical", "Nursing", "Pharmacy"]
PLACES = ["", "Hereford", "Ledbury", "Hereford"]
MODES = ["either", "either", "in_person", "virtual"]
ROLES = ["mentor", "mentee", "either", "mentee"]


def _bits(value: int, start: int, width: int) -> int:
    return (value >> start) & ((1 << width) - 1)


def _subset(items: list[str], mask: int) -> frozenset[str]:
    return frozenset(item for k, item in enumerate(items) if mask >> k & 1)


def candidate(k: int, genes: int, n: int) -> Candidate:
    """A candidate decoded from one integer, so hypothesis draws (and shrinks) quickly:
    smaller integers are plainer people."""
    return Candidate(
        id=f"U{k:02d}",
        organisation=ORGS[_bits(genes, 0, 3)],
        staff_group=STAFF[_bits(genes, 3, 2)],
        locality=PLACES[_bits(genes, 5, 2)],
        professional_interests=_subset(THEMES, _bits(genes, 7, 6)),
        personal_interests=_subset(HOBBIES, _bits(genes, 13, 4)),
        offers=_subset(TOPICS, _bits(genes, 17, 4)),
        wants=_subset(TOPICS, _bits(genes, 21, 4)),
        career_stage=_bits(genes, 25, 3) % 5,
        availability=_subset(DAYS, _bits(genes, 28, 7)),
        mode=MODES[_bits(genes, 35, 2)],  # type: ignore[arg-type]
        paused=_bits(genes, 37, 3) == 7,
        priority=_bits(genes, 40, 3) == 7,
        role=ROLES[_bits(genes, 43, 2)],  # type: ignore[arg-type]
        capacity=_bits(genes, 45, 2),
        do_not_pair=(
            frozenset({f"U{_bits(genes, 49, 6) % n:02d}"})
            if _bits(genes, 47, 2) == 3
            else frozenset()
        ),
    )


@st.composite
def rounds(draw: st.DrawFn, most: int = 18) -> tuple[list[Candidate], frozenset, Rules]:
    genes = draw(st.lists(st.integers(0, 2**56 - 1), max_size=most))
    n = len(genes)
    people = [candidate(k, g, n) for k, g in enumerate(genes)]
    met: frozenset[frozenset[str]] = frozenset()
    if n >= 2:
        ends = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
        met = frozenset(
            frozenset({f"U{i:02d}", f"U{j:02d}"})
            for i, j in draw(st.lists(ends, max_size=n))
            if i != j
        )
    rules = Rules(
        group_size=draw(st.sampled_from([2, 2, 3, 4, 5])),
        mentoring=draw(st.sampled_from([False, False, True])),
        differ_by_organisation=draw(st.booleans()),
        differ_by_staff_group=draw(st.booleans()),
        same_locality_in_person=draw(st.booleans()),
    )
    return people, met, rules


weights_strategy = st.builds(
    Weights, *[st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]) for _ in range(7)]
)


def at_scale(on: bool, keep: int = 3) -> mock._patch | nullcontext:  # type: ignore[type-arg]
    """The solver used for big rounds forced onto a small one, keeping ``keep`` partners
    per person."""
    if not on:
        return nullcontext()
    return mock.patch.multiple(matching, EXACT_LIMIT=0, FULL_GRAPH_LIMIT=0, TOP_K=keep)


@SETTINGS
@given(rounds(), weights_strategy, st.integers(0, 2**31), st.booleans())
def test_results_keep_every_rule_and_account_for_everyone(
    round_: tuple[list[Candidate], frozenset, Rules], weights: Weights, seed: int, big: bool
) -> None:
    people, met, rules = round_
    with at_scale(big):
        result = match(people, rules, weights, history=met, seed=seed)
    assert violations(result, people, rules, met) == []
    # Every candidate who has not paused appears exactly once; mentors may mentor several.
    where: dict[str, int] = {}
    for m in result.matches:
        for pid in m.members[1:] if rules.mentoring else m.members:
            where[pid] = where.get(pid, 0) + 1
        if rules.mentoring:
            where.setdefault(m.members[0], 1)
    for pid in result.carried_over:
        where[pid] = where.get(pid, 0) + 1
    for p in people:
        if p.paused:
            assert result.unmatchable[p.id] == "You have paused taking part"
            assert p.id not in where
        else:
            assert where.get(p.id, 0) + (p.id in result.unmatchable) == 1
    assert result.total_score == sum(m.score for m in result.matches) or np.isclose(
        result.total_score, sum(m.score for m in result.matches)
    )


@SETTINGS
@given(rounds(most=14), weights_strategy, st.integers(0, 2**31), st.integers(0, 1000))
def test_the_same_input_gives_the_same_result_in_any_order(
    round_: tuple[list[Candidate], frozenset, Rules], weights: Weights, seed: int, order: int
) -> None:
    people, met, rules = round_
    first = match(people, rules, weights, history=met, seed=seed)
    shuffled = people[:]
    random.Random(order).shuffle(shuffled)
    assert match(shuffled, rules, weights, history=list(met), seed=seed) == first


@settings(max_examples=100, deadline=None)
@given(rounds(most=12), weights_strategy)
def test_scores_and_rules_agree_between_the_fast_paths_and_the_definitions(
    round_: tuple[list[Candidate], frozenset, Rules], weights: Weights
) -> None:
    people, met, rules = round_
    pool = Pool([p for p in people if not p.paused], met)
    if pool.n < 2:
        return
    a, b = np.triu_indices(pool.n, k=1)
    scores = pool.pair_scores(a, b, weights)
    eligible = pool.pair_eligible(a, b, rules)
    rank, floor = pool.rank_block(np.arange(pool.n), rules, weights)
    for k, (i, j) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        x, y = pool.people[i], pool.people[j]
        assert scores[k] == pair_score(x, y, weights) == pool.score(i, j, weights)
        assert eligible[k] == eligible_pair(x, y, rules, met) == (rank[i, j] > floor)
        assert eligible[k] == (not pool.blockers(i, j, rules))


@settings(max_examples=100, deadline=None)
@given(rounds(most=12), weights_strategy, st.booleans())
def test_pairs_are_optimal(
    round_: tuple[list[Candidate], frozenset, Rules], weights: Weights, big: bool
) -> None:
    people, met, _ = round_
    rules = Rules()
    with at_scale(big, keep=len(people)):  # the relaxation on the whole graph
        result = match(people, rules, weights, history=met)
    assert abs(matched_value(result, people, weights) - best_matching(people, weights, met)) < 0.01


def best_matching(people: list[Candidate], weights: Weights, met: frozenset) -> float:
    """The most (score + bonuses) any matching of the round reaches (dynamic programming)."""
    active = [p for p in people if not p.paused]
    n = len(active)
    value: dict[tuple[int, int], float] = {}
    for i, j in combinations(range(n), 2):
        a, b = active[i], active[j]
        if eligible_pair(a, b, Rules(), met):
            bonus = PAIR_BONUS + PRIORITY_BONUS * (a.priority + b.priority)
            value[i, j] = pair_score(a, b, weights) + bonus

    @cache
    def best(free: int) -> float:
        if not free:
            return 0.0
        i = (free & -free).bit_length() - 1
        rest = free & ~(1 << i)
        top = best(rest)
        for j in range(i + 1, n):
            if rest >> j & 1 and (i, j) in value:
                top = max(top, value[i, j] + best(rest & ~(1 << j)))
        return top

    return best((1 << n) - 1)


def matched_value(result: Result, people: list[Candidate], weights: Weights) -> float:
    """The matching inside a result, each trio counted by its best pair (still a matching)."""
    by_id = {p.id: p for p in people}
    total = 0.0
    for m in result.matches:
        total += max(
            pair_score(by_id[x], by_id[y], weights)
            + PAIR_BONUS
            + PRIORITY_BONUS * (by_id[x].priority + by_id[y].priority)
            for x, y in combinations(m.members, 2)
        )
    return total


@SETTINGS
@given(rounds(), weights_strategy, st.integers(0, 2**31), st.integers(0, 1000))
def test_the_index_and_auction_keep_every_rule_in_any_order(
    round_: tuple[list[Candidate], frozenset, Rules], weights: Weights, seed: int, order: int
) -> None:
    """The path for large rounds (candidates from the index, pairs by the auction) forced
    onto small ones: every rule kept, everyone accounted for, the same round in any order."""
    people, met, rules = round_
    with mock.patch.multiple(matching, SQUARE_LIMIT=0, EXACT_LIMIT=0, FULL_GRAPH_LIMIT=0):
        first = match(people, rules, weights, history=met, seed=seed)
        shuffled = people[:]
        random.Random(order).shuffle(shuffled)
        again = match(shuffled, rules, weights, history=list(met), seed=seed)
    assert violations(first, people, rules, met) == []
    assert again == first
    if first.certificate is not None:
        assert first.certificate.score <= first.certificate.bound + 1e-9
