"""The two loops of pairs matching that numpy cannot hold at a region's size, compiled with
numba: the auction's bidding (one bid at a time, each scanning one person's pairs) and
pricing (every pair of a round scored against a dual, 5 billion at 100,000 people).

Both are plain loops over plain arrays; ``pairs.assign`` and ``certify.outside`` call them
and own everything else. Compiled on first use and cached beside this file.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from bot.exchange.scoring import MODE_IN_PERSON, MODE_VIRTUAL, ROLE_EITHER


@intrinsic
def _popcount(typingctx, x):  # type: ignore[no-untyped-def]
    """Set bits in a 64-bit word (one machine instruction)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


@njit(nogil=True, cache=True)
def bid(
    indptr: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    price: np.ndarray,
    owner: np.ndarray,
    target: np.ndarray,
    step: float,
) -> int:
    """One phase of Bertsekas' auction (Gauss-Seidel): every row without a column bids for
    its best column at ``price`` (by its value less the second best, plus ``step``),
    taking it from its owner, who bids next; rows first in increasing order, then those
    outbid in the order they lost. Every row must have a column of its own to fall back
    on. Returns the number of bids."""
    n = len(indptr) - 1
    queue = np.empty(n + 1, dtype=np.int64)  # circular: at most n rows wait at once
    head = 0
    tail = 0
    for i in range(n):
        if target[i] < 0:
            queue[tail] = i
            tail += 1
    size = n + 1
    bids = 0
    while head != tail:
        i = queue[head]
        head = (head + 1) % size
        lo, hi = indptr[i], indptr[i + 1]
        best = -np.inf
        second = -np.inf
        column = -1
        for e in range(lo, hi):
            value = vals[e] - price[cols[e]]
            if value > best:
                second = best
                best = value
                column = cols[e]
            elif value > second:
                second = value
        if hi - lo == 1:
            second = best - step
        price[column] += best - second + step
        loser = owner[column]
        owner[column] = i
        target[i] = column
        bids += 1
        if loser >= 0:
            target[loser] = -1
            queue[tail] = loser
            tail = (tail + 1) % size
    return bids


CHUNK = 2048  # partners scored at once by one row: a few small buffers that stay in cache


@njit(nogil=True, cache=True)
def _shared(out: np.ndarray, mine: np.ndarray, i: int, theirs: np.ndarray, lo: int) -> None:
    """out[x] = items row ``i`` of ``mine`` shares with row lo + x of ``theirs`` (bitsets
    stored word-major: one row of words per 64 items)."""
    for x in range(len(out)):
        out[x] = 0.0
    for t in range(mine.shape[0]):
        word = mine[t, i]
        other = theirs[t]
        for x in range(len(out)):
            out[x] += _popcount(word & other[lo + x])


@njit(nogil=True, cache=True)
def paying(
    rows: np.ndarray,
    sets: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    codes: np.ndarray,
    weights: np.ndarray,
    rules: np.ndarray,
    need: np.ndarray,
    out_i: np.ndarray,
    out_j: np.ndarray,
    at: np.ndarray,
    after: bool,
) -> int:
    """The pairs (i, j), i in ``rows`` (increasing) and j after i (``after``) or anyone
    else, that the hard rules allow (all but the named pairs) and that score more than
    need_i + need_j, written to ``out_i``, ``out_j``; returns how many. Goes on from
    ``at`` (the first column of a chunk, a place in ``rows``) and, when the room left
    cannot hold another row of a chunk, stops there, ``at`` saying where to go on from
    (``at[0] == n``: done); ``out_i`` must have room for at least ``CHUNK``.

    ``sets``: professional, personal, offers, wants, days as word-major bitsets. ``codes``:
    rows organisation, staff group, career stage, mode, place, role (-1 unknown).
    ``weights``: as ``Weights``, in its order. ``rules``: mentoring, differ by organisation,
    differ by staff group, same place in person (0 or 1). The score is summed as
    ``Pool.score`` sums it, in float64."""
    professional, personal, offers, wants, days = sets
    # Rows indexed one by one: unpacking the array gives views the loop cannot vectorise.
    org, staff, stage = codes[0], codes[1], codes[2]
    mode, place, role = codes[3], codes[4], codes[5]
    n = codes.shape[1]
    w_prof, w_pers, w_comp, w_org, w_staff, w_bridge, w_days = weights
    mentoring, differ_org, differ_staff, same_place = rules
    c_prof = np.empty(CHUNK)
    c_pers = np.empty(CHUNK)
    c_gives = np.empty(CHUNK)
    c_takes = np.empty(CHUNK)
    c_days = np.empty(CHUNK)
    excess = np.empty(CHUNK)
    has_days = np.zeros(n, dtype=np.bool_)
    for t in range(days.shape[0]):
        for j in range(n):
            if days[t, j] != 0:
                has_days[j] = True
    found = 0
    for lo in range(at[0], n, CHUNK):
        # Column chunk outside, rows inside: the chunk's columns stay in cache for all rows.
        hi = min(n, lo + CHUNK)
        for r in range(at[1], len(rows)):
            i = rows[r]
            if after and i >= hi - 1:
                break
            if len(out_i) - found < CHUNK:
                at[0], at[1] = lo, r
                return found
            start = max(lo, i + 1) if after else lo
            size = hi - start
            org_i, staff_i, stage_i = org[i], staff[i], stage[i]
            mode_i, place_i, role_i, days_i = mode[i], place[i], role[i], has_days[i]
            _shared(c_prof[:size], professional, i, professional, start)
            _shared(c_pers[:size], personal, i, personal, start)
            _shared(c_gives[:size], offers, i, wants, start)
            _shared(c_takes[:size], wants, i, offers, start)
            _shared(c_days[:size], days, i, days, start)
            for x in range(size):
                j = start + x
                total = 0.0
                total = total + w_prof * np.sqrt(c_prof[x])
                total = total + w_pers * np.sqrt(c_pers[x])
                total = total + w_comp * (np.sqrt(c_gives[x]) + np.sqrt(c_takes[x]))
                total = total + w_org * ((org_i >= 0) & (org[j] >= 0) & (org_i != org[j]))
                total = total + w_staff * ((staff_i >= 0) & (staff[j] >= 0) & (staff_i != staff[j]))
                total = total + w_bridge * (
                    (stage_i > 0) & (stage[j] > 0) & (abs(stage_i - stage[j]) >= 2)
                )
                total = total + w_days * (c_days[x] > 0)
                clash = (
                    (mentoring != 0) & (role_i == role[j]) & (role_i != ROLE_EITHER)
                    | (differ_org != 0) & (org_i == org[j]) & (org_i >= 0)
                    | (differ_staff != 0) & (staff_i == staff[j]) & (staff_i >= 0)
                    | (mode_i == MODE_IN_PERSON) & (mode[j] == MODE_VIRTUAL)
                    | (mode_i == MODE_VIRTUAL) & (mode[j] == MODE_IN_PERSON)
                    | (same_place != 0)
                    & (mode_i == MODE_IN_PERSON)
                    & (mode[j] == MODE_IN_PERSON)
                    & ((place_i < 0) | (place_i != place[j]))
                    | days_i & has_days[j] & (c_days[x] == 0)
                )
                excess[x] = -np.inf if clash else total - need[i] - need[j]
            if start <= i < hi:
                excess[i - start] = -np.inf  # nobody pairs with themselves
            for x in range(size):
                if excess[x] > 0.0:
                    out_i[found] = i
                    out_j[found] = start + x
                    found += 1
        at[1] = 0
    at[0] = n
    return found
