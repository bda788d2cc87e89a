"""The call log: every request the twin answered, for assertions in tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One Web API call (or response_url/upload post) as the twin saw and answered it.

    ``method`` is the Web API method name, or ``"response_url"`` / ``"files.upload"`` for
    the twin's non-API endpoints; ``args`` are decoded (JSON strings parsed) without the
    token; ``status`` is the HTTP status and ``response`` the JSON body sent back.
    """

    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.ok else str(self.response.get("error") or f"http_{self.status}")


class CallLog:
    """Append-only, thread-safe list of ``Call``."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def all(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
