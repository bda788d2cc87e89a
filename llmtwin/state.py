"""What the twin remembers between requests: the request log, planned faults and replies.

Everything here is touched from the server thread and the test thread, so each piece keeps
its own lock and hands out copies.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the twin saw and answered it.

    ``path`` is the URL path (``/v1/embeddings``), ``body`` the decoded JSON body (None for
    GET or an unreadable body), ``status`` the HTTP status sent back and ``at`` when it was
    sent: a slow answer is recorded once its delay is over.
    """

    method: str
    path: str
    body: Any
    status: int
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class RequestLog:
    """Append-only, thread-safe list of ``RecordedRequest``."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def add(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass
class Fault:
    """A planned answer for the next ``remaining`` matching requests.

    ``kind`` is "status" (answer ``status`` with an error body), "ratelimit" (429 with
    ``Retry-After``) or "slow" (wait ``delay`` seconds, then answer normally). ``path``
    limits it to one endpoint (``"/v1/embeddings"``); None matches any.
    """

    kind: str
    remaining: int
    status: int = 500
    retry_after: float = 1
    delay: float = 0.0
    message: str | None = None
    path: str | None = None


class Faults:
    """Planned faults, used first in, first out (the first one whose path matches)."""

    def __init__(self) -> None:
        self._plan: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._plan.append(fault)

    def take(self, path: str) -> Fault | None:
        """The fault for a request to ``path``, if any; counts it as used."""
        with self._lock:
            for fault in self._plan:
                if fault.path is None or fault.path == path:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._plan.remove(fault)
                    return fault
            return None

    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._plan)

    def clear(self) -> None:
        with self._lock:
            self._plan.clear()


class Replies:
    """Scripted chat completion contents, used in order before any computed answer."""

    def __init__(self) -> None:
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()

    def add(self, content: str, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.extend([content] * times)

    def take(self) -> str | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
