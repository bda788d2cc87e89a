"""Exchange matching at scale: quality, speed, certificates and hard rules, against exact
and naive baselines.

Generates realistic improvement communities from the defaults in DESIGN.md (staff groups in
NHS-like proportions, organisations of many types with a skewed size distribution, places,
improvement themes with Zipf-like popularity, personal interests, "I can offer" / "I want to
learn" topics, career stages, weekday availability, in person / virtual, a few do-not-pair
requests, past pairings, a few people paused and a few carried over from the last round) and
prints, for pairs at each size:

- wall time and CPU time of ``match`` (the machine is shared: CPU time shows the work), and
  peak traced memory (tracemalloc, a second run, up to ``--memory-limit`` people);
- the machine's load average (other engineers share the two cores: wall times under load
  are long, CPU time shows the work), also printed before and after each table;
- its certificate: the pairing's score, the proven bound and the gap (* = of the candidate
  pairs only), and the bound over every pairing of the round and its gap (priced up to
  ``matching.PRICE_LIMIT`` people, a loose cap above; ``bot/exchange/certify.py``);
- its total score as a percentage of the exact optimum where N <= ``--exact-limit``
  (default 2000), else "n/a": a maximum-weight matching of the full eligible graph with
  copbot's bonuses for matching everyone and carried-over people first, by Edmonds'
  blossom algorithm (rustworkx), finished the same way (a leftover joins the pair they fit
  best);
- hard-rule violations found by the independent checker ``violations`` (must be 0);
- for copbot, a random pairing that keeps the same hard rules, and a greedy pairing (best
  pair first among the same candidate pairs, each person's 50 best): people placed, mean
  score per pair, mean shared interests per pair, and the share of pairs across
  organisations and across staff groups.

Then a line each for action learning sets (size 4) and mentoring: the certificate, for
sets the best of the random restarts that keep every rule beside it, for mentoring the
exact optimum over every eligible pair where N <= ``--exact-limit`` (scipy's dense
Hungarian method on mentor places expanded by capacity). Nothing is asserted.

    .venv/bin/python bench/matching.py                         # 2,000 to 100,000
    .venv/bin/python bench/matching.py --sizes 2000,10000      # a quick run
    .venv/bin/python bench/matching.py --sizes 300 --formats pairs --exact-limit 300
    .venv/bin/python bench/matching.py --sizes 100000 --formats pairs --free-text
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from itertools import combinations
from pathlib import Path

import numpy as np
import rustworkx as rx
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.defaults import IMPROVEMENT_THEMES, ORGANISATION_TYPES, STAFF_GROUPS
from bot.exchange import candidates, index, matching, mentoring
from bot.exchange.fields import norm
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

# Rough shares of the NHS and care workforce that joins improvement communities.
STAFF_SHARES = {
    "Nursing and midwifery": 30,
    "Medical": 17,
    "Allied health professionals": 13,
    "Management and administration": 10,
    "Pharmacy": 5,
    "Social work and social care": 6,
    "Paramedics": 3,
    "Health care science": 3,
    "Public health": 3,
    "VCSE": 3,
    "Physician associates": 1.5,
    "Dentistry": 1,
    "Optometry": 1,
    "Patient and citizen partners": 2,
}
assert set(STAFF_SHARES) == set(STAFF_GROUPS)

# Organisation types: how many of each a system has (relative), and their typical staff.
ORG_TYPE_SHARES = {
    "Acute trust": 2,
    "Community trust": 1,
    "Mental health trust": 1,
    "Ambulance trust": 0.5,
    "General practice / PCN": 12,
    "GP federation": 1,
    "Local authority": 1.5,
    "Adult or children's social care": 2,
    "Care home": 6,
    "Community pharmacy": 4,
    "Hospice": 1,
    "VCSE": 5,
    "Healthwatch": 0.5,
    "University": 0.5,
    "Health innovation network": 0.3,
    "ICB": 0.7,
}
assert set(ORG_TYPE_SHARES) == set(ORGANISATION_TYPES)
ORG_TYPE_SIZE = {  # relative headcount per organisation of this type
    "Acute trust": 4,
    "Community trust": 2.5,
    "Mental health trust": 2.5,
    "Ambulance trust": 2,
    "ICB": 1.5,
    "Local authority": 2,
    "University": 1.5,
}
ORG_TYPE_STAFF = {
    "Acute trust": ["Medical", "Nursing and midwifery", "Allied health professionals"],
    "Community trust": ["Nursing and midwifery", "Allied health professionals"],
    "Mental health trust": ["Nursing and midwifery", "Medical", "Allied health professionals"],
    "Ambulance trust": ["Paramedics"],
    "General practice / PCN": ["Medical", "Nursing and midwifery", "Pharmacy"],
    "GP federation": ["Medical", "Management and administration"],
    "Local authority": ["Social work and social care", "Public health"],
    "Adult or children's social care": ["Social work and social care"],
    "Care home": ["Social work and social care", "Nursing and midwifery"],
    "Community pharmacy": ["Pharmacy"],
    "Hospice": ["Nursing and midwifery", "Medical"],
    "VCSE": ["VCSE", "Patient and citizen partners"],
    "Healthwatch": ["Patient and citizen partners", "VCSE"],
    "University": ["Health care science", "Public health"],
    "Health innovation network": ["Management and administration"],
    "ICB": ["Management and administration", "Public health"],
}
PLACES = (
    "Hereford",
    "Leominster",
    "Ross-on-Wye",
    "Ledbury",
    "Kington",
    "Bromyard",
    "Worcester",
    "Redditch",
    "Kidderminster",
    "Malvern",
    "Evesham",
    "Droitwich",
)
PERSONAL = (
    "Walking",
    "Running",
    "Cycling",
    "Gardening",
    "Baking",
    "Reading",
    "Choir singing",
    "Football",
    "Photography",
    "Swimming",
    "Parkrun",
    "Volunteering",
    "Cooking",
    "Yoga",
    "Music",
    "Climbing",
    "Knitting",
    "Family history",
    "Board games",
    "Wild swimming",
)
TOPICS = (
    "Quality improvement coaching",
    "Data analysis",
    "Running PDSA cycles",
    "Patient engagement",
    "Leading change",
    "Clinical audit",
    "Writing a business case",
    "Population health management",
    "Digital tools",
    "Facilitation",
    "Presenting to boards",
    "Coproduction",
    "Measurement for improvement",
    "Process mapping",
    "Research methods",
    "Social prescribing",
)
DAYS = ("mon", "tue", "wed", "thu", "fri")
ROLE_SHARES = {  # mentor, mentee, either, by career stage (0 unknown, 1 early .. 4 senior)
    0: [10, 70, 20],
    1: [2, 88, 10],
    2: [15, 60, 25],
    3: [45, 20, 35],
    4: [65, 5, 30],
}


def _zipf(names: Sequence[str], exponent: float) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(len(names))]


def _pick(rng: random.Random, names: Sequence[str], weights: Sequence[float], k: int) -> set[str]:
    chosen: set[str] = set()
    while len(chosen) < min(k, len(names)):
        chosen.add(rng.choices(names, weights)[0])
    return chosen


def community(n: int, seed: int = 0) -> tuple[list[Candidate], frozenset[frozenset[str]]]:
    """``n`` sign-ups to one round, and the pairs who met within the cooldown."""
    rng = random.Random(seed)
    themes = list(IMPROVEMENT_THEMES)
    rng.shuffle(themes)  # which themes are popular varies by community
    theme_w = _zipf(themes, 0.9)
    personal_w = _zipf(PERSONAL, 0.8)
    topic_w = _zipf(TOPICS, 0.7)
    # Organisations: n / 12 of them (at least 3), types by share, sizes skewed (Zipf within
    # type and by type).
    n_orgs = max(3, n // 12)
    types = list(ORG_TYPE_SHARES)
    orgs: list[tuple[str, str, str, float]] = []  # name, type, place, size weight
    for k in range(n_orgs):
        kind = rng.choices(types, [ORG_TYPE_SHARES[t] for t in types])[0]
        place = rng.choice(PLACES[: max(2, min(len(PLACES), 2 + n // 800))])
        name = f"{place} {kind} {k + 1}"
        orgs.append((name, kind, place, ORG_TYPE_SIZE.get(kind, 1) ** 0.25 / (1 + k) ** 0.8))
    org_w = [o[3] for o in orgs]
    staff = list(STAFF_SHARES)
    staff_w = list(STAFF_SHARES.values())
    ids = [f"U{k:06d}" for k in range(n)]
    people: list[Candidate] = []
    for pid in ids:
        org, kind, place, _ = rng.choices(orgs, org_w)[0]
        typical = ORG_TYPE_STAFF[kind]
        group = rng.choice(typical) if rng.random() < 0.6 else rng.choices(staff, staff_w)[0]
        stage = rng.choices([0, 1, 2, 3, 4], [5, 20, 35, 28, 12])[0]
        offers = _pick(
            rng, TOPICS, topic_w, rng.choices([0, 1, 2, 3], [3, 4, 2, 1])[0] + stage // 3
        )
        wants = _pick(rng, TOPICS, topic_w[::-1], rng.choices([0, 1, 2, 3], [2, 4, 3, 1])[0])
        days = (
            set()
            if rng.random() < 0.35
            else _pick(rng, DAYS, [1, 1.3, 1.2, 1.1, 0.7], rng.choice([1, 2, 2, 3, 4]))
        )
        people.append(
            Candidate(
                id=pid,
                staff_group=group,
                organisation=org,
                locality=place if rng.random() < 0.9 else rng.choice(PLACES),
                professional_interests=frozenset(
                    _pick(rng, themes, theme_w, rng.choices([1, 2, 3, 4], [3, 4, 2, 1])[0])
                ),
                personal_interests=frozenset(
                    _pick(rng, PERSONAL, personal_w, rng.choices([0, 1, 2, 3], [3, 3, 2, 1])[0])
                ),
                offers=frozenset(offers - wants),
                wants=frozenset(wants),
                career_stage=stage,
                availability=frozenset(days),
                mode=rng.choices(["either", "virtual", "in_person"], [60, 25, 15])[0],
                do_not_pair=frozenset({rng.choice(ids)} if rng.random() < 0.01 else set()),
                paused=rng.random() < 0.02,
                priority=rng.random() < 0.02,
                role=rng.choices(["mentor", "mentee", "either"], ROLE_SHARES[stage])[0],
                capacity=rng.choice([1, 1, 2, 3]),
            )
        )
    history = frozenset(frozenset(rng.sample(ids, 2)) for _ in range(n // 4) if n >= 2)
    return people, history


def with_free_text(people: list[Candidate], seed: int, skills: int = 3000) -> list[Candidate]:
    """The same sign-ups as people type them: each also offers and wants a skill in their
    own words (one of ``skills`` phrasings, a few common, most rare: Zipf) and lists an
    offer, a want and a professional interest nobody else words the same way."""
    rng = random.Random(seed)
    names = [f"Skill {k}" for k in range(skills)]
    weights = _zipf(names, 1.0)
    return [
        replace(
            p,
            offers=p.offers | {f"Own skill of {p.id}", *rng.choices(names, weights)},
            wants=p.wants | {f"Own need of {p.id}", *rng.choices(names, weights)},
            professional_interests=p.professional_interests | {f"Own theme of {p.id}"},
        )
        for p in people
    ]


# ---------------------------------------------------------------------- baselines

Pairing = list[tuple[str, ...]]
History = frozenset[frozenset[str]]


def random_pairing(people: Sequence[Candidate], rules: Rules, met: History, seed: int) -> Pairing:
    """People in a random order, each paired with the next one still free who fits."""
    order = [p for p in people if not p.paused]
    random.Random(seed).shuffle(order)
    free = dict.fromkeys(range(len(order)))
    pairs: Pairing = []
    for i in range(len(order)):
        if i not in free:
            continue
        del free[i]
        for j in free:
            if eligible_pair(order[i], order[j], rules, met):
                del free[j]
                pairs.append((order[i].id, order[j].id))
                break
    return pairs


def greedy_pairing(
    people: Sequence[Candidate], rules: Rules, weights: Weights, met: History, seed: int
) -> Pairing:
    """Best pair first among the candidate pairs copbot considers, each person's 50 best."""
    pool = Pool([p for p in people if not p.paused], met)
    if pool.n <= matching.SQUARE_LIMIT:
        graph = candidates.square_graph(pool, rules, weights, seed, 50, keep_all=False)
    else:
        graph = index.index_graph(pool, rules, weights, seed, 50, matching.INDEX_REACH)
    order = np.lexsort((graph.j, graph.i, -graph.score))
    taken = [False] * pool.n
    pairs: Pairing = []
    for i, j in zip(graph.i[order].tolist(), graph.j[order].tolist(), strict=True):
        if not taken[i] and not taken[j]:
            taken[i] = taken[j] = True
            pairs.append((pool.ids[i], pool.ids[j]))
    return pairs


def exact_pairing(
    people: Sequence[Candidate], rules: Rules, weights: Weights, met: History
) -> Pairing:
    """A maximum-weight matching of the full eligible graph, with the same bonuses as copbot
    (match everyone, carried-over people first), scores in thousandths: Edmonds' blossom
    algorithm (rustworkx). Pairs are checked and scored by ``Pool``, which the tests hold
    equal to the public ``eligible_pair`` and ``pair_score``."""
    pool = Pool([p for p in people if not p.paused], met)
    edges = []
    for start in range(0, pool.n, 256):
        rows = np.arange(start, min(pool.n, start + 256))
        a = np.repeat(rows, pool.n)
        b = np.tile(np.arange(pool.n), len(rows))
        keep = a < b
        a, b = a[keep], b[keep]
        ok = pool.pair_eligible(a, b, rules)
        a, b = a[ok], b[ok]
        bonus = PAIR_BONUS + PRIORITY_BONUS * (
            pool.priority[a].astype(int) + pool.priority[b].astype(int)
        )
        w = np.rint((pool.pair_scores(a, b, weights) + bonus) * 1000).astype(np.int64)
        edges.extend(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    graph = rx.PyGraph()
    graph.add_nodes_from(range(pool.n))
    graph.add_edges_from(edges)
    found = rx.max_weight_matching(graph, weight_fn=int)
    return [tuple(sorted((pool.ids[i], pool.ids[j]))) for i, j in found]


def exact_mentoring(
    people: Sequence[Candidate], rules: Rules, weights: Weights, met: History
) -> float:
    """The score of the best mentoring assignment over every eligible pair, with copbot's
    sides (``mentoring.sides``) and bonuses (match everyone, carried-over people first, a
    carried-over mentor's bonus on one place): scipy's dense Hungarian method on mentor
    places expanded by capacity, plus a "nobody" column per mentee."""
    pool = Pool([p for p in people if not p.paused], met)
    mentors, mentees, _ = mentoring.sides(pool)
    seats = np.array([m for m in mentors for _ in range(pool.capacity[m])], dtype=np.int64)
    first = np.array([k == 0 for m in mentors for k in range(pool.capacity[m])], dtype=bool)
    if len(seats) == 0 or not mentees:
        return 0.0
    a = np.repeat(np.array(mentees, dtype=np.int64), len(seats))
    b = np.tile(seats, len(mentees))
    ok = pool.pair_eligible(a, b, rules)
    score = pool.pair_scores(a, b, weights)
    carried = pool.priority[a].astype(int) + (pool.priority[b] & np.tile(first, len(mentees)))
    gain = np.where(ok, PAIR_BONUS + score + PRIORITY_BONUS * carried, 0.0)
    gain = np.hstack([gain.reshape(len(mentees), -1), np.zeros((len(mentees), len(mentees)))])
    rows, cols = linear_sum_assignment(gain, maximize=True)
    real = (cols < len(seats)) & (gain[rows, cols] > 0)
    return float(score.reshape(len(mentees), -1)[rows[real], cols[real]].sum())


def finish(
    pairs: Pairing, people: Sequence[Candidate], rules: Rules, weights: Weights, met: History
) -> Pairing:
    """Each person left over joins the pair they fit best (all three pairs eligible), in
    the order copbot uses (carried over first, then by id)."""
    active = [p for p in people if not p.paused]
    pool = Pool(active, met)
    groups = [list(p) for p in pairs]
    if not groups:
        return []
    placed = {i for p in pairs for i in p}
    left = sorted((p for p in active if p.id not in placed), key=lambda p: (not p.priority, p.id))
    first = np.array([pool.index[g[0]] for g in groups])
    second = np.array([pool.index[g[1]] for g in groups])
    open_ = np.ones(len(groups), dtype=bool)
    for start in range(0, len(left), 256):
        chunk = left[start : start + 256]
        rank, floor = pool.rank_block(np.array([pool.index[p.id] for p in chunk]), rules, weights)
        for row, x in zip(rank, chunk, strict=True):
            fits = open_ & (row[first] > floor) & (row[second] > floor)
            if not fits.any():
                continue
            gain = np.where(fits, row[first] + row[second], -np.inf)
            best = int(np.argmax(gain))
            groups[best].append(x.id)
            open_[best] = False
    return [tuple(g) for g in groups]


# ---------------------------------------------------------------------- figures


def total(groups: Pairing, people: Sequence[Candidate], weights: Weights) -> float:
    by_id = {p.id: p for p in people}
    return sum(
        pair_score(by_id[a], by_id[b], weights) for g in groups for a, b in combinations(g, 2)
    )


def mix(
    groups: Pairing, people: Sequence[Candidate], weights: Weights
) -> tuple[float, float, float, float]:
    """Over every pair inside every group: mean score, mean shared interests (professional
    and personal), % across organisations, % across staff groups."""
    by_id = {p.id: p for p in people}
    score, shared, orgs, staff, count = 0.0, 0, 0, 0, 0

    def common(x: frozenset[str], y: frozenset[str]) -> int:
        return len({norm(t) for t in x} & {norm(t) for t in y})

    for g in groups:
        for i, j in combinations(g, 2):
            a, b = by_id[i], by_id[j]
            score += pair_score(a, b, weights)
            shared += common(a.professional_interests, b.professional_interests)
            shared += common(a.personal_interests, b.personal_interests)
            orgs += norm(a.organisation) != norm(b.organisation)
            staff += norm(a.staff_group) != norm(b.staff_group)
            count += 1
    if not count:
        return 0.0, 0.0, 0.0, 0.0
    return score / count, shared / count, 100 * orgs / count, 100 * staff / count


def timed(run: Callable[[], Result], memory: bool) -> tuple[Result, float, float, str]:
    """The result, its wall and CPU time (s) and, from a second run under tracemalloc when
    ``memory``, the peak MiB."""
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if not memory:
        return result, seconds, cpu, "n/a"
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, cpu, f"{peak:.0f}"


def certified(result: Result) -> tuple[str, str, str, str, str]:
    """The certificate's score, bound and gap as printed, and (pairs) the bound over every
    pairing of the round and its gap; sets: the best random restart."""
    found = result.certificate
    if found is None:
        return "n/a", "n/a", "n/a", "n/a", "n/a"
    mark = "" if found.complete else "*"
    extra, extra_gap = "n/a", "n/a"
    if found.global_bound is not None:
        extra = f"{found.global_bound:,.1f}"
        extra_gap = f"{100 * (found.global_bound - found.score) / found.global_bound:.3f}%"
    elif found.reference is not None:
        extra = f"{found.reference:,.1f}"
    return (
        f"{found.score:,.1f}",
        f"{found.bound:,.1f}{mark}",
        f"{100 * found.gap:.3f}%",
        extra,
        extra_gap,
    )


def load_now() -> str:
    """The machine's load average over the last minute (others share its two cores)."""
    return f"{os.getloadavg()[0]:.1f}"


def uptime() -> None:
    one, five, fifteen = os.getloadavg()
    print(f"load average (uptime): {one:.2f}, {five:.2f}, {fifteen:.2f}", flush=True)


def groups_of(result: Result) -> Pairing:
    return [m.members for m in result.matches]


def placed_share(result: Result, people: Sequence[Candidate]) -> float:
    active = sum(not p.paused for p in people)
    placed = len({i for m in result.matches for i in m.members})
    return 100 * placed / max(1, active)


def row(cells: Sequence[object], widths: Sequence[int]) -> str:
    return "  ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", default="2000,10000,30000,100000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--exact-limit", type=int, default=2000, help="largest N for the exact optimum"
    )
    parser.add_argument(
        "--memory-limit", type=int, default=100_000, help="largest N for a tracemalloc run"
    )
    parser.add_argument("--formats", default="pairs,sets,mentoring")
    parser.add_argument(
        "--free-text",
        action="store_true",
        help="pairs only: add free-text offers, wants and interests (with_free_text)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    formats = set(args.formats.split(","))
    weights = Weights()
    uptime()
    if "pairs" in formats:
        pairs_table(sizes, args, weights)
        uptime()
    if formats & {"sets", "mentoring"}:
        groups_table(sizes, args, weights, formats)
        uptime()


def pairs_table(sizes: list[int], args: argparse.Namespace, weights: Weights) -> None:
    rules = Rules()
    print("Pairs (default rules: different organisations, in-person pairs in one place)")
    print("certificate: the pairing's score, a proven bound on any pairing's score and the gap;")
    print("             * = of the candidate pairs kept, else of every pairing of the round")
    print("global: the certificate's bound over every pairing of the round, and its gap;")
    print("optimum: exact matching of the full eligible graph (rustworkx), N <= --exact-limit")
    print("c/r/g: copbot / a random pairing that keeps the hard rules / greedy (best pair first),")
    print("       each finished the same way (a leftover joins the pair they fit best)")
    widths = [6, 5, 7, 6, 5, 11, 12, 7, 12, 7, 8, 4, 11, 15, 15, 12, 11]
    head = ["N", "load", "wall s", "cpu s", "MiB", "score", "bound", "gap", "global", "g.gap"]
    head += ["% optim", "viol"]
    head += ["placed% c/r/g", "pair score", "shared int.", "cross-org%", "cross-staff%"]
    print(row(head, widths))
    for n in sizes:
        people, met = community(n, args.seed)
        if args.free_text:
            people = with_free_text(people, args.seed)
        result, seconds, cpu, peak = timed(
            partial(match, people, rules, weights, history=met, seed=args.seed),
            n <= args.memory_limit,
        )
        broken = len(violations(result, people, rules, met))
        if n <= args.exact_limit:
            best = finish(exact_pairing(people, rules, weights, met), people, rules, weights, met)
            optimum = f"{100 * result.total_score / total(best, people, weights):.2f}%"
        else:
            optimum = "n/a"
        pairings = [
            groups_of(result),
            finish(random_pairing(people, rules, met, args.seed), people, rules, weights, met),
            finish(
                greedy_pairing(people, rules, weights, met, args.seed), people, rules, weights, met
            ),
        ]
        figures = [mix(groups, people, weights) for groups in pairings]
        active = sum(not p.paused for p in people)

        def cells(k: int, fmt: str, figures: list[tuple[float, ...]] = figures) -> str:
            return "/".join(format(f[k], fmt) for f in figures)

        placed = "/".join(
            f"{100 * len({i for g in groups for i in g}) / max(1, active):.0f}"
            for groups in pairings
        )
        score, bound, gap, whole, whole_gap = certified(result)
        print(
            row(
                [
                    n,
                    load_now(),
                    f"{seconds:.2f}",
                    f"{cpu:.2f}",
                    peak,
                    score,
                    bound,
                    gap,
                    whole,
                    whole_gap,
                    optimum,
                    broken,
                    placed,
                    cells(0, ".2f"),
                    cells(1, ".2f"),
                    cells(2, ".0f"),
                    cells(3, ".0f"),
                ],
                widths,
            ),
            flush=True,
        )
    print()


def groups_table(
    sizes: list[int], args: argparse.Namespace, weights: Weights, formats: set[str]
) -> None:
    print("Sets of 4 (action learning sets) and mentoring")
    print("certificate: sets: score against a simple bound (each person with their best")
    print("partners); mentoring: an optimal assignment of the candidate pairs (score = bound)")
    print("random: sets: the best of the random restarts that keep every rule (a reference)")
    print("% optim: mentoring: % of the exact optimum over every eligible pair (scipy's dense")
    print("         Hungarian method on places expanded by capacity), N <= --exact-limit")
    widths = [6, 5, 9, 7, 6, 5, 4, 7, 7, 11, 12, 7, 11, 8, 30]
    head = ["N", "load", "format", "wall s", "cpu s", "MiB", "viol", "groups", "placed%"]
    print(row([*head, "score", "bound", "gap", "random", "% optim", "notes"], widths))
    for n in sizes:
        people, met = community(n, args.seed)
        for kind in ("sets", "mentoring"):
            if kind not in formats:
                continue
            rules = Rules(group_size=4) if kind == "sets" else Rules(mentoring=True)
            result, seconds, cpu, peak = timed(
                partial(match, people, rules, weights, history=met, seed=args.seed),
                n <= args.memory_limit,
            )
            if kind == "sets":
                sizes_seen = sorted({len(m.members) for m in result.matches})
                by_id = {p.id: p for p in people}
                orgs = (
                    statistics.mean(
                        len({by_id[i].organisation for i in m.members}) / len(m.members)
                        for m in result.matches
                    )
                    if result.matches
                    else 0.0
                )
                notes = f"sizes {sizes_seen}, orgs/size {orgs:.2f}"
            else:
                mentors = {m.members[0] for m in result.matches}
                load = len(result.matches) / max(1, len(mentors))
                notes = f"{len(mentors)} mentors, {load:.2f} each"
            score, bound, gap, reference, _ = certified(result)
            optimum = "n/a"
            if kind == "mentoring" and n <= args.exact_limit:
                best = exact_mentoring(people, rules, weights, met)
                optimum = f"{100 * result.total_score / best:.2f}%" if best else "n/a"
            print(
                row(
                    [
                        n,
                        load_now(),
                        kind,
                        f"{seconds:.2f}",
                        f"{cpu:.2f}",
                        peak,
                        len(violations(result, people, rules, met)),
                        len(result.matches),
                        f"{placed_share(result, people):.1f}",
                        score,
                        bound,
                        gap,
                        reference,
                        optimum,
                        notes,
                    ],
                    widths,
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
