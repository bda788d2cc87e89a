"""The outbox: the one way scheduled and bulk messages leave copbot, each sent exactly once.

Work writes a row first (``enqueue``, idempotent on ``key``); a ``Deliverer`` claims due
rows, marks them ``sending`` and commits before it posts, posts with the key in Slack
message metadata, then records the ``ts``. The window between posting and recording is
closed by recovery: a row left in ``sending`` beyond its lease is looked up in the
destination's latest messages by its metadata key, and recorded as sent if it is there,
or put back to pending if it is not. A send whose outcome is unknown (timeout, dropped
connection, 5xx: Slack says such calls may have taken effect) goes through the same check
before it is tried again, so no retry can make a second copy.

Throughput follows Slack's limits, not a fixed sleep: a small pool posts concurrently,
one conversation at a time per channel (chat.postMessage allows about one a second per
channel), and a 429 pauses every sender for its ``Retry-After``. Three server errors or
unanswered calls in a row pause every sender too (2 s, doubling to 60 s, then one probe
post), so an outage leaves a handful of messages to check, not one per message queued.
Tier 3 methods (``conversations.open``, ``conversations.history``) are only called in
recovery.

The parts: ``enqueue`` (queueing, depth), ``deliver`` (the Deliverer, sending),
``claims`` (holding and settling rows), ``recover`` (rows left in ``sending``), ``pace``
(rate limits, the outage breaker), ``failures`` (what an error means), ``report``
(counters).
"""

from bot.platform.outbox.claims import LEASE, MAX_ATTEMPTS
from bot.platform.outbox.deliver import Deliverer, default_worker_id
from bot.platform.outbox.enqueue import EVENT_TYPE, KEY_MAX, TEXT_MAX, backlog, enqueue
from bot.platform.outbox.failures import (
    DESTINATION_ERRORS,
    FATAL_ERRORS,
    MESSAGE_ERRORS,
    DeliveryHalted,
    Failure,
    backoff,
    classify,
    is_outage,
)
from bot.platform.outbox.pace import (
    OUTAGE_PAUSE,
    OUTAGE_PAUSE_MAX,
    OUTAGE_THRESHOLD,
    _Breaker,
    _Pacer,
)
from bot.platform.outbox.recover import HISTORY_LIMIT, HISTORY_PAGES
from bot.platform.outbox.report import DeliveryReport, metrics

__all__ = [
    "DESTINATION_ERRORS",
    "EVENT_TYPE",
    "FATAL_ERRORS",
    "HISTORY_LIMIT",
    "HISTORY_PAGES",
    "KEY_MAX",
    "LEASE",
    "MAX_ATTEMPTS",
    "MESSAGE_ERRORS",
    "OUTAGE_PAUSE",
    "OUTAGE_PAUSE_MAX",
    "OUTAGE_THRESHOLD",
    "TEXT_MAX",
    "Deliverer",
    "DeliveryHalted",
    "DeliveryReport",
    "Failure",
    "_Breaker",
    "_Pacer",
    "backlog",
    "backoff",
    "classify",
    "default_worker_id",
    "enqueue",
    "is_outage",
    "metrics",
]
