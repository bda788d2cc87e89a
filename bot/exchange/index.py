"""The candidate graph without the square: an inverted index of the strongest signals.

People are put in buckets by the strongest signals of the score (the same professional
interests, pairs of them, an offer meeting a want within a shared theme, a shared theme and
hobby, ...): every bucket is an inverted-index entry, a list of people. Each person is
proposed a few bucket-mates per key (a seeded rotation of the bucket, so large buckets cost
a fixed number of proposals), those pairs are checked and scored exactly, and each person
keeps their ``k`` best. A person the buckets leave with too few eligible proposals is scored
against everyone (one row), so nobody with an eligible partner is left without one.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from bot.exchange.candidates import (
    QUANTUM,
    Graph,
    empty_graph,
    internal_weight,
    jitter,
    mix,
    salt_of,
    unique_sorted,
)
from bot.exchange.scoring import Pool

if TYPE_CHECKING:
    from bot.exchange.matching import Rules, Weights


def _flat(members: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """(person, item code) for every item of every person, by person."""
    counts = np.fromiter((len(m) for m in members), dtype=np.int64, count=len(members))
    who = np.repeat(np.arange(len(members)), counts)
    codes = np.fromiter(chain.from_iterable(members), dtype=np.int64, count=int(counts.sum()))
    return who, codes


def _cross(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, item of the first field, item of the second) for each person's every
    combination of one item from each field."""
    who_a, code_a = first
    who_b, code_b = second
    count_b = np.bincount(who_b, minlength=n)
    start_b = np.concatenate([[0], np.cumsum(count_b)[:-1]])
    times = count_b[who_a]
    who = np.repeat(who_a, times)
    left = np.repeat(code_a, times)
    offset = np.arange(len(who)) - np.repeat(np.cumsum(times) - times, times)
    right = code_b[start_b[who] + offset]
    return who, left, right


def _pairs_of(field: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, item, later item) for every two items one person holds."""
    who, codes = field
    out_who, out_a, out_b = [], [], []
    for d in range(1, 8):
        same = who[d:] == who[:-d] if d < len(who) else np.zeros(0, dtype=bool)
        if not same.any():
            break
        out_who.append(who[:-d][same])
        out_a.append(codes[:-d][same])
        out_b.append(codes[d:][same])
    if not out_who:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(out_who), np.concatenate(out_a), np.concatenate(out_b)


def _rotation(
    keys: np.ndarray, who: np.ndarray, salt: np.uint64, near: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Entries sorted by key, then by ``near`` (people alike in it end up next to each
    other), then in a seeded order; each entry's bucket start and size, and its rank."""
    tie = mix(who.astype(np.uint64) ^ salt ^ mix(keys.astype(np.uint64)))
    order = np.lexsort((tie, keys) if near is None else (tie, near[who], keys))
    keys, who = keys[order], who[order]
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return keys, who, empty, empty, empty
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    new[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(new)
    bucket = np.cumsum(new) - 1
    start = starts[bucket]
    sizes = np.diff(np.append(starts, len(keys)))[bucket]
    return keys, who, start, sizes, np.arange(len(keys)) - start


def link_within(
    keys: np.ndarray, who: np.ndarray, m: int, salt: np.uint64, near: np.ndarray | None = None
) -> np.ndarray:
    """Each entry proposed to the next ``m`` people of its bucket (a seeded rotation)."""
    keys, who, start, sizes, rank = _rotation(keys, who, salt, near)
    out = []
    for t in range(1, m + 1):
        ok = sizes > t
        partner = who[start[ok] + (rank[ok] + t) % sizes[ok]]
        out.append(np.stack([who[ok], partner], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def link_across(
    keys_a: np.ndarray, who_a: np.ndarray, keys_b: np.ndarray, who_b: np.ndarray, m: int, salt
) -> np.ndarray:
    """Each A entry proposed to ``m`` B entries of the same key, spread over the bucket."""
    keys_a, who_a, _, size_a, rank_a = _rotation(keys_a, who_a, salt)
    keys_b, who_b, _, _, _ = _rotation(keys_b, who_b, salt ^ np.uint64(1))
    lo = np.searchsorted(keys_b, keys_a, side="left")
    hi = np.searchsorted(keys_b, keys_a, side="right")
    size_b = hi - lo
    ok = size_b > 0
    out = []
    for t in range(m):
        sel = ok & (size_b > t)
        at = lo[sel] + (rank_a[sel] * size_b[sel] // size_a[sel] + t) % size_b[sel]
        out.append(np.stack([who_a[sel], who_b[at]], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def _alike(pool: Pool) -> np.ndarray:
    """A sort key that puts people with the same free days, then hobbies, side by side."""
    days = np.array([hash_bits(b) for b in pool.availability.bits], dtype=np.uint64)
    hobbies = np.array([hash_bits(b) for b in pool.personal.bits], dtype=np.uint64)
    with np.errstate(over="ignore"):
        return ((days % np.uint64(1 << 20)) << np.uint64(40)) | (hobbies % np.uint64(1 << 40))


def hash_bits(bits: int) -> int:
    """A set's bitmask folded into 64 bits (sets of up to 64 items unchanged)."""
    folded = 0
    while bits:
        folded ^= bits & 0xFFFFFFFFFFFFFFFF
        bits >>= 64
    return folded


def _proposals(pool: Pool, seed: int, reach: int) -> np.ndarray:
    """The distinct pairs the buckets propose, as keys a * n + b with a < b (possibly
    ineligible). Each family's proposals become keys at once: at 100,000 people they are
    tens of millions, and pairs of ids would take twice the memory."""
    n = pool.n
    salt = salt_of(seed)
    m = max(1, reach)
    prof = _flat(pool.professional.members)
    personal = _flat(pool.personal.members)
    offers, wants = _flat(pool.offers.members), _flat(pool.wants.members)
    days = _flat(pool.availability.members)
    themes = max(1, pool.professional.size)
    topics = max(1, pool.offers.size)
    hobbies = max(1, pool.personal.size)
    day_codes = max(1, pool.availability.size)
    ids = {s: k for k, s in enumerate(sorted(set(pool.professional.members)))}
    theme_set = np.array([ids[s] if s else -1 for s in pool.professional.members], dtype=np.int64)
    stage = np.array(pool.stage, dtype=np.int64)
    # Bucket-mates next to each other share free days and hobbies (a bonus each).
    near = _alike(pool)
    found: list[np.ndarray] = []

    def tagged(family: int, keys: np.ndarray) -> np.ndarray:
        return keys.astype(np.int64) + (np.int64(family) << np.int64(56))

    def propose(proposed: np.ndarray) -> None:
        a, b = proposed[:, 0], proposed[:, 1]
        apart = a != b
        found.append(np.minimum(a, b)[apart] * n + np.maximum(a, b)[apart])

    def within(family: int, who: np.ndarray, keys: np.ndarray, links: int) -> None:
        propose(link_within(tagged(family, keys), who, links, salt ^ np.uint64(family), near))

    def across(family: int, a: tuple, b: tuple, links: int) -> None:
        (wa, ka), (wb, kb) = a, b
        ka, kb = tagged(family, ka), tagged(family, kb)
        propose(link_across(ka, wa, kb, wb, links, salt ^ np.uint64(family)))
        propose(link_across(kb, wb, ka, wa, links, salt ^ np.uint64(family + 64)))

    def with_themes(field: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        who, codes = field
        keep = theme_set[who] >= 0
        return who[keep], theme_set[who[keep]] * topics + codes[keep]

    # The same professional interests (all of them), and each two of them.
    has = np.flatnonzero(theme_set >= 0)
    within(1, has, theme_set[has], 2 * m)
    who, x, y = _pairs_of(prof)
    within(2, who, x * themes + y, m)
    # An offer meeting a want: within the same interests, within one shared theme, and
    # both ways at once (I offer what you want and you offer what I want).
    across(4, with_themes(offers), with_themes(wants), m)
    who_o, t_o, o = _cross(prof, offers, n)
    who_w, t_w, w = _cross(prof, wants, n)
    across(5, (who_o, t_o * topics + o), (who_w, t_w * topics + w), m)
    who, o, w = _cross(offers, wants, n)
    across(6, (who, o * topics + w), (who, w * topics + o), m)
    # A shared theme and a shared hobby; one shared theme (for reach); nothing to go on.
    who, t, h = _cross(prof, personal, n)
    within(7, who, t * hobbies + h, m)
    within(8, prof[0], prof[1], m)
    none = np.flatnonzero(theme_set < 0)
    within(9, none, np.zeros(len(none), dtype=np.int64), 2 * m)
    # The same interests and a shared free day; a theme across a career bridge (early
    # career with senior, two stages apart).
    who, d = days
    keep = theme_set[who] >= 0
    within(10, who[keep], theme_set[who[keep]] * day_codes + d[keep], m)
    who, t = prof
    early = (stage[who] == 1) | (stage[who] == 2)
    senior_1 = stage[who] >= 3
    senior_2 = stage[who] >= 4
    across(
        11,
        (who[early], t[early] * 8 + stage[who[early]]),
        (
            np.concatenate([who[senior_1], who[senior_2]]),
            np.concatenate([t[senior_1] * 8 + 1, t[senior_2] * 8 + 2]),
        ),
        m,
    )
    return unique_sorted(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def index_graph(
    pool: Pool,
    rules: Rules,
    weights: Weights,
    seed: int,
    k: int,
    reach: int = 3,
    side: np.ndarray | None = None,
) -> Graph:
    """Each person's ``k`` best eligible partners among the pairs the buckets propose
    (only pairs across the two ``side``s when given: mentors and mentees)."""
    n = pool.n
    if n < 2:
        return empty_graph(pool)
    a, b, s = _checked(pool, rules, weights, _proposals(pool, seed, reach), side)
    a, b, s = _top_k(n, a, b, s, k, _reduced(n, a, b, s))
    short = np.flatnonzero(np.bincount(np.concatenate([a, b]), minlength=n) < min(2, n - 1))
    if len(short):  # the buckets missed them: score them against everyone
        ra, rb, _ = _rows_against_everyone(pool, rules, weights, short, k)
        key = unique_sorted(np.concatenate([a * n + b, ra * n + rb]))
        a, b = key // n, key % n
        s = pool.pair_scores(a, b, weights)
    w = internal_weight(s, pool.priority[a].astype(np.int64) + pool.priority[b], jitter(seed, a, b))
    degree = np.bincount(np.concatenate([a, b]), minlength=n).astype(np.int64)
    return Graph(n, a, b, s, w, degree, pool.priority, False)


CHECK_CHUNK = 1 << 21  # pairs checked and scored at a time (memory: tens of millions in all)


def _checked(
    pool: Pool, rules: Rules, weights: Weights, keys: np.ndarray, side: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The eligible pairs among ``keys`` (a * n + b; across the ``side``s when given), with
    their scores, checked and scored a chunk at a time."""
    n = pool.n
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for at in range(0, len(keys), CHECK_CHUNK):
        a, b = np.divmod(keys[at : at + CHECK_CHUNK], n)
        if side is not None:
            across = side[a] != side[b]
            a, b = a[across], b[across]
        ok = pool.pair_eligible(a, b, rules)
        a, b = a[ok], b[ok]
        out.append((a, b, pool.pair_scores(a, b, weights)))
    if not out:
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros(0)
    a, b, s = (np.concatenate(part) for part in zip(*out, strict=True))
    return a, b, s


HUB_RANK = 5  # a person's HUB_RANK-th best score, halved, is what they can expect


def _reduced(n: int, a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Pair scores less what each end can expect elsewhere (half their HUB_RANK-th best
    score): people everyone likes are in everyone's top list, but can pair only once, so
    lists are ranked by what a pair adds over each person's alternatives."""
    if len(a) == 0:
        return s
    q = np.rint(s * QUANTUM).astype(np.int64)
    top = int(q.max())
    np.subtract(top, q, out=q)  # best first
    bits = max(1, int(q.max()).bit_length())
    packed = _by_end(a, b, q, bits)
    count, first = _ends(n, a, b)
    at = first + np.minimum(count, HUB_RANK) - 1
    best = (packed[np.maximum(at, 0)] & ((1 << bits) - 1)).astype(np.float64)
    expect = np.where(count > 0, (top - best) / QUANTUM / 2, 0.0)
    return s - expect[a] - expect[b]


def _by_end(a: np.ndarray, b: np.ndarray, low: np.ndarray, bits: int) -> np.ndarray:
    """Each pair twice, as (end << bits) | low, once per end, sorted: each person's pairs
    together, in the order of ``low``. Built in place: at 100,000 people there are tens of
    millions of pairs."""
    m = len(a)
    packed = np.empty(2 * m, dtype=np.int64)
    for half, end in ((packed[:m], a), (packed[m:], b)):
        np.left_shift(end, bits, out=half)
        np.bitwise_or(half, low, out=half)
    packed.sort()
    return packed


def _ends(n: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many pairs each person is in, and where their pairs start in ``_by_end``."""
    count = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    return count, np.cumsum(count) - count


def _top_k(
    n: int, a: np.ndarray, b: np.ndarray, s: np.ndarray, k: int, rank: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs among each person's ``k`` best by ``rank`` (default: the score; a pair
    stays if either end keeps it); ties go to the lower edge number, so the result depends
    only on the pairs."""
    m = len(a)
    if m == 0:
        return a, b, s
    q = np.rint((s if rank is None else rank) * QUANTUM).astype(np.int64)
    np.subtract(q.max(), q, out=q)  # best first
    edge_bits = max(1, int(m - 1).bit_length())
    value_bits = max(1, int(q.max()).bit_length())
    if edge_bits + value_bits + max(1, int(n).bit_length()) > 63:
        raise ValueError("round too large for the candidate index")
    np.left_shift(q, edge_bits, out=q)
    np.bitwise_or(q, np.arange(m, dtype=np.int64), out=q)
    packed = _by_end(a, b, q, value_bits + edge_bits)
    del q
    count, first = _ends(n, a, b)
    kept_count = np.minimum(count, k)
    # The first min(count, k) places of each person's run.
    starts = np.repeat(first - (np.cumsum(kept_count) - kept_count), kept_count)
    places = np.arange(int(kept_count.sum()), dtype=np.int64) + starts
    kept = unique_sorted(packed[places] & ((1 << edge_bits) - 1))
    return a[kept], b[kept], s[kept]


def _rows_against_everyone(
    pool: Pool, rules: Rules, weights: Weights, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = pool.n
    k = min(k, n - 1)
    found_a, found_b = [], []
    step = max(1, (1 << 22) // n)
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        rank, floor = pool.rank_block(chunk, rules, weights)
        top = np.argpartition(-rank, k - 1, axis=1)[:, :k]
        ok = np.take_along_axis(rank, top, axis=1) > floor
        r = np.broadcast_to(chunk[:, None], top.shape)[ok]
        c = top[ok]
        found_a.append(np.minimum(r, c))
        found_b.append(np.maximum(r, c))
    a = np.concatenate(found_a).astype(np.int64)
    b = np.concatenate(found_b).astype(np.int64)
    ok = pool.pair_eligible(a, b, rules)
    a, b = a[ok], b[ok]
    return a, b, pool.pair_scores(a, b, weights)
