"""The pairs certificate's bound holds over every pairing of the round, not only over the
candidate pairs the solver kept (``bot/exchange/certify.py`` has the argument).

Each round here is small enough to solve exactly over every eligible pair (networkx's
blossom on the scores), with the hard rules on (organisations, places, free days, history,
do-not-pair, paused people); the candidate graph is made thin on purpose."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import combinations

import networkx as nx
import numpy as np
import pytest

from bot.exchange import certify, compiled, matching
from bot.exchange.matching import (
    Candidate,
    Rules,
    Weights,
    eligible_pair,
    match,
    pair_score,
    violations,
)
from bot.exchange.scoring import Pool
from tests.bot.test_matching import community

RULES = [Rules(), Rules(differ_by_staff_group=True)]


def optimum(people: list[Candidate], rules: Rules, weights: Weights, met: frozenset) -> float:
    """The best total score of any pairing of the round: an exact maximum-weight matching
    of every eligible pair."""
    graph = nx.Graph()
    active = [p for p in people if not p.paused]
    for a, b in combinations(active, 2):
        if eligible_pair(a, b, rules, met):
            graph.add_edge(a.id, b.id, weight=pair_score(a, b, weights))
    return sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph))


@pytest.fixture
def thin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each person keeps only their best partner or two; the auction, not blossom."""
    monkeypatch.setattr(matching, "FULL_GRAPH_LIMIT", 0)
    monkeypatch.setattr(matching, "EXACT_LIMIT", 0)
    monkeypatch.setattr(matching, "TOP_K", 2)


@pytest.mark.parametrize("rules", RULES)
@pytest.mark.parametrize("trial", range(6))
def test_the_bound_holds_for_every_pairing_of_the_round(
    thin: None, trial: int, rules: Rules
) -> None:
    rng = random.Random(700 + trial)
    people, met = community(rng.randint(30, 90), seed=trial)
    result = match(people, rules, Weights(), history=met, seed=trial)
    assert violations(result, people, rules, met) == []
    found = result.certificate
    assert found is not None and found.complete  # small rounds: every pair is priced
    assert found.bound == found.global_bound
    best = optimum(people, rules, Weights(), met)
    assert best <= found.bound + 1e-9
    assert found.score <= best + 1e-9
    assert found.gap < 0.01


def test_a_thin_graph_gets_an_honest_larger_gap(
    thin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each person keeping one partner and the pairs pricing finds not added: the global
    bound covers the pairs the graph left out, so it is above the candidate pairs' bound
    and above the best pairing of the round, and its gap is larger than the same round's
    with the pairs pricing finds added."""
    monkeypatch.setattr(matching, "TOP_K", 1)
    monkeypatch.setattr(certify, "COLUMN_ROUNDS", 0)
    for trial in range(6):
        people, met = community(60, seed=40 + trial)
        found = match(people, Rules(), Weights(), history=met, seed=1).certificate
        assert found is not None and found.candidate_bound is not None
        best = optimum(people, Rules(), Weights(), met)
        assert best <= found.bound + 1e-9 and found.bound == found.global_bound
        assert found.bound > found.candidate_bound
        with monkeypatch.context() as wider:
            wider.setattr(certify, "COLUMN_ROUNDS", 2)
            wider.setattr(matching, "TOP_K", 2)
            better = match(people, Rules(), Weights(), history=met, seed=1).certificate
        assert better is not None and better.gap < found.gap


def test_rounds_too_large_to_price_show_the_candidate_bound_and_a_global_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index, no pricing: the certificate says it covers the candidate pairs; its
    global bound, from every person's cap, is looser but holds for every pairing."""
    monkeypatch.setattr(matching, "SQUARE_LIMIT", 0)
    monkeypatch.setattr(matching, "EXACT_LIMIT", 0)
    monkeypatch.setattr(matching, "PRICE_LIMIT", 0)
    for trial in range(4):
        people, met = community(80, seed=60 + trial)
        found = match(people, Rules(), Weights(), history=met, seed=1).certificate
        assert found is not None and not found.complete
        assert found.bound == found.candidate_bound
        assert found.global_bound is not None and found.global_bound >= found.bound
        assert optimum(people, Rules(), Weights(), met) <= found.global_bound + 1e-9


def test_free_text_spread_over_many_items_is_priced_only_while_that_stays_affordable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each 64 shared items is a pass over every pair: a round whose offers and wants
    spread over hundreds of shared topics falls back to the candidate bound (and the loose
    global one) at a size where a round of few topics is priced."""
    monkeypatch.setattr(matching, "SQUARE_LIMIT", 0)
    monkeypatch.setattr(matching, "EXACT_LIMIT", 0)
    monkeypatch.setattr(matching, "PRICE_LIMIT", 100)
    monkeypatch.setattr(matching, "WIDE_TOP_K", 2)  # a thin index where nothing is priced
    people, met = community(90, seed=70)
    rng = random.Random(71)
    topics = [f"Topic {k}" for k in range(1000)]
    spread = [
        replace(p, offers=frozenset(rng.sample(topics, 8)), wants=frozenset(rng.sample(topics, 8)))
        for p in people
    ]
    monkeypatch.setattr(certify, "TAIL_PAIRS", 0)  # every shared topic on bitsets
    words = [len(bits) for bits in certify.shareable(Pool(spread, met)).sets]
    assert sum(words) > 10 and sum(len(b) for b in certify.shareable(Pool(people, met)).sets) == 5
    few = match(people, Rules(), Weights(), history=met, seed=1).certificate
    many = match(spread, Rules(), Weights(), history=met, seed=1).certificate
    assert few is not None and few.complete and few.bound == few.global_bound
    assert many is not None and not many.complete and many.bound == many.candidate_bound
    assert many.global_bound is not None
    assert optimum(spread, Rules(), Weights(), met) <= many.global_bound + 1e-9


PRICING_CASES = [
    (Rules(), Weights()),
    (Rules(differ_by_staff_group=True, same_locality_in_person=False), Weights(personal=0.7)),
    (Rules(mentoring=True, differ_by_organisation=False), Weights(career_bridge=-0.5)),
]


@pytest.mark.parametrize("on_bitsets", ["most shared items", "every shared item"])
@pytest.mark.parametrize(("rules", "weights"), PRICING_CASES)
def test_pricing_finds_exactly_the_pairs_within_the_margin(
    rules: Rules, weights: Weights, on_bitsets: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled loop against every pair checked one by one: the same pairs outside the
    graph, the same excess, with hard rules and named pairs kept out, free text nobody
    shares left out of the bitsets, the loop stopping and going on many times; the rarer
    interests either scored pair by pair beside the bitsets of the most shared 64, or all
    on bitsets spanning more than one 64-bit word."""
    monkeypatch.setattr(certify, "ROOM", compiled.CHUNK)  # room for one chunk row per call
    if on_bitsets == "every shared item":
        monkeypatch.setattr(certify, "TAIL_PAIRS", 0)
    monkeypatch.setattr(matching, "FULL_GRAPH_LIMIT", 0)  # a graph of 2 partners each
    rng = random.Random(11)
    people, met = community(260, seed=12)
    people = [  # 300 more themes, 120 more topics, and free text nobody else gives
        replace(
            p,
            professional_interests=p.professional_interests
            | {f"Theme {k}" for k in rng.sample(range(300), 2)},
            personal_interests=p.personal_interests | {f"Hobby of {p.id}"},
            offers=p.offers | {f"Skill of {p.id}", f"Topic {rng.randrange(120)}"},
            wants=p.wants | {f"Need of {p.id}", f"Topic {rng.randrange(120)}"},
        )
        for p in people
    ]
    pool = Pool([p for p in people if not p.paused], met)
    assert pool.do_not_pair and pool.history
    shared = certify.shareable(pool)
    assert pool.offers.words().shape[0] >= 4  # mostly one person's own
    if on_bitsets == "every shared item":
        assert shared.sets[0].shape[0] > 1 and shared.sets[2].shape[0] > 1
        assert len(shared.tail) == 0
    else:
        assert shared.sets[0].shape[0] == shared.sets[2].shape[0] == 1
        assert len(shared.tail) > 100
    graph = matching._build_graph(pool, rules, weights, seed=0, k=2)
    y = np.random.default_rng(5).uniform(0.0, 5.0, pool.n)
    edges = set(zip(graph.i.tolist(), graph.j.tolist(), strict=True))
    for margin in (0.0, 1.0):
        a, b, excess = certify.outside(pool, rules, weights, graph, y, margin)
        found = {(i, j): e for i, j, e in zip(a.tolist(), b.tolist(), excess.tolist(), strict=True)}
        expected = {}
        for i, j in combinations(range(pool.n), 2):
            x, z = pool.people[i], pool.people[j]
            gain = pair_score(x, z, weights) - y[i] - y[j]
            if (i, j) not in edges and gain > -margin and eligible_pair(x, z, rules, met):
                expected[(i, j)] = gain
        assert len(expected) > 3 * compiled.CHUNK, len(expected)
        assert found.keys() == expected.keys()
        assert all(found[key] == pytest.approx(gain, abs=1e-9) for key, gain in expected.items())
        some = np.arange(3, pool.n, 7)  # only the pairs of some people, either end
        a, b, _ = certify.outside(pool, rules, weights, graph, y, margin, some)
        theirs = {key for key in expected if key[0] in set(some) or key[1] in set(some)}
        assert set(zip(a.tolist(), b.tolist(), strict=True)) == theirs
    # Before that check, the loop itself keeps out exactly the pairs a hard rule keeps
    # apart (pairs ruled out by name aside).
    a, b = certify.scored_above(pool, rules, weights, y)
    plain = Pool([replace(p, do_not_pair=frozenset()) for p in pool.people])
    i, j = np.triu_indices(pool.n, k=1)
    pays = plain.pair_eligible(i, j, rules) & (plain.pair_scores(i, j, weights) > y[i] + y[j])
    named = pool.do_not_pair | pool.history
    assert set(zip(a.tolist(), b.tolist(), strict=True)) - named == (
        set(zip(i[pays].tolist(), j[pays].tolist(), strict=True)) - named
    )


def test_capped_covers_every_two_people_by_the_lower_cap() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(2, 40))
        y, cap = rng.uniform(0, 5, n), rng.uniform(0, 12, n)
        out = certify.capped(y, cap)
        assert (out >= y).all()
        i, j = np.triu_indices(n, k=1)
        assert (out[i] + out[j] >= np.minimum(cap[i], cap[j]) - 1e-9).all()


def test_lifted_covers_every_pair_it_is_given() -> None:
    rng = np.random.default_rng(4)
    for _ in range(20):
        n = int(rng.integers(2, 30))
        y = rng.uniform(0, 5, n)
        i, j = np.triu_indices(n, k=1)
        pick = rng.random(len(i)) < 0.3
        a, b = i[pick], j[pick]
        excess = rng.uniform(0, 3, len(a))
        out = certify.lifted(y, a, b, excess)
        assert (out >= y).all()
        assert (out[a] + out[b] >= y[a] + y[b] + excess - 1e-9).all()
