"""The candidate graph: the eligible pairs a round's solvers may use, each person's best.

Two ways to find each person's ``k`` best eligible partners:

- ``square``: every row scored against everyone in numpy blocks (``Pool.rank_block``): the
  exact k best, or every eligible pair in small rounds (a complete graph: its pairs are
  certified against the best possible pairing). Cost n², so it is used only up to
  ``matching.SQUARE_LIMIT`` people.
- ``index`` (``index.py``): no square; bucket-mates who share the strongest signals.

Both give a ``Graph``: edges i < j with their exact score and integer weight.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.exchange.scoring import Pool

if TYPE_CHECKING:
    from bot.exchange.matching import Rules, Weights

QUANTUM = 1000  # internal weights are integers: thousandths of a score unit ...
JITTER = 16  # ... times this, plus a seeded tie-break below one thousandth
PAIR_BONUS = 20.0  # score units per matched pair: match as many people as possible
PRIORITY_BONUS = 1000.0  # per carried-over person in a pair: they are matched first
_GOLDEN = 0x9E3779B97F4A7C15


@dataclass
class Graph:
    """Eligible pairs kept for optimisation: edges i < j with their score and weight."""

    n: int
    i: np.ndarray
    j: np.ndarray
    score: np.ndarray  # float64, exactly pair_score
    weight: np.ndarray  # int64 internal weight: bonuses, score in thousandths, tie-break
    degree: np.ndarray  # eligible partners: all of them (square) or at least the kept ones
    priority: np.ndarray  # carried over from the last round
    complete: bool = False  # every eligible pair of the round is an edge

    def neighbours(self) -> list[dict[int, float]]:
        """Each person's kept partners and the pair's score."""
        adj: list[dict[int, float]] = [{} for _ in range(self.n)]
        for a, b, s in zip(self.i.tolist(), self.j.tolist(), self.score.tolist(), strict=True):
            adj[a][b] = s
            adj[b][a] = s
        return adj


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread, platform-independent hash of uint64s."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(_GOLDEN)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def salt_of(seed: int) -> np.uint64:
    return np.uint64((seed * _GOLDEN) % (1 << 64))


def jitter(seed: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """A seeded, symmetric pseudo-random integer in [0, JITTER) per pair."""
    lo = np.minimum(i, j).astype(np.uint64)
    hi = np.maximum(i, j).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = mix((lo << np.uint64(32)) ^ hi ^ salt_of(seed))
    return (x % np.uint64(JITTER)).astype(np.int64)


def internal_weight(score: np.ndarray, priorities: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Integer weights: bonuses and score in thousandths, then the tie-break."""
    units = (
        np.rint(np.asarray(score) * QUANTUM).astype(np.int64)
        + round(PAIR_BONUS * QUANTUM)
        + round(PRIORITY_BONUS * QUANTUM) * np.asarray(priorities).astype(np.int64)
    )
    return units * JITTER + tie


def edge_values(pool: Pool, a: np.ndarray, b: np.ndarray, weights: Weights, seed: int) -> tuple:
    """Pairs' exact scores and internal weights."""
    s = pool.pair_scores(a, b, weights)
    w = internal_weight(s, pool.priority[a].astype(np.int64) + pool.priority[b], jitter(seed, a, b))
    return s, w


def empty_graph(pool: Pool) -> Graph:
    none = np.zeros(0, dtype=np.int64)
    n = pool.n
    return Graph(
        n,
        none,
        none,
        np.zeros(0),
        none,
        np.zeros(n, dtype=np.int64),
        pool.priority,
        True,  # fewer than two people: no pair to leave out
    )


# ---------------------------------------------------------------------- the square


def square_graph(
    pool: Pool, rules: Rules, weights: Weights, seed: int, k: int, keep_all: bool
) -> Graph:
    """Each person's ``k`` best eligible partners (all of them when ``keep_all``), scoring
    every pair in row blocks."""
    n = pool.n
    if n < 2:
        return empty_graph(pool)
    keep_all = keep_all or n - 1 <= k
    size = max(1, min(n, (1 << 20) // n))
    blocks = [np.arange(s, min(s + size, n)) for s in range(0, n, size)]
    columns = np.arange(n)

    def work(rows: np.ndarray) -> tuple[np.ndarray, ...]:
        rank, floor = pool.rank_block(rows, rules, weights)
        eligible = rank > floor
        degree = eligible.sum(axis=1)
        if keep_all:
            r, c = np.nonzero(eligible & (rows[:, None] < columns[None, :]))
            return rows[r], c, degree
        # Partners ranked by score alone: a carried-over person's bonus would put them at the
        # top of everyone's list and crowd everyone else out of the graph.
        top = np.argpartition(-rank, k - 1, axis=1)[:, :k]
        ok = np.take_along_axis(eligible, top, axis=1)
        r = np.broadcast_to(rows[:, None], top.shape)[ok]
        c = top[ok]
        return np.minimum(r, c), np.maximum(r, c), degree

    if len(blocks) > 1:
        pool.prepare(rules, weights)  # once, before the threads share it
        with ThreadPoolExecutor(max_workers=2) as executor:
            parts = list(executor.map(work, blocks))
    else:
        parts = [work(blocks[0])]
    a = np.concatenate([p[0] for p in parts]).astype(np.int64)
    b = np.concatenate([p[1] for p in parts]).astype(np.int64)
    degree = np.concatenate([p[2] for p in parts]).astype(np.int64)
    key = unique_sorted(a * n + b)
    a, b = key // n, key % n
    ok = pool.pair_eligible(a, b, rules)  # blocks rank in float32: check the kept pairs exactly
    a, b = a[ok], b[ok]
    s, w = edge_values(pool, a, b, weights, seed)
    return Graph(n, a, b, s, w, degree, pool.priority, keep_all)


def unique_sorted(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct int64s (a sort and a mask: faster than hashing at this size)."""
    keys = np.sort(keys)
    if len(keys) == 0:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def in_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which of ``keys`` are among ``sorted_keys`` (sorted int64s)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys
