"""Sealed ballots: what a member answered while the run is open, unreadable in the database.

Why: a backup taken just before and just after one answer shows whose participation
flipped. If the answer itself were written then, in any readable form, the two backups
would link it to the person. So an open run's answers are sealed with AES-GCM under a key
derived from a deployment secret that never enters the database (the Slack signing secret,
or the app-level token in Socket Mode: the same secret that seals modal metadata), and
padded to a fixed size per run, so even the ciphertext's length says nothing about how
much someone wrote. At close they are opened and shuffled into answer rows all at once.

Each process that answers or closes pulses (``copbot serve``/``run`` and ``copbot worker``)
needs the same secret; a ballot sealed under another secret is counted but cannot be read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.config import Settings
from bot.keys import derive_key

NONCE = 12
# Padding: every ballot of a run is the same size, room for the longest answers of an
# ordinary (mostly ASCII) text; a longer one takes whole extra blocks.
BASE_BLOCK = 512
PER_TEXT = 3200


class Unreadable(ValueError):
    """A ballot sealed under another secret, or altered."""


@dataclass
class Ballot:
    """One member's answers to one run: question -> (value, text), and what breakdowns use."""

    answers: dict[int, tuple[int | None, str | None]] = field(default_factory=dict)
    staff_group: str | None = None
    organisation_type: str | None = None
    user_id: str | None = None  # attributed runs only

    def chosen(self) -> dict[int, int]:
        return {q: value for q, (value, _) in self.answers.items() if value is not None}


def ballot_id(token: str) -> str:
    """Where a token's ballot is kept: a hash unlike any other use of the token."""
    return hashlib.sha256(b"copbot pulse ballot\0" + token.encode()).hexdigest()


def _key(settings: Settings, run_id: int) -> bytes:
    return derive_key(settings, b"copbot pulse ballots", f"run {run_id}".encode())


def block_size(questions: Sequence[Mapping[str, Any]]) -> int:
    texts = sum(1 for question in questions if question.get("kind") == "free_text")
    return BASE_BLOCK + PER_TEXT * texts


class Sealer:
    """Seals and opens the ballots of one run (its key derived once)."""

    def __init__(
        self, settings: Settings, run_id: int, questions: Sequence[Mapping[str, Any]]
    ) -> None:
        self._aead = AESGCM(_key(settings, run_id))
        self.block = block_size(questions)

    def seal(self, ballot_key: str, ballot: Ballot) -> str:
        plain = json.dumps(
            {
                "a": {str(q): [v, t] for q, (v, t) in sorted(ballot.answers.items())},
                "g": ballot.staff_group,
                "o": ballot.organisation_type,
                "u": ballot.user_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        size = -(-(len(plain) + 1) // self.block) * self.block  # whole blocks, at least one
        padded = plain + b"\x80" + b"\0" * (size - len(plain) - 1)
        nonce = os.urandom(NONCE)
        sealed = self._aead.encrypt(nonce, padded, ballot_key.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, ballot_key: str, sealed: str) -> Ballot:
        raw = base64.b64decode(sealed)
        try:
            padded = self._aead.decrypt(raw[:NONCE], raw[NONCE:], ballot_key.encode())
        except InvalidTag:
            raise Unreadable("this ballot was sealed under another secret") from None
        data = json.loads(padded.rstrip(b"\0")[:-1])
        answers = {int(q): (pair[0], pair[1]) for q, pair in data["a"].items()}
        return Ballot(answers, data.get("g"), data.get("o"), data.get("u"))
