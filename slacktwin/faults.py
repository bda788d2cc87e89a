"""Fault injection: make the next calls of a method fail, hang or be rate limited."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """One planned fault. ``kind`` is "status", "timeout", "late" or "ratelimit"."""

    kind: str
    remaining: int
    status: int = 500
    delay: float = 0.0
    retry_after: int = 1
    error: str | None = None


class Faults:
    """Planned faults per method (``"*"`` matches every method), used in order."""

    def __init__(self) -> None:
        self._plans: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, method: str, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._plans.setdefault(method, []).append(fault)

    def take(self, method: str) -> Fault | None:
        """The fault to apply to this call, if any; counts it as used."""
        with self._lock:
            for key in (method, "*"):
                plan = self._plans.get(key)
                if plan:
                    fault = plan[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        plan.pop(0)
                    return fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
