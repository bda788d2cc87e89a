"""Mentoring is an exact assignment of mentees to mentor places: checked against an
independent solver (scipy's dense Hungarian method on places expanded by capacity)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from bot.exchange.matching import (
    PAIR_BONUS,
    PRIORITY_BONUS,
    Candidate,
    Rules,
    Weights,
    eligible_pair,
    match,
    pair_score,
    violations,
)

THEMES = ["flow", "frailty", "QI", "data", "falls", "sepsis"]
ORGS = ["Hereford Trust", "Wye GP", "Taurus", "Council"]
PLACES = ["Hereford", "Leominster"]


def _round(seed: int, n: int) -> list[Candidate]:
    rng = random.Random(seed)
    people = []
    for k in range(n):
        people.append(
            Candidate(
                id=f"U{k:03d}",
                staff_group=rng.choice(["Nursing", "Medical", "AHP"]),
                organisation=rng.choice(ORGS),
                locality=rng.choice(PLACES),
                professional_interests=frozenset(rng.sample(THEMES, rng.randint(1, 3))),
                personal_interests=frozenset(rng.sample(["running", "choir"], rng.randint(0, 1))),
                offers=frozenset(rng.sample(THEMES, rng.randint(0, 2))),
                wants=frozenset(rng.sample(THEMES, rng.randint(0, 2))),
                career_stage=rng.randint(0, 4),
                mode=rng.choice(["either", "virtual", "in_person"]),
                priority=rng.random() < 0.15,
                role=rng.choice(["mentor", "mentee", "mentee"]),
                capacity=rng.choice([1, 2, 3]),
            )
        )
    return people


def _reference(people: list[Candidate], rules: Rules, weights: Weights) -> tuple[int, float]:
    """Matches and total score of the best assignment: carried-over people first, then the
    most matches, then the most score (a carried-over mentor's bonus on one place)."""
    mentees = [p for p in people if p.role == "mentee"]
    places = [(p, seat) for p in people if p.role == "mentor" for seat in range(p.capacity)]
    gain = np.zeros((len(mentees), len(places) + len(mentees)))
    score = np.zeros_like(gain)
    for r, e in enumerate(mentees):
        for c, (mentor, seat) in enumerate(places):
            if eligible_pair(mentor, e, rules, frozenset()):
                s = pair_score(mentor, e, weights)
                bonus = PRIORITY_BONUS * (e.priority + (mentor.priority and seat == 0))
                gain[r, c] = PAIR_BONUS + s + bonus
                score[r, c] = s
    rows, cols = linear_sum_assignment(gain, maximize=True)
    real = [(r, c) for r, c in zip(rows, cols, strict=True) if gain[r, c] > 0]
    return len(real), sum(score[r, c] for r, c in real)


@pytest.mark.parametrize("seed", range(12))
def test_mentoring_is_the_exact_optimum_with_capacities(seed: int) -> None:
    rules, weights = Rules(mentoring=True), Weights()
    people = _round(seed, 40)
    result = match(people, rules, weights, seed=seed)
    matches, best = _reference(people, rules, weights)
    assert violations(result, people, rules, frozenset()) == []
    assert len(result.matches) == matches
    # Ties are broken below a thousandth of a score unit per pair.
    assert result.total_score == pytest.approx(best, abs=0.002 * max(1, matches))
    by_id = {p.id: p for p in people}
    load: dict[str, int] = {}
    for m in result.matches:
        assert by_id[m.members[0]].role == "mentor" and by_id[m.members[1]].role == "mentee"
        load[m.members[0]] = load.get(m.members[0], 0) + 1
    assert all(load[i] <= by_id[i].capacity for i in load)
    cert = result.certificate
    assert cert is not None and cert.complete and cert.gap == 0.0
    assert cert.score == pytest.approx(result.total_score)


def test_a_carried_over_mentor_gets_a_mentee_before_a_better_scoring_one() -> None:
    rules = Rules(mentoring=True, differ_by_organisation=False, same_locality_in_person=False)
    mentee = Candidate(id="U1", role="mentee", professional_interests=frozenset({"flow"}))
    fresh = Candidate(id="U2", role="mentor", professional_interests=frozenset({"flow"}))
    carried = Candidate(id="U3", role="mentor", priority=True)
    result = match([mentee, fresh, carried], rules)
    assert [m.members for m in result.matches] == [("U3", "U1")]
    assert result.carried_over == ("U2",)


def test_a_pruned_round_keeps_each_mentors_best_mentees(monkeypatch: pytest.MonkeyPatch) -> None:
    """When only a few mentors are kept per mentee, every mentee's favourite can be the same
    person; each mentor's own best mentees are kept as well, so nobody is left out."""
    from bot.exchange import mentoring

    monkeypatch.setattr(mentoring, "MENTOR_FULL_PAIRS", 0)
    monkeypatch.setattr(mentoring, "MENTOR_CHOICES", 1)
    wants = [{"flow", "falls"}, {"QI", "sepsis"}, {"data"}]
    everything = frozenset().union(*wants)
    people = [
        Candidate(id="A", role="mentor", professional_interests=everything),
        Candidate(id="B", role="mentor", professional_interests=frozenset(wants[0])),
        Candidate(id="C", role="mentor", professional_interests=frozenset(wants[1])),
    ] + [
        Candidate(id=f"M{k}", role="mentee", professional_interests=frozenset(w))
        for k, w in enumerate(wants)
    ]
    result = match(people, Rules(mentoring=True))
    assert sorted(m.members[0] for m in result.matches) == ["A", "B", "C"]
    assert result.carried_over == ()
