"""Delivery counters: one run's report, a Deliverer's totals and the process's."""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    """What one ``run_once`` did (or, from ``metrics()``, everything since start).

    ``recovered``: rows found already delivered after a crash or an unknown outcome,
    recorded without a resend; ``requeued``: such rows not found in Slack, put back to
    pending to be sent once; ``retried``: failed sends that will be tried again;
    ``outage_waits``: pauses of all sending because Slack kept failing (5xx or no answer).
    """

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    undeliverable: int = 0
    recovered: int = 0
    requeued: int = 0
    rate_limit_waits: int = 0
    outage_waits: int = 0

    @property
    def busy(self) -> bool:
        """Work was found: the worker should look again at once rather than sleep."""
        return bool(self.claimed or self.recovered or self.requeued)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Tally:
    """Thread-safe counters; feeds a run's report and the process-wide totals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = DeliveryReport()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self._values, name, getattr(self._values, name) + amount)

    def snapshot(self) -> DeliveryReport:
        with self._lock:
            return DeliveryReport(**asdict(self._values))


_TOTALS = _Tally()


def metrics() -> dict[str, int]:
    """Process-wide counters since start, over every Deliverer: for ``GET /metrics``."""
    return _TOTALS.snapshot().as_dict()
