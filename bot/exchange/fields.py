"""How a round's candidates' fields are encoded for ``scoring.Pool``: free text folded
("Frailty" and "frailty " are one interest), days named, sets as codes and bitmasks, and
the shapes a block of scores is built from."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_DAY_ALIASES = {name.casefold(): code for code, name in DAY_NAMES.items()} | {
    "tues": "tue",
    "weds": "wed",
    "thur": "thu",
    "thurs": "thu",
}


@lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    """The comparison key of a free-text value: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def day_key(label: str) -> str:
    """Availability labels: weekday names and codes fold to "mon".."sun"; others as text."""
    key = norm(label)
    return _DAY_ALIASES.get(key, key)


def shared_value(count: int) -> float:
    """The diminishing value of ``count`` shared items."""
    return math.sqrt(count)


class Vocab:
    """Codes for the folded values of one field; each shows its first-sorting spelling."""

    def __init__(self, values: Iterable[tuple[str, str]]) -> None:
        display: dict[str, str] = {}
        for key, original in values:
            if key and (key not in display or original < display[key]):
                display[key] = original
        self.keys: tuple[str, ...] = tuple(sorted(display))
        self.names: tuple[str, ...] = tuple(display[key] for key in self.keys)
        self.codes: dict[str, int] = {key: code for code, key in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def reordered(self, order: Sequence[int]) -> Vocab:
        """The same values, value ``order[k]`` now numbered k."""
        vocab = Vocab(())
        vocab.keys = tuple(self.keys[c] for c in order)
        vocab.names = tuple(self.names[c] for c in order)
        vocab.codes = {key: code for code, key in enumerate(vocab.keys)}
        return vocab


def encode(values: Sequence[str]) -> tuple[list[int], Vocab]:
    vocab = Vocab((norm(v), v.strip()) for v in values)
    return [vocab.codes.get(norm(v), -1) for v in values], vocab


class SetField:
    """One set-valued field of every candidate: bitmasks, a 0/1 matrix, packed words."""

    def __init__(
        self,
        sets: Sequence[frozenset[str]],
        fold: Callable[[str], str] = norm,
        *,
        every_bit: bool = False,
    ) -> None:
        """Unless ``every_bit``, the values only one set lists are numbered last and left
        out of the bitmasks: nobody can share them, and free text makes them many (each
        bitmask would otherwise be as long as the vocabulary: 10 GB at 100,000 people).
        Among the rest, codes keep the values' sorted order."""
        vocab = Vocab((fold(v), v.strip()) for s in sets for v in s)
        codes = vocab.codes
        members = [tuple(sorted({codes[k] for k in map(fold, s) if k})) for s in sets]
        bits_below = len(vocab)
        if not every_bit:
            listed = np.fromiter((c for m in members for c in m), dtype=np.int64)
            shared = np.bincount(listed, minlength=len(vocab)) >= 2
            order = np.argsort(~shared, kind="stable")
            new = np.empty(len(order), dtype=np.int64)
            new[order] = np.arange(len(order))
            renumber = new.tolist()
            members = [tuple(sorted(renumber[c] for c in m)) for m in members]
            vocab, bits_below = vocab.reordered(order.tolist()), int(shared.sum())
        self._build(vocab, members, bits_below)

    @classmethod
    def of(cls, vocab: Vocab, members: list[tuple[int, ...]], bits_below: int) -> SetField:
        field = cls.__new__(cls)
        field._build(vocab, members, bits_below)
        return field

    def _build(self, vocab: Vocab, members: list[tuple[int, ...]], bits_below: int) -> None:
        self.vocab = vocab
        self.members = members
        self.bits_below = bits_below  # bitmasks hold the values numbered below this
        self.bits: list[int] = [sum(1 << c for c in m if c < bits_below) for m in members]
        n, v = len(members), len(vocab)
        self.size = v
        self._words: np.ndarray | None = None
        self.empty = np.array([not m for m in members], dtype=bool)
        rows = np.repeat(np.arange(n), [len(m) for m in members])
        cols = np.fromiter((c for m in members for c in m), dtype=np.int64, count=len(rows))
        self._listed = rows, cols  # (candidate, item) for every item listed
        # Rows as CSR: a block's rows times a dense matrix runs in scipy's own loops, not in
        # a multithreaded BLAS that would fight the block threads. Columns dense if small.
        self.matrix: sparse.csr_array | None = None
        self.transposed: np.ndarray | sparse.csc_array | None = None
        if len(rows) == 0:
            return
        csr = sparse.csr_array((np.ones(len(rows), dtype=np.float32), (rows, cols)), (n, v))
        self.matrix = csr
        if n * v <= 1 << 23:
            self.transposed = np.ascontiguousarray(csr.toarray().T)
        else:
            self.transposed = csr.T.tocsc()

    def holders(self) -> np.ndarray:
        """How many candidates list each item."""
        return np.bincount(self._listed[1], minlength=self.size)

    def words(self, keep: np.ndarray | None = None) -> np.ndarray:
        """The bitsets word-major: row t holds items 64t..64t+63 of everyone (at least one
        row, so an empty field shares nothing with anyone); with ``keep`` (a mask over the
        items), only the items kept, numbered in order."""
        if keep is None and self._words is not None:
            return self._words
        rows, cols = self._listed
        size = self.size
        if keep is not None:
            kept = keep[cols]
            rows, cols = rows[kept], (np.cumsum(keep) - 1)[cols[kept]]
            size = int(keep.sum())
        words = np.zeros((max(1, (size + 63) // 64), len(self.members)), dtype=np.uint64)
        one = np.left_shift(np.uint64(1), (cols % 64).astype(np.uint64))
        np.bitwise_or.at(words, (cols // 64, rows), one)
        if keep is None:
            self._words = words
        return words

    def block_counts(self, rows: np.ndarray, other: SetField) -> np.ndarray | None:
        """How many items each of ``rows`` has in common with every candidate's ``other``."""
        if self.matrix is None or other.transposed is None:
            return None
        product = self.matrix[rows] @ other.transposed
        if sparse.issparse(product):
            product = product.toarray()
        return np.asarray(product, dtype=np.float32)

    def pair_counts(self, a: np.ndarray, b: np.ndarray, other: SetField) -> np.ndarray:
        """Shared items for each pair (a[k]'s items, b[k]'s items in ``other``)."""
        if self.matrix is None or other.matrix is None or len(a) == 0:
            return np.zeros(len(a), dtype=np.int64)
        if self.size <= 256:  # up to 4 words: on the bits; beyond, on the sparse rows
            both = self.words()[:, a] & other.words()[:, b]
            return np.bitwise_count(both).sum(axis=0, dtype=np.int64)
        both = self.matrix[a].multiply(other.matrix[b])
        return np.rint(np.asarray(both.sum(axis=1)).ravel()).astype(np.int64)

    def names(self, codes: Iterable[int]) -> list[str]:
        return [self.vocab.names[c] for c in sorted(codes)]


def split(field: SetField, n: int) -> tuple[SetField, SetField]:
    """Split a field built over offers + wants (one shared vocabulary) into its halves."""
    return (
        SetField.of(field.vocab, field.members[:n], field.bits_below),
        SetField.of(field.vocab, field.members[n:], field.bits_below),
    )


@dataclass(frozen=True)
class BlockSetup:
    tables: list[tuple[np.ndarray, np.ndarray]]  # (pattern per person, row per pattern)
    big: float  # the penalty for a broken rule
    families: list[tuple[int, SetField, np.ndarray | sparse.csc_array]]  # sign, rows, cols
    count_days: bool
    org: np.ndarray  # organisation codes, unknowns made unique
    org_cut: float  # taken off same-organisation pairs


@dataclass(frozen=True)
class Component:
    """One term of a pair's score, kept for reasons."""

    kind: str
    value: float
    detail: tuple[int, ...]
