"""Privacy rights for every member: what copbot keeps about me, my data as a file, and
"forget me".

``links.LINKS`` is the one map of every column that names a person (their Slack user ID), what
"Download my data" takes from a row it names them in, and what "forget me" does to it.
A row is the member's own only through one of these columns: another person's sign-up that
names them as do-not-pair, or a message that mentions them, is not theirs, so its words and
choices are never exported (mentions are counted instead). ``NOT_THEIRS`` lists the other
places a user ID can sit, and why they are not the member's own. The test of
``docs/privacy.md`` holds both against the tables.

The package: ``links`` (the map), ``export`` (my data, what copbot keeps), ``erasure``
("forget me" in one transaction), ``redraw`` (what Slack shows, after the commit) and
``actions`` (the use cases the listeners and the crash-recovery job call).
"""

from __future__ import annotations

from bot.rights.actions import carry_out, finish_forgets
from bot.rights.erasure import (
    FORMER,
    REMOVED,
    REQUESTED,
    Forgotten,
    Needles,
    forget,
    request_forget,
)
from bot.rights.export import Summary, export, summary
from bot.rights.links import LINKS, NOT_THEIRS, Erase, Link, tables
from bot.rights.redraw import clean_storage, redraw

# The names callers have always used (``rights.forget``, ``rights.LINKS``).
__all__ = [
    "FORMER",
    "LINKS",
    "NOT_THEIRS",
    "REMOVED",
    "REQUESTED",
    "Erase",
    "Forgotten",
    "Link",
    "Needles",
    "Summary",
    "carry_out",
    "clean_storage",
    "export",
    "finish_forgets",
    "forget",
    "redraw",
    "request_forget",
    "summary",
    "tables",
]
