"""The real Slack Web API method names (copied from shared/slack-samples)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

METHODS_FILE = Path(__file__).with_name("web_api_methods.txt")


@cache
def web_api_methods() -> frozenset[str]:
    """Every method name Slack has; a name not listed here does not exist."""
    lines = METHODS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
