"""Why a match was made, in plain words: up to three reasons for each pair or group,
strongest first, from the same terms ``scoring.Pool`` scores with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bot.exchange.fields import DAY_NAMES
from bot.exchange.scoring import Pool

if TYPE_CHECKING:
    from bot.exchange.matching import Weights


def lower_first(text: str) -> str:
    """'Frailty' -> 'frailty' mid-sentence; acronyms ('NHS', 'QI') and 'I' stay as they are."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:] == first[1:].lower():
        return text[0].lower() + text[1:]
    return text


def join_words(items: Sequence[str], limit: int = 3) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c and 2 more'; with a comma before the last
    'and' when an item has an 'and' of its own ('discharge and flow, and frailty')."""
    items = list(items)
    last = ", and " if any(" and " in item for item in items) else " and "
    if len(items) > limit:
        return f"{', '.join(items[:limit])}{last}{len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])}{last}{items[-1]}"


def list_names(names: Sequence[str], limit: int = 3) -> str:
    """Names that may contain "and" themselves: 'A, B, C' or 'A, B, C and 2 more'."""
    if len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    return ", ".join(names)


_FALLBACK_PAIR = "You fit this programme's rules and have not been paired recently"
_FALLBACK_GROUP = "Everyone in the group fits this programme's rules and nobody has met recently"


def reasons(
    pool: Pool, members: Sequence[int], weights: Weights, *, mentor_first: bool
) -> tuple[str, ...]:
    """Up to three plain-language reasons for a match, strongest first; never empty."""
    values: dict[str, float] = {}
    professional: Counter[int] = Counter()
    personal: Counter[int] = Counter()
    given: dict[int, int] = {}  # topic -> 1: the first offers it, 2: the other way, 3: both
    for x, i in enumerate(members):
        for j in members[x + 1 :]:
            for component in pool.components(i, j, weights):
                if component.value <= 0:
                    continue
                values[component.kind] = values.get(component.kind, 0.0) + component.value
                if component.kind == "professional":
                    professional.update(_bits(component.detail[0]))
                elif component.kind == "personal":
                    personal.update(_bits(component.detail[0]))
                elif component.kind == "complementarity":
                    for topic in _bits(component.detail[0]):
                        given[topic] = given.get(topic, 0) | 1
                    for topic in _bits(component.detail[1]):
                        given[topic] = given.get(topic, 0) | 2
    order = {kind: k for k, kind in enumerate(values)}
    ranked = sorted(values, key=lambda kind: (-values[kind], order[kind]))
    pair = len(members) == 2
    out: list[str] = []
    for kind in ranked:
        text = _phrase(pool, members, kind, pair, mentor_first, professional, personal, given)
        if text:
            out.append(text)
        if len(out) == 3:
            break
    if not out:
        out.append(_FALLBACK_PAIR if pair else _FALLBACK_GROUP)
    return tuple(out)


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _top(counter: Counter[int], names: tuple[str, ...]) -> list[str]:
    ranked = sorted(counter, key=lambda c: (-counter[c], names[c].casefold(), c))
    return [lower_first(names[c]) for c in ranked]


def _phrase(
    pool: Pool,
    members: Sequence[int],
    kind: str,
    pair: bool,
    mentor_first: bool,
    professional: Counter[int],
    personal: Counter[int],
    given: dict[int, int],
) -> str:
    if kind == "professional":
        shared = _top(professional, pool.professional.vocab.names)
        if pair or len(shared) == 1:
            return f"You share an interest in {join_words(shared)}"
        return f"You share interests in {join_words(shared)}"
    if kind == "personal":
        names = join_words(_top(personal, pool.personal.vocab.names))
        if pair:
            return f"Outside work, you both enjoy {names}"
        return f"Outside work, several of you enjoy {names}"
    if kind == "complementarity":
        return _complementarity(pool, pair, mentor_first, given)
    if kind == "organisation":
        names = _distinct(pool.org, members, pool.orgs.names)
        if pair:
            return f"You work for different organisations ({', '.join(names)})"
        return f"{len(names)} organisations around the table: {list_names(names)}"
    if kind == "staff_group":
        names = _distinct(pool.staff, members, pool.staff_groups.names)
        if pair:
            return f"You bring different professions together ({', '.join(names)})"
        return f"{len(names)} professions together: {list_names(names)}"
    if kind == "career_bridge":
        if pair:
            return "You are at different stages of your careers, so you can learn from each other"
        return "A mix of career stages, so you can learn from each other"
    if kind == "availability":
        common = -1
        for i in members:
            if pool.availability.bits[i]:
                common &= pool.availability.bits[i]
        if common in (-1, 0):
            return ""
        vocab = pool.availability.vocab
        days = [DAY_NAMES.get(vocab.keys[c], vocab.names[c]) for c in _bits(common)]
        order = {name: k for k, name in enumerate(DAY_NAMES.values())}
        days.sort(key=lambda d: (order.get(d, len(order)), d))
        if pair:
            return f"You are both free on {join_words(days, limit=7)}"
        return f"You are all free on {join_words(days, limit=7)}"
    return ""


def _complementarity(pool: Pool, pair: bool, mentor_first: bool, given: dict[int, int]) -> str:
    topics = pool.offers.vocab.names

    def named(codes: Iterable[int]) -> str:
        ordered = sorted(codes, key=lambda t: (topics[t].casefold(), t))
        return join_words([lower_first(topics[t]) for t in ordered])

    if not pair:
        return f"Someone in the group can offer {named(given)}, which another member wants to learn"
    directions = set(given.values())
    if directions == {1}:
        if mentor_first:
            return f"The mentor can offer {named(given)}, which the mentee wants to learn"
        return f"One of you can offer {named(given)}, which the other wants to learn"
    if directions == {2}:
        if mentor_first:
            return f"The mentee can offer {named(given)}, which the mentor wants to learn"
        return f"One of you can offer {named(given)}, which the other wants to learn"
    return f"Each of you can offer something the other wants to learn: {named(given)}"


def _distinct(codes: list[int], members: Sequence[int], names: tuple[str, ...]) -> list[str]:
    seen = sorted(
        {codes[i] for i in members if codes[i] >= 0}, key=lambda c: (names[c].casefold(), c)
    )
    return [names[c] for c in seen]
