"""The pairs certificate over every pairing of the round, not only over the candidate pairs.

The argument is LP duality for the fractional pairing (max sum s_ij x_ij with each person's
x summing to at most 1, x >= 0, over every eligible pair): any ``y`` >= 0 with
y_i + y_j >= s_ij for EVERY eligible pair bounds every pairing of the round by sum(y).

The auction's prices give such a ``y`` for the pairs in the candidate graph only
(``pairs.dual``). Pairs outside it are covered in one of two ways:

- Pricing (rounds up to ``matching.PRICE_LIMIT`` people, fewer when free text spreads
  what people share over many items: ``matching._prices_every_pair``): every pair is
  scored by a compiled loop (``compiled.paying``; the ones that come within ``TOLERANCE``
  of the bound are checked and scored again exactly) to find the eligible pairs outside
  the graph with s_ij > y_i + y_j - ``MARGIN``. They are added to the graph and the round
  solved again (column generation, which also raises the score). Every pair left out
  scores at most y_i + y_j - MARGIN by the old ``y``, so the new ``y`` raised to the old
  one less MARGIN / 2 (``floor``) covers them all without pricing them again: when that
  costs under ``CLOSE``, one pass over every pair was enough. Otherwise only the people
  whose ``y`` fell below their floor are priced again (at most ``COLUMN_ROUNDS`` times);
  the pairs that still pay at the last are covered by raising ``y`` (``lifted``). Nothing
  is assumed about the pairs the graph left out: the bound holds for every pairing.
- Caps (larger rounds, where scoring every pair would take minutes): s_ij is at most
  ``cap`` of either person, their score with a partner who shared every item they listed
  and got every bonus; ``capped`` raises ``y`` until y_i + y_j >= min(cap_i, cap_j) for
  every two people. This holds for any pair, so the bound is global, but it is loose:
  most people's cap is well above what any real partner gives them. The certificate then
  shows the candidate bound, and the global one beside it.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.exchange import candidates, compiled, pairs
from bot.exchange.candidates import Graph
from bot.exchange.fields import SetField
from bot.exchange.scoring import Pool

if TYPE_CHECKING:
    from bot.exchange.matching import Rules, Weights

TOLERANCE = 1e-3  # score units: far above rounding error on a score, far below a pair's
COLUMN_ROUNDS = 2  # times the pairs found by pricing are added and the round solved again
CLOSE = 1.0005  # ... unless lifting covers them for less than this share of the bound
MARGIN = 0.5  # pairs added: all within this of paying (1.0: twice the pairs, no better)


def priced(
    pool: Pool, rules: Rules, weights: Weights, seed: int, graph: Graph
) -> tuple[Graph, pairs.Dual, float]:
    """The graph with the pairs pricing found added, its relaxation, and a bound over
    every pairing of the round. Measured at 10,000 people: the index's 82,563 pairs miss
    10,454 that pay (covering them would cost 1.9%); adding the 57,039 within ``MARGIN``
    of paying raises the score 1.06%, and one pass proves the bound 0.043% above it."""
    relaxed = pairs.relax(graph)
    rows = np.arange(pool.n)  # people some of whose pairs outside the graph are not covered
    floor = np.full(pool.n, -np.inf)
    for again in range(COLUMN_ROUNDS + 1):
        last = again == COLUMN_ROUNDS
        margin = 0.0 if last else MARGIN
        a, b, excess = outside(pool, rules, weights, graph, relaxed.y, margin, rows)
        pays = excess > 0
        whole = float(lifted(relaxed.y, a[pays], b[pays], excess[pays]).sum())
        if last or whole <= relaxed.y.sum() * CLOSE:
            return graph, relaxed, whole
        # Every pair left out with one of ``rows`` scores at most y_i + y_j - margin: a
        # later dual raised to this floor covers them without pricing them again.
        floor = np.maximum(floor, relaxed.y - margin / 2)
        floor[rows] = relaxed.y[rows] - margin / 2
        graph = widened(graph, pool, weights, seed, a, b)
        relaxed = pairs.relax(graph)
        proven = float(np.maximum(relaxed.y, floor).sum())
        if proven <= relaxed.y.sum() * CLOSE:
            return graph, relaxed, proven
        rows = np.flatnonzero(relaxed.y < floor)  # only their pairs need pricing again
    raise AssertionError("unreachable")


def outside(
    pool: Pool,
    rules: Rules,
    weights: Weights,
    graph: Graph,
    y: np.ndarray,
    margin: float = 0.0,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every eligible pair i < j outside the graph, one of them in ``rows`` (default:
    everyone), that scores more than y_i + y_j - margin, and by how much more than
    y_i + y_j, found by scoring every such pair."""
    a, b = scored_above(pool, rules, weights, y - (TOLERANCE + margin) / 2, rows)
    n = pool.n
    new = ~candidates.in_sorted(graph.i.astype(np.int64) * n + graph.j, a * n + b)
    a, b = a[new], b[new]
    ok = pool.pair_eligible(a, b, rules)
    a, b = a[ok], b[ok]
    excess = pool.pair_scores(a, b, weights) - y[a] - y[b]
    over = excess > -margin
    return a[over], b[over], excess[over]


BLOCKS = 64  # rows of a round taken in this many interleaved blocks, by two threads
ROOM = 1 << 18  # pairs found per call of the compiled loop


def scored_above(
    pool: Pool,
    rules: Rules,
    weights: Weights,
    need: np.ndarray,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair i < j, one of them in ``rows`` (default: everyone), that the hard rules
    allow and that scores more than need_i + need_j (pairs ruled out by name may be among
    them): each such pair scored by the compiled loop, in interleaved row blocks on two
    threads, and those sharing a rarer item (``shareable``) one by one."""
    n = pool.n
    after = rows is None or len(rows) == n  # everyone: each pair once, from its first
    rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    shared = shareable(pool)
    sets = shared.sets
    codes = np.stack(
        [pool.arrays[key] for key in ("org", "staff", "stage", "mode", "locality", "role")]
    )
    values = np.array(
        [
            weights.professional,
            weights.personal,
            weights.complementarity,
            weights.cross_organisation,
            weights.cross_staff_group,
            weights.career_bridge,
            weights.availability,
        ],
        dtype=np.float64,
    )
    flags = np.array(
        [
            rules.mentoring,
            rules.differ_by_organisation,
            rules.differ_by_staff_group,
            rules.same_locality_in_person,
        ],
        dtype=np.int64,
    )
    need = need.astype(np.float64)

    def work(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        at = np.array([int(rows[0]) + 1 if after else 0, 0], dtype=np.int64)
        room = max(ROOM, compiled.CHUNK)  # one row of a chunk at least, or no progress
        while at[0] < n:
            out_i, out_j = np.empty(room, dtype=np.int64), np.empty(room, dtype=np.int64)
            found = compiled.paying(rows, sets, codes, values, flags, need, out_i, out_j, at, after)
            a.append(out_i[:found])
            b.append(out_j[:found])
        return np.concatenate(a), np.concatenate(b)

    blocks = [rows[start::BLOCKS] for start in range(min(BLOCKS, len(rows)))]
    with ThreadPoolExecutor(max_workers=2) as executor:
        parts = list(executor.map(work, blocks))
    a = np.concatenate([np.zeros(0, dtype=np.int64), *(p[0] for p in parts)])
    b = np.concatenate([np.zeros(0, dtype=np.int64), *(p[1] for p in parts)])
    # The pairs sharing a rarer item, which the loop scored without it: scored one by one.
    ta, tb = shared.tail // n, shared.tail % n
    if not after:
        mine = np.zeros(n, dtype=bool)
        mine[rows] = True
        touched = mine[ta] | mine[tb]
        ta, tb = ta[touched], tb[touched]
    elif not len(ta):
        return a, b  # each pair once already, none to score again
    key = np.minimum(a, b) * n + np.maximum(a, b)
    key = key[~candidates.in_sorted(shared.tail, key)]
    pays = pool.pair_eligible(ta, tb, rules)
    pays[pays] = pool.pair_scores(ta[pays], tb[pays], weights) > need[ta[pays]] + need[tb[pays]]
    key = candidates.unique_sorted(np.concatenate([key, ta[pays] * n + tb[pays]]))
    return key // n, key % n


HEAD = 64  # items of a field scored on bitsets at least: those the most pairs share ...
TAIL_PAIRS = 1 << 22  # ... and more, 64 at a time, while the rest are shared by more pairs


@dataclass(frozen=True)
class Shareable:
    """What pricing scores: the bitsets (professional, personal, offers, wants, days) of
    each field's most shared items, and the pairs i < j (keys i * n + j) that share one of
    the rarer items left out, which the loop would underscore: they are scored one by one.
    Items nobody could share (an interest one person lists, a topic offered and never
    wanted: most free text) are in neither. Each 64 items on bitsets cost a pass over
    every pair; days are kept whole (the loop reads from them who gave any)."""

    sets: tuple[np.ndarray, ...]
    tail: np.ndarray


def shareable(pool: Pool) -> Shareable:
    n = pool.n
    tails = [np.zeros(0, dtype=np.int64)]

    def head(field: SetField, other: SetField, pairs: np.ndarray) -> np.ndarray:
        """The items scored on bitsets (a mask): the most shared (``pairs`` per item), 64
        at a time, until the rest are shared by few pairs; those pairs go to ``tails``."""
        order = np.argsort(-pairs, kind="stable")
        order = order[pairs[order] > 0]
        rest = np.cumsum(pairs[order][::-1])[::-1]  # rest[k]: pairs sharing items k on
        k = HEAD
        while k < len(order) and rest[k] > TAIL_PAIRS:
            k += 64
        if k < len(order):
            mine, theirs = field.matrix.tocsc(), other.matrix.tocsc()  # type: ignore[union-attr]
            for item in order[k:].tolist():
                x = mine.indices[mine.indptr[item] : mine.indptr[item + 1]]
                y = theirs.indices[theirs.indptr[item] : theirs.indptr[item + 1]]
                lo = np.minimum.outer(x, y).ravel().astype(np.int64)
                hi = np.maximum.outer(x, y).ravel().astype(np.int64)
                tails.append(lo[lo < hi] * n + hi[lo < hi])
        mask = np.zeros(field.size, dtype=bool)
        mask[order[:k]] = True
        return mask

    def common(field: SetField) -> np.ndarray:
        count = field.holders()
        return field.words(head(field, field, count * (count - 1) // 2))

    traded = head(pool.offers, pool.wants, pool.offers.holders() * pool.wants.holders())
    sets = (
        common(pool.professional),
        common(pool.personal),
        pool.offers.words(traded),
        pool.wants.words(traded),
        pool.availability.words(),
    )
    return Shareable(sets, candidates.unique_sorted(np.concatenate(tails)))


def widened(graph: Graph, pool: Pool, weights: Weights, seed: int, a: np.ndarray, b: np.ndarray):
    """The graph with the pairs i < j in ``a``, ``b`` added (and its degrees kept)."""
    n = graph.n
    key = candidates.unique_sorted(np.concatenate([graph.i * n + graph.j, a * n + b]))
    i, j = key // n, key % n
    score, weight = candidates.edge_values(pool, i, j, weights, seed)
    return Graph(n, i, j, score, weight, graph.degree, graph.priority, graph.complete)


def lifted(y: np.ndarray, a: np.ndarray, b: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """``y`` raised so that y_i + y_j covers each pair's score: the better of raising both
    ends of every such pair by half of its largest excess, and raising, pair by pair from
    the largest excess, the end in more such pairs by what is still missing."""
    half = y.copy()
    np.maximum.at(half, a, y[a] + excess / 2)
    np.maximum.at(half, b, y[b] + excess / 2)
    greedy = y.copy()
    count = np.bincount(np.concatenate([a, b]), minlength=len(y))
    for k in np.argsort(-excess, kind="stable").tolist():
        i, j = int(a[k]), int(b[k])
        missing = y[i] + y[j] + excess[k] - greedy[i] - greedy[j]
        if missing > 0:
            greedy[i if count[i] >= count[j] else j] += missing
    return half if half.sum() <= greedy.sum() else greedy


def caps(pool: Pool, weights: Weights) -> np.ndarray:
    """Each person's highest possible score with anyone: a partner who shares every
    interest and day they listed, wants all they offer, offers all they want, and earns
    every bonus (weights below zero count as zero)."""

    def w(value: float) -> float:
        return max(0.0, float(value))

    def root(field: object) -> np.ndarray:
        return np.sqrt(np.array([len(m) for m in field.members], dtype=np.float64))  # type: ignore[attr-defined]

    stage = pool.arrays["stage"]
    return (
        w(weights.professional) * root(pool.professional)
        + w(weights.personal) * root(pool.personal)
        + w(weights.complementarity) * (root(pool.offers) + root(pool.wants))
        + w(weights.cross_organisation) * (pool.arrays["org"] >= 0)
        + w(weights.cross_staff_group) * (pool.arrays["staff"] >= 0)
        + w(weights.career_bridge) * (stage > 0)
        + w(weights.availability)
    )


def capped(y: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """``y`` raised so that y_i + y_j >= min(cap_i, cap_j) for every two people i, j.

    People are taken from the highest cap down, each raised to their cap less the lowest
    ``y`` among those before them (who have caps at least theirs), which covers every pair
    with an earlier person; the lowest of a few starting points (everyone first raised to
    a share of their own cap) is kept."""
    order = np.argsort(-cap, kind="stable").tolist()
    best = None
    for share in (0.0, 0.25, 0.4, 0.5):
        out = np.maximum(y, share * cap)
        low = math.inf
        for t in order:
            out[t] = max(out[t], cap[t] - low)
            low = min(low, out[t])
        if best is None or out.sum() < best.sum():
            best = out
    assert best is not None
    return best
