"""Token counting without a tokenizer download, and packing texts into token budgets.

``tiktoken`` fetches its encodings from the internet on first use, which a locked-down
deployment cannot do, so copbot estimates instead. ``count_tokens`` mimics how OpenAI's
cl100k/o200k encodings cut text: a regex splits words (with their leading space), runs of
up to three digits, punctuation runs and whitespace; a common short word is one token, a
long word costs one more token for about every five letters past the seventh, all-caps
and non-ASCII text cost more, and punctuation runs about one token per two characters.

Its error against the real encodings was not measured here (tiktoken is not available);
from the rules above it is expected to land within roughly 10-20% on English prose, the
usual ratio of about four characters a token, and to be less reliable on code, URLs and
non-Latin scripts. Budgets built on it should keep a margin (the summariser keeps one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

# cl100k's pre-tokenizer, in Python's re: contractions, words with one leading non-letter
# (usually the space), 1-3 digit runs, punctuation runs, newlines, other whitespace.
_PIECE = re.compile(
    r"'(?:s|t|re|ve|m|ll|d)\b"
    r"|[^\r\n\w]?[^\W\d_]+"
    r"|\d{1,3}"
    r"| ?[^\s\w]+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\r\n\w]?([^\W\d_]+)$")
SHORT_WORD = 7  # letters a common word can have and still be one token
LETTERS_PER_EXTRA_TOKEN = 5


def _word_tokens(word: str) -> int:
    """Tokens for one run of letters (without its leading space)."""
    length = len(word)
    extra = sum(1 for ch in word if ord(ch) > 127)
    if extra:
        # Accented Latin letters cost about one token each; CJK and the like about one each.
        return max(1, math.ceil((length - extra) / 4) + extra)
    if length > 3 and word.isupper():
        return math.ceil(length / 3)  # acronyms and shouting split into small pieces
    if length <= SHORT_WORD:
        return 1
    return 1 + math.ceil((length - SHORT_WORD) / LETTERS_PER_EXTRA_TOKEN)


def _piece_tokens(piece: str) -> int:
    word = _WORD.match(piece)
    if word is not None:
        return _word_tokens(word.group(1))  # the leading space or quote merges into it
    if piece.isdigit() or piece.isspace():
        return 1  # up to three digits; a space before a number or a run of newlines
    return max(1, math.ceil(len(piece.strip()) / 2))


def _pieces(text: str) -> list[str]:
    return _PIECE.findall(text)


def count_tokens(text: str) -> int:
    """An offline estimate of the tokens ``text`` costs a GPT-4-class model (see module)."""
    if not text:
        return 0
    return sum(_piece_tokens(piece) for piece in _pieces(text))


def truncate_to_tokens(text: str, budget: int, ellipsis: str = "…") -> str:
    """``text`` cut at a piece boundary so it costs at most ``budget`` tokens (ellipsis too)."""
    if count_tokens(text) <= budget:
        return text
    room = max(budget - count_tokens(ellipsis), 0)
    kept: list[str] = []
    used = 0
    for piece in _pieces(text):
        cost = _piece_tokens(piece)
        if used + cost > room:
            break
        kept.append(piece)
        used += cost
    return "".join(kept).rstrip() + ellipsis if budget > 0 else ""


def chunk(items: Sequence[str], budget: int) -> list[list[int]]:
    """Indices of ``items`` in order, grouped so each group's tokens fit ``budget``.

    Greedy and order-keeping, so groups are runs of consecutive indices. Every index appears
    exactly once: an item bigger than the whole budget gets a group of its own (the caller
    cuts its text with ``truncate_to_tokens``); it is never dropped.
    """
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, item in enumerate(items):
        cost = count_tokens(item)
        if current and used + cost > budget:
            groups.append(current)
            current, used = [], 0
        current.append(index)
        used += cost
    if current:
        groups.append(current)
    return groups
