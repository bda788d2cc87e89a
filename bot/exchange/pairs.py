"""Pairs: the best pairing of a candidate graph, and a proof of how close to the best it is.

1. The assignment relaxation: everyone "points at" a partner or at themselves, pointing
   both ways along every kept pair (the graph made bipartite by a left and a right copy of
   each person), solved by Bertsekas' auction (its bidding compiled). Every pairing gives
   an assignment of twice its weight, so half the optimal assignment is an upper bound on
   any pairing: the certificate's bound, from the auction's prices (``dual``).
2. The assignment is a permutation: its 2-cycles are pairs; longer cycles are split into
   consecutive pairs (the better of the ways to cut each; an odd cycle leaves one out).
3. Everyone left out, with their best partners and those partners' mates, is solved again
   exactly (Edmonds' blossom, rustworkx); the window is closed under the matching, so this
   never makes things worse.
4. A short local improvement: two pairs (a, b), (c, d) become (a, c), (b, d) when both new
   pairs are kept edges and the total rises.

The bound holds for every pairing of the graph: of the round when the graph is complete
(every eligible pair), else of the candidate pairs kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rustworkx as rx

from bot.exchange import compiled
from bot.exchange.candidates import JITTER, PAIR_BONUS, QUANTUM, Graph


@dataclass(frozen=True)
class Bound:
    """Half the optimal assignment, in score units per pair plus ``PAIR_BONUS``."""

    value: float
    complete: bool  # holds for every pairing of the round (else: of the graph)
    edges: int  # pairs the graph kept


def blossom(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact maximum-weight matching (Edmonds' blossom algorithm, rustworkx)."""
    mate = np.full(n, -1, dtype=np.int64)
    if len(a) == 0:
        return mate
    graph = rx.PyGraph(multigraph=False)
    graph.add_nodes_from(range(n))
    graph.add_edges_from(list(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)))
    for x, y in rx.max_weight_matching(graph, max_cardinality=False, weight_fn=int):
        mate[x], mate[y] = y, x
    return mate


def relaxed_weights(graph: Graph) -> np.ndarray:
    """Pair weights for the relaxation: score in thousandths, the pair bonus and the seeded
    tie-break as a fraction; the carried-over bonus left out (its wide costs slow the
    solver a lot and would swamp the bound; the repair adds it back)."""
    return (
        np.rint(graph.score * QUANTUM)
        + round(PAIR_BONUS * QUANTUM)
        + (graph.weight % JITTER) / JITTER
    )


def split_cycles(perm: np.ndarray, lookup: EdgeWeights) -> np.ndarray:
    """Mates from a permutation: 2-cycles as they are, longer cycles cut into consecutive
    pairs the best of the possible ways; self-loops and one of each odd cycle left out."""
    n = len(perm)
    idx = np.arange(n)
    mate = np.full(n, -1, dtype=np.int64)
    two = (perm[perm] == idx) & (perm != idx)
    mate[two] = perm[two]
    seen = two | (perm == idx)
    for start in np.flatnonzero(~seen).tolist():
        if seen[start]:
            continue
        cycle = [start]
        seen[start] = True
        x = int(perm[start])
        while x != start:
            cycle.append(x)
            seen[x] = True
            x = int(perm[x])
        best, best_value = None, -1
        length = len(cycle)
        for shift in range(length if length % 2 else 2):
            order = cycle[shift:] + cycle[:shift]
            chosen = [(order[t], order[t + 1]) for t in range(0, length - 1, 2)]
            value = sum(lookup.get(x, y) for x, y in chosen)
            if value > best_value:
                best, best_value = chosen, value
        assert best is not None
        for x, y in best:
            mate[x], mate[y] = y, x
    return mate


class EdgeWeights:
    """Internal weights of the kept pairs, looked up by ends (-1 when not kept)."""

    def __init__(self, graph: Graph) -> None:
        self.n = graph.n
        keys = graph.i.astype(np.int64) * graph.n + graph.j
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.weight = graph.weight[order]

    def many(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lo, hi = np.minimum(x, y), np.maximum(x, y)
        keys = lo.astype(np.int64) * self.n + hi
        at = np.searchsorted(self.keys, keys)
        at = np.minimum(at, max(0, len(self.keys) - 1))
        hit = (
            (len(self.keys) > 0) & (self.keys[at] == keys)
            if len(self.keys)
            else np.zeros(len(keys), dtype=bool)
        )
        return np.where(hit, self.weight[at] if len(self.keys) else 0, -1)

    def get(self, x: int, y: int) -> int:
        return int(self.many(np.array([x]), np.array([y]))[0])


REPAIR_NEIGHBOURS = 8  # per loose person: best partners (and their mates) in the repair
REPAIR_LIMIT = 4000  # people in one exact repair
PRICED_REPAIR_LIMIT = 1500  # the same after pricing (4,000: +0.01% at 10,000 people, 4 s) ...
PRICED_REPAIR_PER_LOOSE = 20  # ... or this many per person left unpaired, up to REPAIR_LIMIT
REPAIR_HOPS = 3  # steps out from the people left unpaired
REPAIR_EDGES = 16  # per person in the window: best pairs kept for blossom


def repair(
    graph: Graph, mate: np.ndarray, hops: int = REPAIR_HOPS, limit: int = REPAIR_LIMIT
) -> None:
    """Re-solve exactly around everyone left unpaired: them, their best partners, those
    partners' mates, and so on for ``hops`` steps (augmenting paths are found inside). The
    window is closed under ``mate``, so this never makes things worse."""
    n = graph.n
    loose = np.flatnonzero(mate < 0)
    if len(loose) == 0:
        return
    ends = np.concatenate([graph.i, graph.j])
    other = np.concatenate([graph.j, graph.i])
    weight = np.concatenate([graph.weight, graph.weight])
    # Each person's pairs, best first (ties as the graph lists them): one integer sort key.
    low, high = int(weight.min()), int(weight.max())
    order = np.argsort(ends * (high - low + 1) + (high - weight), kind="stable")
    ends, other = ends[order], other[order]
    first = np.searchsorted(ends, np.arange(n + 1))
    # The window keeps each person's REPAIR_EDGES best pairs and the pairs made: a dense
    # graph (pricing adds pairs) would otherwise slow blossom down a lot.
    best = np.zeros(len(graph.i), dtype=bool)
    best[(order % len(graph.i))[np.arange(len(ends)) - first[ends] < REPAIR_EDGES]] = True
    best |= mate[graph.i] == graph.j
    inside = np.zeros(n, dtype=bool)
    frontier = loose[np.lexsort((loose, ~graph.priority[loose]))]
    inside[frontier] = True
    for _ in range(hops):
        found: list[int] = []
        for i in frontier.tolist():
            for j in other[first[i] : min(first[i + 1], first[i] + REPAIR_NEIGHBOURS)].tolist():
                if not inside[j]:
                    inside[j] = True
                    found.append(j)
                m = int(mate[j])
                if m >= 0 and not inside[m]:
                    inside[m] = True
                    found.append(m)
            if inside.sum() >= limit:
                break
        if inside.sum() >= limit or not found:
            break
        frontier = np.array(found, dtype=np.int64)
    for i in np.flatnonzero(inside).tolist():  # closed under the matching
        if mate[i] >= 0:
            inside[mate[i]] = True
    nodes = np.flatnonzero(inside)
    keep = inside[graph.i] & inside[graph.j] & best
    local = np.full(n, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    sub = blossom(len(nodes), local[graph.i[keep]], local[graph.j[keep]], graph.weight[keep])
    mate[nodes] = np.where(sub >= 0, nodes[np.maximum(sub, 0)], -1)


SWAP_ROUNDS = 3  # passes of the local improvement


def two_opt(graph: Graph, mate: np.ndarray, lookup: EdgeWeights) -> int:
    """Swap partners between two pairs when that raises the total (both new pairs kept
    edges); returns how many swaps were made. Every kept edge (a, c) between two pairs
    proposes (a, c) + (b, d), b and d their mates; the best non-overlapping swaps are made,
    a few passes."""
    made = 0
    top = np.zeros(graph.n, dtype=np.int64)  # each person's best pair
    np.maximum.at(top, graph.i, graph.weight)
    np.maximum.at(top, graph.j, graph.weight)
    for _ in range(SWAP_ROUNDS):
        paired = np.flatnonzero(mate >= 0)
        held = np.zeros(graph.n, dtype=np.int64)  # the pair each person is in
        held[paired] = lookup.many(paired, mate[paired])
        a, c, w_ac = graph.i, graph.j, graph.weight
        b, d = mate[a], mate[c]
        ok = (b >= 0) & (d >= 0) & (b != c)
        # Only where (b, d) could pay at its best: few pairs are looked up.
        ok &= w_ac + np.minimum(top[b], top[d]) > held[a] + held[c]
        a, b, c, d, w_ac = a[ok], b[ok], c[ok], d[ok], w_ac[ok]
        w_bd = lookup.many(b, d)
        gain = w_ac + w_bd - held[a] - held[c]
        ok = (w_bd >= 0) & (gain > 0)
        if not ok.any():
            break
        a, b, c, d, gain = a[ok], b[ok], c[ok], d[ok], gain[ok]
        order = np.lexsort((np.minimum(a, c), -gain))
        touched = np.zeros(graph.n, dtype=bool)
        for x, y, u, v in zip(
            a[order].tolist(), b[order].tolist(), c[order].tolist(), d[order].tolist(), strict=True
        ):
            if touched[x] or touched[y] or touched[u] or touched[v]:
                continue
            if mate[x] != y or mate[u] != v:
                continue
            mate[x], mate[u] = u, x
            mate[y], mate[v] = v, y
            touched[[x, y, u, v]] = True
            made += 1
    return made


AUCTION_EPSILON = 0.02  # its last bid increment, in thousandths of a score unit
SCALING = 4  # each phase of the auction bids in steps this many times finer


def auction(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    bonus: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The assignment by Bertsekas' auction (one bid at a time, compiled, with epsilon
    scaling): scipy's exact solver slows down sharply on large rounds of nearly equal
    pairs (starting from an earlier auction's prices was 5 times slower at 100,000 people).
    Returns the permutation and, from the final prices, a dual of the pairing with
    ``bonus`` taken off every pair (``dual``); epsilon-complementary slackness keeps the
    assignment within n * epsilon of the optimum."""
    rows = np.concatenate([a, b, np.arange(n)])
    cols = np.concatenate([b, a, np.arange(n)])
    vals = np.concatenate([w, w, np.zeros(n)])
    order = np.argsort(rows * n + cols)  # by row, then column (each pair once)
    cols, vals = cols[order], vals[order]
    indptr = np.searchsorted(rows[order], np.arange(n + 1))
    target, price = assign(indptr, cols, vals, n)
    return target, dual(indptr, cols, vals, price, bonus)


def assign(
    indptr: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    n_cols: int,
    epsilon: float = AUCTION_EPSILON,
) -> tuple[np.ndarray, np.ndarray]:
    """Bertsekas' auction on rows given as CSR (``indptr``, ``cols``, ``vals``, columns in
    each row in increasing order), maximising the total value; every row must be able to
    get a column of its own. Returns each row's column and the final prices.

    Bids come in coarse steps first, then finer (epsilon scaling); a column left free
    after a phase is made free of charge again."""
    n = len(indptr) - 1
    price = np.zeros(n_cols)
    owner = np.full(n_cols, -1, dtype=np.int64)
    target = np.full(n, -1, dtype=np.int64)
    step = max(float(np.abs(vals).max(initial=1.0)) / SCALING, epsilon)
    while True:
        owner[:] = -1
        target[:] = -1
        compiled.bid(indptr, cols, vals, price, owner, target, step)
        if step <= epsilon:
            break
        price[owner < 0] = 0.0
        step = max(step / SCALING, epsilon)
    return target, price


def dual(
    indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, price: np.ndarray, bonus: float
) -> np.ndarray:
    """A dual solution of the pairing on the graph, from auction prices: ``y`` >= 0 per
    person, in score units, with y_i + y_j >= the score of every pair in the graph, so the
    sum of ``y`` bounds the score of any pairing of the graph.

    LP duality: with the pair bonus taken off every pair, any prices p give u_i = person
    i's best value at those prices (themselves at 0 included) with u_i + p_j >= the value
    of every pair, both ways round; y = (u + p) / 2 then holds for each pair (the average
    of its two directions) and y_i >= 0 (from i's own column). A few shifts of the prices
    are tried, the lowest sum kept. Each pair's value is its score in thousandths rounded
    (at most half a thousandth off), so a quarter of a thousandth is added per person."""
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    plain = np.where(cols == rows, 0.0, vals - bonus)
    best = None
    for shift in np.linspace(0.0, bonus, 9):
        moved = price - shift / 2
        y = (np.maximum.reduceat(plain - moved[cols], indptr[:-1]) + moved) / 2
        if best is None or y.sum() < best.sum():
            best = y
    assert best is not None
    return (np.maximum(best, 0.0) + 0.25) / QUANTUM


@dataclass(frozen=True)
class Dual:
    """The auction on a graph: its permutation and the dual ``y`` its prices give
    (``dual``): per person, score units, y_i + y_j >= every kept pair's score."""

    y: np.ndarray
    perm: np.ndarray


def relax(graph: Graph) -> Dual:
    """The assignment relaxation of the graph by the auction."""
    perm, y = auction(
        graph.n, graph.i, graph.j, relaxed_weights(graph), round(PAIR_BONUS * QUANTUM)
    )
    return Dual(y, perm)


def solve(
    graph: Graph, exact: bool, relaxed: Dual | None = None
) -> tuple[np.ndarray, Bound | None, Dual | None]:
    """Mates (-1: nobody) of a best pairing of the graph, the bound proving how good, and
    the relaxation behind the bound (none when the graph is complete and solved exactly).
    ``relaxed``: the graph's relaxation, when already solved (by pricing, ``certify``:
    the graph then holds every pair that pays, and a smaller repair window does)."""
    n = graph.n
    if len(graph.i) == 0:
        return np.full(n, -1, dtype=np.int64), None, None
    given = relaxed
    if relaxed is None and not (exact and graph.complete):
        relaxed = relax(graph)
    if exact:
        return blossom(n, graph.i, graph.j, graph.weight), exact_bound(graph), relaxed
    assert relaxed is not None
    bound = Bound(value=float(relaxed.y.sum()), complete=graph.complete, edges=len(graph.i))
    lookup = EdgeWeights(graph)
    mate = split_cycles(relaxed.perm, lookup)
    limit = REPAIR_LIMIT
    if given is not None:  # at 100,000 people 211 are left: a window of 1,500 leaves 105
        loose = int((mate < 0).sum())
        limit = min(REPAIR_LIMIT, max(PRICED_REPAIR_LIMIT, PRICED_REPAIR_PER_LOOSE * loose))
    repair(graph, mate, limit=limit)
    two_opt(graph, mate, lookup)
    return mate, bound, relaxed


def exact_bound(graph: Graph) -> Bound:
    """The best score any pairing of the graph reaches (blossom on the scores alone, in
    thousandths; a quarter of a thousandth per person covers the rounding)."""
    units = np.rint(graph.score * QUANTUM).astype(np.int64)
    mate = blossom(graph.n, graph.i, graph.j, units)
    keys = graph.i * graph.n + graph.j
    chosen = np.flatnonzero(mate > np.arange(graph.n))
    at = np.searchsorted(keys, chosen * graph.n + mate[chosen])
    best = float(units[at].sum()) + 0.25 * graph.n
    return Bound(value=best / QUANTUM, complete=graph.complete, edges=len(graph.i))
