"""Scores, hard rules and reasons for exchange matching: one pair, a list of pairs, or a block.

``Pool`` encodes one round's active candidates (sorted by id) once:

- single pairs (local search, reasons) use Python ints: codes, and bitmasks for sets;
- lists of pairs (the edges kept for matching) use packed bits or sparse rows, and give
  float64 scores equal to ``matching.pair_score`` to the last bit (same terms, same order);
- blocks of rows against everyone (choosing each person's best partners) use float32 and
  fold every categorical attribute (staff group, career stage, mode and place,
  availability pattern, role) into a few precomputed rows, one per pattern of attributes
  that occurs, each holding that pattern's score terms and rule penalties against everyone.
  A block is then three matrix products for the interest sets, a gather per group of
  attributes and one comparison for organisations. Blocks only rank partners; the kept
  pairs are scored and checked again exactly.

Free-text values are compared after folding case and spaces, so "Frailty" and "frailty "
are one interest; reasons show the spelling that sorts first. Shared items count with
diminishing returns: ``sqrt(count)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from bot.exchange.fields import (
    BlockSetup,
    Component,
    SetField,
    day_key,
    encode,
    shared_value,
    split,
)

if TYPE_CHECKING:
    from bot.exchange.matching import Candidate, Rules, Weights

MODE_EITHER, MODE_IN_PERSON, MODE_VIRTUAL = 0, 1, 2
ROLE_EITHER, ROLE_MENTOR, ROLE_MENTEE = 0, 1, 2
MODES = {"either": MODE_EITHER, "in_person": MODE_IN_PERSON, "virtual": MODE_VIRTUAL}
ROLES = {"either": ROLE_EITHER, "mentor": ROLE_MENTOR, "mentee": ROLE_MENTEE}

# Rules, in the order reasons consider them.
RULE_ROLE = "role"
RULE_ORGANISATION = "organisation"
RULE_STAFF_GROUP = "staff_group"
RULE_MODE = "mode"
RULE_LOCALITY = "locality"
RULE_AVAILABILITY = "availability"
RULE_HISTORY = "history"
RULE_DO_NOT_PAIR = "do_not_pair"
RULES_IN_ORDER = (
    RULE_ROLE,
    RULE_ORGANISATION,
    RULE_STAFF_GROUP,
    RULE_MODE,
    RULE_LOCALITY,
    RULE_AVAILABILITY,
    RULE_HISTORY,
    RULE_DO_NOT_PAIR,
)

_TABLE_BUDGET = 1 << 23  # float32 cells per precomputed attribute table (32 MiB)
_MAX_PATTERNS = 512  # availability patterns tabled; beyond, days are counted per block


class Pool:
    """One round's active (not paused) candidates, encoded for fast scoring."""

    def __init__(self, people: Sequence[Candidate], history: Iterable[frozenset[str]] = ()) -> None:
        self.people: tuple[Candidate, ...] = tuple(sorted(people, key=lambda c: c.id))
        self.ids: tuple[str, ...] = tuple(c.id for c in self.people)
        self.index: dict[str, int] = {pid: i for i, pid in enumerate(self.ids)}
        if len(self.index) != len(self.ids):
            raise ValueError("candidate ids must be unique")
        people = self.people
        self.n = n = len(people)
        self.org, self.orgs = encode([c.organisation for c in people])
        self.staff, self.staff_groups = encode([c.staff_group for c in people])
        self.locality, self.localities = encode([c.locality for c in people])
        self.mode = [MODES.get(c.mode, MODE_EITHER) for c in people]
        self.role = [ROLES.get(c.role, ROLE_EITHER) for c in people]
        self.stage = [max(0, int(c.career_stage)) for c in people]
        self.capacity = [max(0, int(c.capacity)) for c in people]
        self.priority = np.array([c.priority for c in people], dtype=bool)
        self.professional = SetField([c.professional_interests for c in people])
        self.personal = SetField([c.personal_interests for c in people])
        self.offers, self.wants = split(
            SetField([c.offers for c in people] + [c.wants for c in people]), n
        )
        self.availability = SetField([c.availability for c in people], fold=day_key, every_bit=True)
        self.arrays = {
            name: np.array(getattr(self, name), dtype=np.int64)
            for name in ("org", "staff", "locality", "mode", "role", "stage")
        }
        # Pairs ruled out by name (do-not-pair, either way) or by history.
        self.do_not_pair: set[tuple[int, int]] = set()
        self.history: set[tuple[int, int]] = set()
        for i, person in enumerate(people):
            for other in person.do_not_pair:
                j = self.index.get(other)
                if j is not None and j != i:
                    self.do_not_pair.add((min(i, j), max(i, j)))
        for pair in history:
            ends = sorted({self.index.get(pid, -1) for pid in pair})
            if len(ends) == 2 and ends[0] >= 0:
                self.history.add((ends[0], ends[1]))
        blocked: dict[int, set[int]] = {}
        for i, j in self.do_not_pair | self.history:
            blocked.setdefault(i, set()).add(j)
            blocked.setdefault(j, set()).add(i)
        self.blocked: dict[int, np.ndarray] = {
            i: np.array(sorted(js), dtype=np.int64) for i, js in blocked.items()
        }
        self._setups: dict[tuple[Rules, Weights], BlockSetup] = {}

    # ------------------------------------------------------------------ one pair

    def blockers(self, i: int, j: int, rules: Rules) -> list[str]:
        """Every hard rule that keeps i and j apart (empty: they may be matched)."""
        if i == j:
            return [RULE_DO_NOT_PAIR]
        found: list[str] = []
        if rules.mentoring and self.role[i] == self.role[j] != ROLE_EITHER:
            found.append(RULE_ROLE)
        if rules.differ_by_organisation and self.org[i] == self.org[j] >= 0:
            found.append(RULE_ORGANISATION)
        if rules.differ_by_staff_group and self.staff[i] == self.staff[j] >= 0:
            found.append(RULE_STAFF_GROUP)
        modes = {self.mode[i], self.mode[j]}
        if modes == {MODE_IN_PERSON, MODE_VIRTUAL}:
            found.append(RULE_MODE)
        if (
            rules.same_locality_in_person
            and modes == {MODE_IN_PERSON}
            and (self.locality[i] < 0 or self.locality[i] != self.locality[j])
        ):
            found.append(RULE_LOCALITY)
        a, b = self.availability.bits[i], self.availability.bits[j]
        if a and b and not a & b:
            found.append(RULE_AVAILABILITY)
        key = (i, j) if i < j else (j, i)
        if key in self.history:
            found.append(RULE_HISTORY)
        if key in self.do_not_pair:
            found.append(RULE_DO_NOT_PAIR)
        return found

    def eligible(self, i: int, j: int, rules: Rules) -> bool:
        return not self.blockers(i, j, rules)

    def components(self, i: int, j: int, weights: Weights) -> list[Component]:
        """The score's terms, in the order they are added."""
        prof = self.professional.bits[i] & self.professional.bits[j]
        pers = self.personal.bits[i] & self.personal.bits[j]
        gives = self.offers.bits[i] & self.wants.bits[j]
        takes = self.offers.bits[j] & self.wants.bits[i]
        days = self.availability.bits[i] & self.availability.bits[j]
        org = self.org[i] >= 0 and self.org[j] >= 0 and self.org[i] != self.org[j]
        staff = self.staff[i] >= 0 and self.staff[j] >= 0 and self.staff[i] != self.staff[j]
        si, sj = self.stage[i], self.stage[j]
        bridge = si > 0 and sj > 0 and abs(si - sj) >= 2
        return [
            Component(
                "professional",
                weights.professional * shared_value(prof.bit_count()),
                (prof,),
            ),
            Component("personal", weights.personal * shared_value(pers.bit_count()), (pers,)),
            Component(
                "complementarity",
                weights.complementarity
                * (shared_value(gives.bit_count()) + shared_value(takes.bit_count())),
                (gives, takes),
            ),
            Component("organisation", weights.cross_organisation * float(org), ()),
            Component("staff_group", weights.cross_staff_group * float(staff), ()),
            Component("career_bridge", weights.career_bridge * float(bridge), ()),
            Component("availability", weights.availability * float(days != 0), (days,)),
        ]

    def score(self, i: int, j: int, weights: Weights) -> float:
        """The pair's score; the same terms in the same order as ``components``."""
        sqrt = math.sqrt
        prof, pers = self.professional.bits, self.personal.bits
        offers, wants, days = self.offers.bits, self.wants.bits, self.availability.bits
        org, staff, stage = self.org, self.staff, self.stage
        si, sj = stage[i], stage[j]
        total = 0.0
        total = total + weights.professional * sqrt((prof[i] & prof[j]).bit_count())
        total = total + weights.personal * sqrt((pers[i] & pers[j]).bit_count())
        total = total + weights.complementarity * (
            sqrt((offers[i] & wants[j]).bit_count()) + sqrt((offers[j] & wants[i]).bit_count())
        )
        total = total + weights.cross_organisation * float(
            org[i] >= 0 and org[j] >= 0 and org[i] != org[j]
        )
        total = total + weights.cross_staff_group * float(
            staff[i] >= 0 and staff[j] >= 0 and staff[i] != staff[j]
        )
        total = total + weights.career_bridge * float(si > 0 and sj > 0 and abs(si - sj) >= 2)
        total = total + weights.availability * float(days[i] & days[j] != 0)
        return total

    # ------------------------------------------------------------------ lists of pairs

    def pair_scores(self, a: np.ndarray, b: np.ndarray, weights: Weights) -> np.ndarray:
        """Exact float64 scores of pairs (a[k], b[k]); equal to ``score`` bit for bit."""
        sqrt = np.sqrt
        prof = self.professional.pair_counts(a, b, self.professional).astype(np.float64)
        pers = self.personal.pair_counts(a, b, self.personal).astype(np.float64)
        gives = self.offers.pair_counts(a, b, self.wants).astype(np.float64)
        takes = self.offers.pair_counts(b, a, self.wants).astype(np.float64)
        days = self.availability.pair_counts(a, b, self.availability)
        org, staff, stage = self.arrays["org"], self.arrays["staff"], self.arrays["stage"]
        cross_org = (org[a] >= 0) & (org[b] >= 0) & (org[a] != org[b])
        cross_staff = (staff[a] >= 0) & (staff[b] >= 0) & (staff[a] != staff[b])
        bridge = (stage[a] > 0) & (stage[b] > 0) & (np.abs(stage[a] - stage[b]) >= 2)
        total = np.zeros(len(a), dtype=np.float64)
        total = total + weights.professional * sqrt(prof)
        total = total + weights.personal * sqrt(pers)
        total = total + weights.complementarity * (sqrt(gives) + sqrt(takes))
        total = total + weights.cross_organisation * cross_org.astype(np.float64)
        total = total + weights.cross_staff_group * cross_staff.astype(np.float64)
        total = total + weights.career_bridge * bridge.astype(np.float64)
        total = total + weights.availability * (days > 0).astype(np.float64)
        return total

    def pair_eligible(self, a: np.ndarray, b: np.ndarray, rules: Rules) -> np.ndarray:
        """Exact hard-rule check of pairs (a[k], b[k])."""
        get = self.arrays
        ok = a != b
        if rules.mentoring:
            role = get["role"]
            ok &= ~((role[a] == role[b]) & (role[a] != ROLE_EITHER))
        if rules.differ_by_organisation:
            ok &= ~((get["org"][a] == get["org"][b]) & (get["org"][a] >= 0))
        if rules.differ_by_staff_group:
            ok &= ~((get["staff"][a] == get["staff"][b]) & (get["staff"][a] >= 0))
        mode, place = get["mode"], get["locality"]
        ok &= ~(
            ((mode[a] == MODE_IN_PERSON) & (mode[b] == MODE_VIRTUAL))
            | ((mode[a] == MODE_VIRTUAL) & (mode[b] == MODE_IN_PERSON))
        )
        if rules.same_locality_in_person:
            both = (mode[a] == MODE_IN_PERSON) & (mode[b] == MODE_IN_PERSON)
            ok &= ~(both & ((place[a] < 0) | (place[a] != place[b])))
        field = self.availability
        known = ~field.empty
        overlap = field.pair_counts(a, b, field)
        ok &= ~(known[a] & known[b] & (overlap == 0))
        if self.blocked:
            # Pairs named by history or do-not-pair, as sorted keys lo * n + hi.
            pairs = np.array(sorted(self.history | self.do_not_pair), dtype=np.int64)
            banned = pairs[:, 0] * self.n + pairs[:, 1]
            lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
            keys = lo * self.n + hi
            at = np.minimum(np.searchsorted(banned, keys), len(banned) - 1)
            ok &= banned[at] != keys
        return ok

    # ------------------------------------------------------------------ blocks

    def rank_block(
        self, rows: np.ndarray, rules: Rules, weights: Weights
    ) -> tuple[np.ndarray, float]:
        """float32 scores of ``rows`` against everyone, and a floor: entries below it are
        pairs a hard rule keeps apart (including each row with itself)."""
        setup = self.prepare(rules, weights)
        tables, big = setup.tables, setup.big
        codes, table = tables[0]
        total = table[codes[rows]]
        for codes, table in tables[1:]:
            total += table[codes[rows]]
        for sign, field, scaled in setup.families:
            assert field.matrix is not None
            counts = field.matrix[rows] @ scaled  # weight² x shared items
            if sparse.issparse(counts):
                counts = counts.toarray()
            counts = np.asarray(counts, dtype=np.float32)
            np.sqrt(counts, out=counts)  # weight x sqrt(shared items)
            if sign > 0:
                total += counts
            else:
                total -= counts
        if setup.count_days:  # a great variety of availability labels: count shared days
            field = self.availability
            overlap = field.block_counts(rows, field)
            assert overlap is not None
            known = ~field.empty
            shared = overlap > 0
            total += np.float32(weights.availability) * shared
            total -= np.float32(big) * (~shared & known[rows, None] & known[None, :])
        same = setup.org[rows, None] == setup.org[None, :]  # unknowns never equal anyone
        np.subtract(total, np.float32(setup.org_cut), out=total, where=same)
        total[np.arange(len(rows)), rows] = -2 * big
        for r, i in enumerate(rows.tolist()):
            others = self.blocked.get(i)
            if others is not None:
                total[r, others] = -2 * big
        return total, -big / 2

    def prepare(self, rules: Rules, weights: Weights) -> BlockSetup:
        """What every block of one round needs, built once per (rules, weights)."""
        key = (rules, weights)
        if key in self._setups:
            return self._setups[key]
        n = self.n
        # Penalty for a broken rule: more than twice any possible score, so one penalty
        # always sinks a pair below -big / 2, while float32 keeps real scores precise.
        largest = max(self.professional.size, self.personal.size, self.offers.size, 1)
        bound = sum(abs(float(w)) for w in vars(weights).values()) * 2 * math.sqrt(largest)
        big = 4.0 * (1.0 + bound)
        attributes = self._attributes(rules, weights, big)
        tables: list[tuple[np.ndarray, np.ndarray]] = []
        group: list[tuple[np.ndarray, np.ndarray]] = []

        def combined(items: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
            """Distinct patterns of the items' codes, and each person's pattern number."""
            key = np.zeros(n, dtype=np.int64)
            for codes, pairwise in items:
                key = key * len(pairwise) + codes
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            patterns = np.stack([codes[first] for codes, _ in items], axis=1)
            return patterns, inverse.reshape(-1)

        def flush() -> None:
            if not group:
                return
            patterns, inverse = combined(group)
            table = np.zeros((len(patterns), n), dtype=np.float32)
            for k, (mine, pairwise) in enumerate(group):
                table += pairwise.astype(np.float32)[patterns[:, k]][:, mine]
            tables.append((inverse.astype(np.int64), table))
            group.clear()

        for codes, pairwise in attributes:
            if group:
                radix = math.prod(len(p) for _, p in group) * len(pairwise)
                if radix >= 1 << 62 or len(combined([*group, (codes, pairwise)])[0]) * n > (
                    _TABLE_BUDGET
                ):
                    flush()
            group.append((codes, pairwise))
        flush()
        families = []
        for weight, field, other in (
            (weights.professional, self.professional, self.professional),
            (weights.personal, self.personal, self.personal),
            (weights.complementarity, self.offers, self.wants),
            (weights.complementarity, self.wants, self.offers),
        ):
            if weight == 0 or field.matrix is None or other.transposed is None:
                continue
            scaled = other.transposed * np.float32(float(weight) ** 2)
            families.append((1 if weight > 0 else -1, field, scaled))
        org = self.arrays["org"]
        setup = BlockSetup(
            tables=tables,
            big=big,
            families=families,
            count_days=len(set(self.availability.bits)) > _MAX_PATTERNS,
            org=np.where(org >= 0, org, -1 - np.arange(n)),
            org_cut=float(weights.cross_organisation)
            + (big if rules.differ_by_organisation else 0.0),
        )
        self._setups[key] = setup
        return setup

    def _attributes(
        self, rules: Rules, weights: Weights, big: float
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(code per person, pairwise value table) for each categorical attribute."""
        out: list[tuple[np.ndarray, np.ndarray]] = []
        # Staff group: cross-group bonus; the "differ" rule. Code len(vocab) = unknown.
        s = len(self.staff_groups)
        codes = np.where(self.arrays["staff"] < 0, s, self.arrays["staff"])
        known = np.arange(s + 1) < s
        same = np.eye(s + 1, dtype=bool) & known[:, None]
        table = weights.cross_staff_group * (known[:, None] & known[None, :] & ~same)
        if rules.differ_by_staff_group:
            table = table - big * same
        out.append((codes, table))
        # Organisation known: the "both known" half of the cross-organisation bonus (the
        # same-organisation correction is one comparison per block).
        known_org = (self.arrays["org"] >= 0).astype(np.int64)
        out.append((known_org, weights.cross_organisation * np.array([[0.0, 0.0], [0.0, 1.0]])))
        # Career stage: the bridge bonus.
        stages, codes = np.unique(self.arrays["stage"], return_inverse=True)
        bridge = (
            (stages[:, None] > 0)
            & (stages[None, :] > 0)
            & (np.abs(stages[:, None] - stages[None, :]) >= 2)
        )
        out.append((codes.reshape(-1), weights.career_bridge * bridge))
        # Mode and place: 0 either, 1 virtual, 2 + locality for in person (last: unknown).
        places = len(self.localities)
        mode, place = self.arrays["mode"], self.arrays["locality"]
        codes = np.where(
            mode == MODE_EITHER,
            0,
            np.where(mode == MODE_VIRTUAL, 1, 2 + np.where(place < 0, places, place)),
        )
        m = places + 3
        kinds = np.array([MODE_EITHER, MODE_VIRTUAL] + [MODE_IN_PERSON] * (places + 1))
        where = np.arange(m) - 2
        clash = ((kinds[:, None] == MODE_IN_PERSON) & (kinds[None, :] == MODE_VIRTUAL)) | (
            (kinds[:, None] == MODE_VIRTUAL) & (kinds[None, :] == MODE_IN_PERSON)
        )
        if rules.same_locality_in_person:
            both = (kinds[:, None] == MODE_IN_PERSON) & (kinds[None, :] == MODE_IN_PERSON)
            clash |= both & ((where[:, None] != where[None, :]) | (where[:, None] == places))
        out.append((codes, -big * clash))
        # Availability pattern: the shared-day bonus; no shared day when both have some.
        patterns = sorted(set(self.availability.bits))
        index = {p: k for k, p in enumerate(patterns)}
        codes = np.array([index[b] for b in self.availability.bits], dtype=np.int64)
        if len(patterns) <= _MAX_PATTERNS:
            bits = patterns
            overlap = np.array([[x & y != 0 for y in bits] for x in bits], dtype=bool)
            nonempty = np.array([x != 0 for x in bits], dtype=bool)
            table = weights.availability * overlap - big * (
                nonempty[:, None] & nonempty[None, :] & ~overlap
            )
            out.append((codes, table))
        if rules.mentoring:
            roles = np.arange(3)
            clash = (roles[:, None] == roles[None, :]) & (roles[:, None] != ROLE_EITHER)
            out.append((self.arrays["role"], -big * clash))
        return out

    # ------------------------------------------------------------------ rules for one person

    def rule_masks(self, i: int, rules: Rules) -> dict[str, np.ndarray]:
        """For person ``i``: which others each rule keeps apart from them."""
        get = self.arrays
        n = self.n
        none = np.zeros(n, dtype=bool)
        masks: dict[str, np.ndarray] = {}
        role = get["role"]
        masks[RULE_ROLE] = (role == role[i]) & (role[i] != ROLE_EITHER) if rules.mentoring else none
        org, staff = get["org"], get["staff"]
        masks[RULE_ORGANISATION] = (
            (org == org[i]) & (org[i] >= 0) if rules.differ_by_organisation else none
        )
        masks[RULE_STAFF_GROUP] = (
            (staff == staff[i]) & (staff[i] >= 0) if rules.differ_by_staff_group else none
        )
        mode, place = get["mode"], get["locality"]
        if mode[i] == MODE_EITHER:
            masks[RULE_MODE] = none
        else:
            masks[RULE_MODE] = mode == (
                MODE_VIRTUAL if mode[i] == MODE_IN_PERSON else MODE_IN_PERSON
            )
        masks[RULE_LOCALITY] = (
            (mode == MODE_IN_PERSON) & ((place != place[i]) | (place[i] < 0))
            if rules.same_locality_in_person and mode[i] == MODE_IN_PERSON
            else none
        )
        field = self.availability
        mine = field.bits[i]
        masks[RULE_AVAILABILITY] = np.array(
            [bool(mine and b and not mine & b) for b in field.bits], dtype=bool
        )
        history = np.zeros(n, dtype=bool)
        named = np.zeros(n, dtype=bool)
        for j in self.blocked.get(i, np.zeros(0, dtype=np.int64)).tolist():
            key = (min(i, j), max(i, j))
            history[j] = key in self.history
            named[j] = key in self.do_not_pair
        masks[RULE_HISTORY] = history
        masks[RULE_DO_NOT_PAIR] = named
        for mask in masks.values():
            mask[i] = False
        return masks
