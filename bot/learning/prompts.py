"""Prompt templates, kept as text files in ``prompts/`` so they can be read and versioned.

A template has a ``[system]`` section and a ``[user]`` section; ``{name}`` placeholders are
filled with ``str.format`` (the templates themselves hold no other braces; values, such as
the JSON data, are inserted as they are and never re-parsed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_SECTION = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """One template: the system message and the user message, each with placeholders."""

    name: str
    system: str
    user: str

    def render(self, **values: object) -> tuple[str, str]:
        """The filled system and user messages (a missing value raises ``KeyError``)."""
        return self.system.format(**values), self.user.format(**values)


@lru_cache(maxsize=16)
def load(name: str) -> Prompt:
    """``prompts/<name>.txt`` parsed into its sections (read once a process)."""
    text = (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")
    parts = _SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if set(sections) != {"system", "user"}:
        raise ValueError(f"prompt {name!r} needs a [system] and a [user] section")
    return Prompt(name, sections["system"], sections["user"])
