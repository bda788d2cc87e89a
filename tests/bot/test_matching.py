"""The exchange matching engine: hard rules, scores, leftovers, formats, determinism, optimality."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from itertools import combinations

import numpy as np
import pytest

from bot.exchange import matching, reasons
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
from bot.exchange.sets import group_sizes

NONE: frozenset[frozenset[str]] = frozenset()


def person(pid: str, org: str = "", **fields: object) -> Candidate:
    """A candidate from their own organisation unless told otherwise."""
    return Candidate(id=pid, organisation=org or f"Org {pid}", **fields)  # type: ignore[arg-type]


def ids(result: Result) -> list[tuple[str, ...]]:
    return [m.members for m in result.matches]


@pytest.fixture(params=["exact", "relaxation"])
def solver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test on both pair solvers: exact blossom, and the relaxation (with its exact
    repair) used at scale, here on the whole graph of a small round."""
    if request.param == "relaxation":
        monkeypatch.setattr(matching, "EXACT_LIMIT", 0)
        monkeypatch.setattr(matching, "FULL_GRAPH_LIMIT", 0)
    yield request.param


# ---------------------------------------------------------------------- hard rules


A = person("UA", "Wye Valley NHS Trust", staff_group="Medical")
B = person("UB", "Taurus Healthcare", staff_group="Nursing and midwifery")

BLOCKED = {
    "same organisation": (replace(B, organisation=" wye valley nhs  TRUST"), Rules()),
    "same staff group": (
        replace(B, staff_group="medical"),
        Rules(differ_by_staff_group=True),
    ),
    "do not pair (theirs)": (replace(B, do_not_pair=frozenset({"UA"})), Rules()),
    "paused": (replace(B, paused=True), Rules()),
    "in person and virtual": (replace(B, mode="virtual"), Rules()),
    "both mentors": (replace(B, role="mentor"), Rules(mentoring=True)),
    "no shared day": (replace(B, availability=frozenset({"Tuesday"})), Rules()),
}


@pytest.mark.parametrize("name", sorted(BLOCKED))
def test_each_hard_rule_blocks_a_pair(name: str) -> None:
    a = replace(
        A,
        mode="in_person" if name == "in person and virtual" else "either",
        role="mentor",
        availability=frozenset({"mon", "thu"}) if name == "no shared day" else frozenset(),
    )
    b, rules = BLOCKED[name]
    assert eligible_pair(replace(B, role="mentee"), a, rules, NONE)
    assert not eligible_pair(a, b, rules, NONE)
    assert not eligible_pair(b, a, rules, NONE)
    result = match([a, b], rules)
    assert result.matches == ()
    assert violations(result, [a, b], rules, NONE) == []


def test_do_not_pair_works_from_either_side_and_ones_own_id_is_ignored() -> None:
    a = replace(A, do_not_pair=frozenset({"UB"}))
    assert not eligible_pair(a, B, Rules(), NONE)
    assert not eligible_pair(B, a, Rules(), NONE)
    me = replace(A, do_not_pair=frozenset({"UA"}))
    assert eligible_pair(me, B, Rules(), NONE)
    assert ids(match([me, B])) == [("UA", "UB")]


def test_history_blocks_a_pair_who_met_within_the_cooldown() -> None:
    met = frozenset({frozenset({"UA", "UB"})})
    assert not eligible_pair(A, B, Rules(), met)
    c = person("UC")
    result = match([A, B, c], history=met)
    assert ("UA", "UB") not in ids(result)
    assert violations(result, [A, B, c], Rules(), met) == []


def test_rules_that_are_off_do_not_block() -> None:
    same_org = replace(B, organisation=A.organisation)
    assert eligible_pair(A, same_org, Rules(differ_by_organisation=False), NONE)
    same_group = replace(B, staff_group=A.staff_group)
    assert eligible_pair(A, same_group, Rules(), NONE)  # differ_by_staff_group is off


def test_unknown_organisations_never_count_as_the_same() -> None:
    assert eligible_pair(replace(A, organisation=""), replace(B, organisation=""), Rules(), NONE)


def test_modes_either_fits_both() -> None:
    for mode in ("in_person", "virtual", "either"):
        assert eligible_pair(replace(A, mode=mode), B, Rules(), NONE)  # B is "either"


def test_two_in_person_only_people_must_share_a_known_locality() -> None:
    here = replace(A, mode="in_person", locality="Hereford")
    there = replace(B, mode="in_person", locality="Leominster")
    assert not eligible_pair(here, there, Rules(), NONE)
    assert eligible_pair(here, replace(there, locality=" hereford"), Rules(), NONE)
    assert not eligible_pair(replace(here, locality=""), replace(there, locality=""), Rules(), NONE)
    assert eligible_pair(here, there, Rules(same_locality_in_person=False), NONE)
    assert eligible_pair(here, replace(there, mode="either"), Rules(), NONE)


def test_availability_must_overlap_when_both_give_it() -> None:
    mon = replace(A, availability=frozenset({"mon"}))
    assert not eligible_pair(mon, replace(B, availability=frozenset({"tue"})), Rules(), NONE)
    assert eligible_pair(mon, replace(B, availability=frozenset({"Monday", "tue"})), Rules(), NONE)
    assert eligible_pair(mon, B, Rules(), NONE)  # no availability given: any day


# ---------------------------------------------------------------------- score


def test_pair_score_adds_each_weighted_term() -> None:
    a = replace(
        A,
        professional_interests=frozenset({"Frailty", "Discharge and flow", "Cancer"}),
        personal_interests=frozenset({"Running"}),
        offers=frozenset({"QI coaching"}),
        wants=frozenset({"Data analysis"}),
        career_stage=4,
        availability=frozenset({"tue", "wed"}),
    )
    b = replace(
        B,
        professional_interests=frozenset({"frailty ", "discharge and flow"}),
        personal_interests=frozenset({"running", "Baking"}),
        offers=frozenset({"data analysis"}),
        wants=frozenset({"QI coaching", "Leading change"}),
        career_stage=1,
        availability=frozenset({"Tuesday"}),
    )
    w = Weights()
    expected = 3.0 * 2**0.5 + 1.0 + 2.0 * (1 + 1) + 1.0 + 1.0 + 0.5 + 1.0
    assert pair_score(a, b, w) == pytest.approx(expected)
    assert pair_score(a, b, w) == pair_score(b, a, w)
    assert pair_score(a, b, Weights(0, 0, 0, 0, 0, 0, 0)) == 0.0
    # The career bridge needs two known stages at least two apart.
    assert pair_score(replace(a, career_stage=2), b, w) == pytest.approx(expected - 0.5)
    assert pair_score(replace(a, career_stage=0), b, w) == pytest.approx(expected - 0.5)


def test_shared_interests_have_diminishing_returns() -> None:
    themes = [f"Theme {k}" for k in range(4)]
    gains = []
    for k in range(1, 5):
        a = replace(A, professional_interests=frozenset(themes[:k]))
        b = replace(B, professional_interests=frozenset(themes[:k]))
        gains.append(pair_score(a, b, Weights(1, 0, 0, 0, 0, 0, 0)))
    steps = np.diff([0.0, *gains])
    assert all(steps[k] > steps[k + 1] > 0 for k in range(3))


def test_the_fast_paths_score_and_check_exactly_like_the_public_functions() -> None:
    people, met = community(40, seed=3)
    pool = Pool([c for c in people if not c.paused], met)
    w, rules = Weights(professional=2.5, personal=0.7), Rules(differ_by_staff_group=True)
    a, b = np.triu_indices(pool.n, k=1)
    scores = pool.pair_scores(a, b, w)
    eligible = pool.pair_eligible(a, b, rules)
    rank, floor = pool.rank_block(np.arange(pool.n), rules, w)
    for k, (i, j) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        x, y = pool.people[i], pool.people[j]
        assert scores[k] == pair_score(x, y, w) == pool.score(i, j, w)
        assert eligible[k] == eligible_pair(x, y, rules, met) == (rank[i, j] > floor)
        if eligible[k]:
            assert rank[i, j] == pytest.approx(scores[k], abs=1e-4)


def test_values_only_one_person_gives_stay_out_of_the_bitmasks_and_change_no_score() -> None:
    """Free text: most offers, wants and interests are one person's own words. They are
    numbered last and left out of the bitmasks (which would otherwise each be as long as
    the vocabulary); every pair's score, rules and reasons stay as the public functions
    give them."""
    people, met = community(60, seed=9)
    people = [
        replace(
            p,
            professional_interests=p.professional_interests | {f"Own theme of {p.id}"},
            personal_interests=p.personal_interests | {f"Own hobby of {p.id}"},
            offers=p.offers | {f"Own skill of {p.id}", "Shared skill"},
            wants=p.wants | {f"Own need of {p.id}", "Shared skill"},
        )
        for p in people
    ]
    pool = Pool([c for c in people if not c.paused], met)
    for field in (pool.professional, pool.personal, pool.offers, pool.wants):
        assert field.bits_below < field.size - pool.n / 2
        assert max(field.bits).bit_length() <= field.bits_below
    w = Weights()
    for i, j in combinations(range(pool.n), 2):
        x, y = pool.people[i], pool.people[j]
        assert pool.score(i, j, w) == pair_score(x, y, w)
        assert pool.eligible(i, j, Rules()) == eligible_pair(x, y, Rules(), met)
    told = " | ".join(
        line.lower()
        for i in range(0, 20, 2)
        for line in reasons.reasons(pool, [i, i + 1], w, mentor_first=False)
    )
    assert "shared skill" in told
    assert not any(f"own {kind} of" in told for kind in ("theme", "hobby", "skill", "need"))


# ---------------------------------------------------------------------- leftovers


def test_the_odd_person_joins_the_pair_they_fit_best_as_a_trio(solver: str) -> None:
    people = [
        person("U1", professional_interests=frozenset({"Frailty"})),
        person("U2", professional_interests=frozenset({"Frailty"})),
        person("U3", professional_interests=frozenset({"Frailty"})),
        person("U4", professional_interests=frozenset({"Cancer"})),
        person("U5", professional_interests=frozenset({"Cancer"})),
    ]
    result = match(people)
    assert sorted(len(m) for m in ids(result)) == [2, 3]
    assert ("U1", "U2", "U3") in ids(result)
    assert result.carried_over == () and result.unmatchable == {}
    assert violations(result, people, Rules(), NONE) == []


def test_the_odd_person_is_carried_over_when_no_trio_fits(solver: str) -> None:
    a, b = person("U1", "Trust"), person("U2", "Practice")
    c = person("U3", "Trust")  # fits only U2, who is taken
    result = match([a, b, c])
    assert len(result.matches) == 1 and len(result.matches[0].members) == 2
    assert len(result.carried_over) == 1
    assert result.unmatchable == {}
    assert violations(result, [a, b, c], Rules(), NONE) == []


def test_someone_nobody_can_be_paired_with_is_told_why() -> None:
    people = [person(f"U{k}", "Hereford Hospital") for k in range(3)] + [person("U9", "Practice")]
    result = match(people)
    assert len(result.matches) == 1
    assert len(result.carried_over) == 2  # they fit U9, who is taken: next round first
    alone = [person("U1", "Hereford Hospital"), person("U2", "hereford hospital")]
    result = match(alone)
    assert result.unmatchable == {
        "U1": "Nobody else in this round is from a different organisation",
        "U2": "Nobody else in this round is from a different organisation",
    }


@pytest.mark.parametrize(
    ("me", "others", "reason"),
    [
        (
            {"mode": "in_person", "locality": "Hereford"},
            [{"mode": "virtual"}, {"mode": "virtual"}],
            "Nobody else in this round can meet in person",
        ),
        (
            {"mode": "in_person", "locality": "Hereford"},
            [{"mode": "in_person", "locality": "Ledbury"}],
            "Nobody else who meets in person is in Hereford",
        ),
        (
            {"availability": frozenset({"fri"})},
            [{"availability": frozenset({"mon"})}],
            "Nobody else in this round is free on the same days as you",
        ),
        (
            {"organisation": "Trust"},
            [{"organisation": "Trust"}, {"id": "U1"}],
            "Nobody in this round fits: everyone else is from your organisation "
            "or someone you met recently",
        ),
        (
            {"do_not_pair": frozenset({"U2"})},
            [{}],
            "Nobody else in this round is available to pair with you",
        ),
    ],
)
def test_unmatchable_reasons_name_the_rule(me: dict, others: list[dict], reason: str) -> None:
    mine = Candidate(**{"id": "U0", "organisation": "Org 0", **me})
    rest = [
        Candidate(**{"id": f"U{k + 2}", "organisation": f"Org {k + 2}", **other})
        for k, other in enumerate(others)
    ]
    met = frozenset({frozenset({"U0", "U1"})})
    result = match([mine, *rest], history=met)
    assert result.unmatchable["U0"] == reason
    assert violations(result, [mine, *rest], Rules(), met) == []


def test_paused_people_are_never_matched_and_are_told_so() -> None:
    people = [person("U1"), person("U2", paused=True), person("U3")]
    result = match(people)
    assert ids(result) == [("U1", "U3")]
    assert result.unmatchable == {"U2": "You have paused taking part"}


def test_people_carried_over_are_matched_first(solver: str) -> None:
    frailty = frozenset({"Frailty", "Cancer", "Prevention"})
    a = person("U1", "Trust", professional_interests=frailty)
    b = person("U2", "Practice", professional_interests=frailty)
    waiting = person("U3", "Practice")  # fits only U1, and far less well than U2 does
    result = match([a, b, waiting])
    assert ids(result) == [("U1", "U2")] and result.carried_over == ("U3",)
    result = match([a, b, replace(waiting, priority=True)])
    assert ids(result) == [("U1", "U3")] and result.carried_over == ("U2",)


# ---------------------------------------------------------------------- reasons


def test_reasons_are_plain_specific_and_never_empty() -> None:
    a = replace(
        A,
        professional_interests=frozenset({"Frailty", "Discharge and flow"}),
        offers=frozenset({"Quality improvement coaching"}),
        availability=frozenset({"tue", "thu"}),
    )
    b = replace(
        B,
        professional_interests=frozenset({"Frailty", "Discharge and flow"}),
        wants=frozenset({"Quality improvement coaching"}),
        availability=frozenset({"tue"}),
    )
    (found,) = match([a, b]).matches
    assert found.reasons == (
        "You share an interest in discharge and flow, and frailty",
        "One of you can offer quality improvement coaching, which the other wants to learn",
        "You work for different organisations (Taurus Healthcare, Wye Valley NHS Trust)",
    )
    (bare,) = match([a, b], weights=Weights(0, 0, 0, 0, 0, 0, 0)).matches
    assert bare.reasons == ("You fit this programme's rules and have not been paired recently",)
    weights = Weights(professional=0, complementarity=0, cross_organisation=0, cross_staff_group=0)
    (days,) = match([a, b], weights=weights).matches
    assert days.reasons[0] == "You are both free on Tuesday"


def test_every_match_has_one_to_three_reasons() -> None:
    people, met = community(120, seed=4)
    for rules in (Rules(), Rules(group_size=4), Rules(mentoring=True)):
        result = match(people, rules, history=met)
        assert result.matches
        for m in result.matches:
            assert 1 <= len(m.reasons) <= 3
            assert all(r[0].isupper() or r[0].isdigit() for r in m.reasons)


# ---------------------------------------------------------------------- determinism


def test_same_input_and_seed_give_the_same_result_whatever_the_order() -> None:
    people, met = community(150, seed=5)
    for rules in (Rules(), Rules(group_size=3), Rules(mentoring=True)):
        first = match(people, rules, history=met, seed=7)
        shuffled = people[:]
        random.Random(1).shuffle(shuffled)
        assert match(shuffled, rules, history=set(met), seed=7) == first
        assert match(people, rules, history=met, seed=7) == first


def test_another_seed_breaks_ties_another_way() -> None:
    people = [person(f"U{k}") for k in range(12)]  # every pair equally good
    results = {ids(match(people, seed=seed))[0] for seed in range(6)}
    assert len(results) > 1


def test_candidate_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        match([person("U1"), person("U1")])


# ---------------------------------------------------------------------- the field


def test_herefordshire_thirty_clinicians_from_three_organisations_make_fifteen_pairs() -> None:
    orgs = ["Wye Valley NHS Trust", "Taurus Healthcare", "Hereford Medical Group"]
    rng = random.Random(2021)
    themes = ["Frailty", "Paediatrics", "Diabetes", "Mental health", "Discharge and flow"]
    people = [
        person(
            f"U{k:02d}",
            orgs[k % 3],
            staff_group=rng.choice(["Medical", "Nursing and midwifery"]),
            professional_interests=frozenset(rng.sample(themes, 2)),
            personal_interests=frozenset(rng.sample(["Running", "Choir", "Walking"], 1)),
        )
        for k in range(30)
    ]
    result = match(people)
    assert len(result.matches) == 15
    assert all(len(m.members) == 2 for m in result.matches)
    by_id = {p.id: p for p in people}
    for m in result.matches:
        a, b = (by_id[i] for i in m.members)
        assert a.organisation != b.organisation
    assert result.carried_over == () and result.unmatchable == {}
    assert violations(result, people, Rules(), NONE) == []


def test_mentoring_respects_roles_and_capacity() -> None:
    mentors = [
        person(f"M{k}", role="mentor", capacity=cap, career_stage=4)
        for k, cap in enumerate([1, 2, 3])
    ]
    mentees = [person(f"E{k}", role="mentee", career_stage=1) for k in range(5)]
    either = [person("X0", role="either", career_stage=3), person("X1", role="either")]
    people = mentors + mentees + either
    rules = Rules(mentoring=True)
    result = match(people, rules)
    assert violations(result, people, rules, NONE) == []
    load = Counter(m.members[0] for m in result.matches)
    assert all(load[m.id] <= m.capacity for m in mentors)
    assert {m.members[0] for m in result.matches} <= {"M0", "M1", "M2", "X0", "X1"}
    assert all(not m.members[1].startswith("M") for m in result.matches)
    assert len(result.matches) == 6  # 6 places, 7 mentees (the "either"s) or 7 places, 6
    assert len(result.carried_over) == 1
    mentee_ids = [m.members[1] for m in result.matches]
    assert len(mentee_ids) == len(set(mentee_ids))


def test_mentoring_tells_mentees_when_there_is_no_mentor() -> None:
    people = [person("E1", role="mentee"), person("E2", role="mentee")]
    result = match(people, Rules(mentoring=True))
    assert result.unmatchable == {
        "E1": "There are no mentors in this round yet",
        "E2": "There are no mentors in this round yet",
    }


@pytest.mark.parametrize("size", [3, 4, 6])
def test_sets_have_the_right_size_and_keep_every_rule(size: int) -> None:
    orgs = [f"Org {k}" for k in range(8)]
    people = [
        person(f"U{k:02d}", orgs[k % 8], staff_group=["Medical", "Nursing", "AHP"][k % 3])
        for k in range(26)
    ]
    met = frozenset({frozenset({"U00", "U01"}), frozenset({"U02", "U03"})})
    rules = Rules(group_size=size)
    result = match(people, rules, history=met)
    assert violations(result, people, rules, met) == []
    sizes = [len(m.members) for m in result.matches]
    assert all(max(3, size - 1) <= s <= size + 1 for s in sizes)
    placed = sum(sizes)
    assert placed + len(result.carried_over) == 26 and placed >= 24
    by_id = {p.id: p for p in people}
    for m in result.matches:
        orgs = [by_id[i].organisation for i in m.members]
        assert len(set(orgs)) == len(orgs)


def test_group_sizes_stay_within_one_of_the_size_and_never_below_three() -> None:
    for size in range(3, 9):
        for n in range(0, 60):
            sizes = group_sizes(n, size)
            assert sum(sizes) <= n and n - sum(sizes) <= 1
            if n >= 3:
                assert all(3 <= s <= size + 1 for s in sizes)
            if n >= size * (size + 1):
                assert all(size - 1 <= s <= size + 1 for s in sizes)


# ---------------------------------------------------------------------- optimality


def brute_force(people: list[Candidate], rules: Rules, weights: Weights, met: frozenset) -> float:
    """The best total of (score + bonuses) over all matchings, by dynamic programming."""
    n = len(people)
    value = [[-1.0] * n for _ in range(n)]
    for i, j in combinations(range(n), 2):
        if eligible_pair(people[i], people[j], rules, met):
            priority = people[i].priority + people[j].priority
            score = pair_score(people[i], people[j], weights)
            value[i][j] = score + PAIR_BONUS + PRIORITY_BONUS * priority

    @cache
    def best(free: int) -> float:
        if free == 0:
            return 0.0
        i = (free & -free).bit_length() - 1
        rest = free & ~(1 << i)
        top = best(rest)  # i stays unmatched
        for j in range(i + 1, n):
            if rest >> j & 1 and value[i][j] >= 0:
                top = max(top, value[i][j] + best(rest & ~(1 << j)))
        return top

    return best((1 << n) - 1)


def matched_value(
    result: Result, people: list[Candidate], weights: Weights, met: frozenset
) -> float:
    """The matching inside a result: pairs as they are, each trio counted by its best pair
    (any pair of a trio with the other pairs is a matching, so this is at most optimal)."""
    by_id = {p.id: p for p in people}
    total = 0.0
    for m in result.matches:
        options = []
        for x, y in combinations(m.members, 2):
            a, b = by_id[x], by_id[y]
            bonus = PAIR_BONUS + PRIORITY_BONUS * (a.priority + b.priority)
            options.append(pair_score(a, b, weights) + bonus)
        total += max(options)
    return total


def random_round(rng: random.Random, n: int) -> tuple[list[Candidate], frozenset]:
    themes = ["Frailty", "Cancer", "Prevention", "Mental health", "Digital"]
    people = [
        Candidate(
            id=f"U{k:02d}",
            organisation=rng.choice(["A", "B", "C", "D"]),
            staff_group=rng.choice(["Medical", "Nursing", "Pharmacy"]),
            professional_interests=frozenset(rng.sample(themes, rng.randint(0, 3))),
            personal_interests=frozenset(rng.sample(["Run", "Bake", "Sing"], rng.randint(0, 2))),
            offers=frozenset(rng.sample(["QI", "Data", "Audit"], rng.randint(0, 2))),
            wants=frozenset(rng.sample(["QI", "Data", "Audit"], rng.randint(0, 2))),
            career_stage=rng.randint(0, 4),
            mode=rng.choice(["either", "either", "virtual", "in_person"]),
            locality=rng.choice(["Hereford", "Ledbury"]),
            availability=frozenset(rng.sample(["mon", "tue", "wed"], rng.randint(0, 2))),
            priority=rng.random() < 0.15,
        )
        for k in range(n)
    ]
    pairs = list(combinations([p.id for p in people], 2))
    met = frozenset(frozenset(p) for p in rng.sample(pairs, min(len(pairs), n // 2)))
    return people, met


@pytest.mark.parametrize("trial", range(12))
def test_pairs_are_an_optimal_matching_on_small_rounds(trial: int, solver: str) -> None:
    rng = random.Random(trial)
    people, met = random_round(rng, rng.randint(2, 14))
    rules, weights = Rules(), Weights()
    result = match(people, rules, weights, history=met, seed=trial)
    assert violations(result, people, rules, met) == []
    best = brute_force(people, rules, weights, met)
    # Internal weights round scores to 1/1000 and break ties below that.
    assert matched_value(result, people, weights, met) == pytest.approx(best, abs=0.01)


# ---------------------------------------------------------------------- helpers


def community(n: int, seed: int) -> tuple[list[Candidate], frozenset[frozenset[str]]]:
    """A small realistic round (the bench's generator, shrunk)."""
    rng = random.Random(seed)
    people, met = random_round(rng, n)
    people = [
        replace(
            p,
            organisation=f"Org {rng.randint(0, max(3, n // 8))}",
            do_not_pair=frozenset({f"U{rng.randrange(n):02d}"})
            if rng.random() < 0.05
            else p.do_not_pair,
            paused=rng.random() < 0.05,
            role=rng.choice(["mentor", "mentee", "mentee", "either"]),
            capacity=rng.randint(1, 3),
        )
        for p in people
    ]
    return people, met


def test_big_round_paths_keep_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sparse graph, the relaxation and set growing from few partners, on a mid round."""
    people, met = community(240, seed=8)
    exact = {rules: match(people, rules, history=met) for rules in (Rules(), Rules(group_size=3))}
    monkeypatch.setattr(matching, "FULL_GRAPH_LIMIT", 0)
    monkeypatch.setattr(matching, "EXACT_LIMIT", 0)
    monkeypatch.setattr(matching, "TOP_K", 6)
    monkeypatch.setattr(matching, "SET_TOP_K", 1)
    for rules, reference in exact.items():
        result = match(people, rules, history=met)
        assert violations(result, people, rules, met) == []
        assert result.total_score >= 0.95 * reference.total_score
