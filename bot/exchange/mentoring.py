"""Mentoring: mentees assigned to mentors, each mentor taking up to ``capacity``, as an
exact min-cost flow on the candidate pairs (a mentor's capacity is an arc's capacity, not
copied columns). ``bot.exchange.matching`` describes the candidates and what the
certificate proves; ``match`` calls ``solve`` for mentoring programmes.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from bot.exchange import (
    candidates,
    index,
    matching,  # its limits read at call time (tests patch them)
)
from bot.exchange.candidates import JITTER, PRIORITY_BONUS, QUANTUM, internal_weight
from bot.exchange.candidates import jitter as _jitter
from bot.exchange.matching import (
    Certificate,
    Outcome,
    Rules,
    Weights,
    _unmatchable_reason,
)
from bot.exchange.scoring import ROLE_EITHER, ROLE_MENTEE, ROLE_MENTOR, Pool

MENTOR_CHOICES = 32  # mentors kept per mentee (and mentees per mentor) in large rounds
MENTOR_FULL_PAIRS = 2_000_000  # up to this many mentor-mentee pairs, all eligible ones kept
MENTOR_INDEX_K = 32  # partners per person from the index (above SQUARE_LIMIT)


def solve(pool: Pool, rules: Rules, weights: Weights, seed: int) -> Outcome:
    """Mentees to mentors, each mentor taking at most ``capacity``: an optimal assignment of
    mentees to mentor places. People who said "either" take whichever side is short, the
    most senior becoming mentors."""
    n = pool.n
    mentors, mentees, stuck = sides(pool)
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
    if n <= matching.SQUARE_LIMIT:
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


def sides(pool: Pool) -> tuple[list[int], list[int], dict[int, str]]:
    """Mentors (with places), mentees, and mentors without places (told so). People who
    said "either" take whichever side is short, the most senior becoming mentors."""
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
    return mentors, mentees, stuck


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
    graph = index.index_graph(
        pool, rules, weights, seed, MENTOR_INDEX_K, matching.INDEX_REACH, side=side
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
