"""Sets (action learning sets, Big Room tables): groups of about ``group_size``, each
seeded with one of the hardest people to place, grown by turns (the person who adds the
most score and fits everyone in it), then improved by swaps; ``bot.exchange.matching``
describes the objective, ``match`` calls ``solve`` for programmes with sets."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from bot.exchange import matching  # its limits read at call time (tests patch them)
from bot.exchange.candidates import Graph, mix, salt_of
from bot.exchange.matching import (
    Certificate,
    Outcome,
    Rules,
    Weights,
    _build_graph,
    _place_leftovers,
    _unmatchable_reason,
)
from bot.exchange.scoring import Pool

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


def solve(pool: Pool, rules: Rules, weights: Weights, seed: int) -> Outcome:
    """Groups of about ``group_size``: grown, improved by swaps, leftovers placed."""
    n, size = pool.n, rules.group_size
    graph = _build_graph(pool, rules, weights, seed, max(matching.SET_TOP_K, 6 * size))
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
    certificate = _sets_certificate(pool, weights, graph, adj, groups)
    best = reference(pool, rules, weights, placeable, caps, seed)
    return groups, carried, stuck, replace(certificate, reference=best)


RESTART_PAIRS = 1_500_000  # pairs checked by the random restarts in all (a count, not a time)
RESTARTS = 64  # at most


def reference(
    pool: Pool, rules: Rules, weights: Weights, people: list[int], caps: list[int], seed: int
) -> float:
    """The best score of several random groupings that keep every rule, a reference the
    solver should beat: the people in a seeded random order, cut into groups of the
    round's sizes, each member left out who breaks a rule with an earlier member kept.
    As many restarts as ``RESTART_PAIRS`` allows (at least one, at most ``RESTARTS``)."""
    if not caps:
        return 0.0
    width = max(caps)
    pairs_per_restart = len(caps) * width * (width - 1) // 2
    restarts = max(1, min(RESTARTS, RESTART_PAIRS // max(1, pairs_per_restart)))
    ends = np.cumsum(caps)
    slot = np.concatenate([np.arange(c) for c in caps])
    group = np.repeat(np.arange(len(caps)), caps)
    best = 0.0
    for r in range(restarts):
        order = np.random.default_rng([seed, r]).permutation(np.array(people))[: ends[-1]]
        members = np.full((len(caps), width), -1, dtype=np.int64)
        members[group, slot] = order
        kept = members >= 0
        total = 0.0
        for t in range(1, width):
            for s in range(t):
                both = kept[:, s] & kept[:, t]
                ok = pool.pair_eligible(members[both, s], members[both, t], rules)
                kept[np.flatnonzero(both)[~ok], t] = False
        for t in range(1, width):
            for s in range(t):
                both = kept[:, s] & kept[:, t]
                total += float(pool.pair_scores(members[both, s], members[both, t], weights).sum())
        best = max(best, total)
    return best


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
        complete=pool.n <= matching.SQUARE_LIMIT,
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
