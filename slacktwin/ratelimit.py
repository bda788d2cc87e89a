"""Slack-like rate limits: token buckets per method tier, and chat.postMessage's special rule.

Slack publishes limits per method as *tiers* (requests per minute per workspace, with
"occasional bursts" allowed). The twin models each tier as a token bucket whose refill
rate is the tier's per-minute figure and whose capacity is the burst allowance.

| tier    | per minute | burst | methods (in the twin)                                        |
| ------- | ---------- | ----- | ------------------------------------------------------------ |
| Tier 1  | 1          | 2     | apps.connections.open (so 2 connects, then 1 a minute)       |
| Tier 2  | 20         | 10    | users.list, conversations.list, reactions.remove             |
| Tier 3  | 50         | 20    | conversations.open/info/history/replies/join, chat.update,   |
|         |            |       | chat.delete, reactions.add, users.conversations,             |
|         |            |       | users.lookupByEmail, team.info, bots.info; default           |
| Tier 4  | 100        | 50    | auth.test, users.info, conversations.members,                |
|         |            |       | chat.postEphemeral, chat.getPermalink, views.open/push/      |
|         |            |       | update/publish, files.getUploadURLExternal,                  |
|         |            |       | files.completeUploadExternal, files.info                     |
| special | 60/channel | 4     | chat.postMessage: about 1 per second per channel (burst 4)   |
|         | 600/team   | 100   | plus a workspace-wide budget across all channels             |

Tiers follow each method's page on docs.slack.dev (users.info Tier 4, users.list Tier 2,
conversations.open Tier 3, ...). Slack limits conversations.history and
conversations.replies to 1 request a minute (and 15 messages a call) for commercially
distributed apps that are not in the Slack Marketplace (changelog, May 2025):
``SlackTwin(non_marketplace_limits=True)`` models that (``RateLimits.non_marketplace``).
Internal apps, as copbot is for each organisation that installs it, keep Tier 3.
On a limit Slack answers HTTP 429 with ``Retry-After`` (whole seconds).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TIERS: dict[int, tuple[float, int]] = {1: (1, 2), 2: (20, 10), 3: (50, 20), 4: (100, 50)}

METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "auth.test": 4,
    "bots.info": 3,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "files.completeUploadExternal": 4,
    "files.getUploadURLExternal": 4,
    "files.info": 4,
    "reactions.add": 3,
    "reactions.remove": 2,
    "team.info": 3,
    "users.conversations": 3,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}
DEFAULT_TIER = 3
# 1 call a minute for commercially distributed non-Marketplace apps.
NON_MARKETPLACE_METHODS = frozenset({"conversations.history", "conversations.replies"})


@dataclass(frozen=True)
class Limit:
    """A bucket's shape: ``per_minute`` refill and ``burst`` capacity."""

    per_minute: float
    burst: int


@dataclass
class RateLimits:
    """Rate limit configuration; ``methods`` overrides the tier of single methods."""

    methods: dict[str, Limit] = field(default_factory=dict)
    default_tier: int = DEFAULT_TIER
    post_message_per_channel_per_second: float = 1.0
    post_message_channel_burst: int = 4
    post_message_workspace_per_minute: float = 600.0
    post_message_workspace_burst: int = 100
    non_marketplace: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RateLimits:
        """Build from a dict: method names map to ``Limit``, ``(per_minute, burst)`` or a dict
        with those keys; other keys set the fields of this class."""
        limits = cls()
        for key, value in data.items():
            if hasattr(limits, key) and key != "methods":
                setattr(limits, key, value)
            else:
                limits.methods[key] = _to_limit(value)
        return limits

    def limit_for(self, method: str) -> Limit:
        if method in self.methods:
            return self.methods[method]
        if self.non_marketplace and method in NON_MARKETPLACE_METHODS:
            return Limit(1, 1)
        per_minute, burst = TIERS[METHOD_TIERS.get(method, self.default_tier)]
        return Limit(per_minute, burst)


def _to_limit(value: Any) -> Limit:
    if isinstance(value, Limit):
        return value
    if isinstance(value, Mapping):
        return Limit(float(value["per_minute"]), int(value.get("burst", 1)))
    per_minute, burst = value
    return Limit(float(per_minute), int(burst))


class TokenBucket:
    """Classic token bucket; ``take`` answers 0 when allowed, else seconds to wait."""

    def __init__(self, limit: Limit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        rate = self.limit.per_minute / 60.0
        self.tokens = min(float(self.limit.burst), self.tokens + (now - self.updated) * rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        rate = self.limit.per_minute / 60.0
        return math.inf if rate <= 0 else (1.0 - self.tokens) / rate

    def consume(self) -> None:
        self.tokens -= 1.0


class RateLimiter:
    """Keeps the buckets; thread-safe. ``check`` returns ``Retry-After`` seconds or None."""

    def __init__(self, config: RateLimits | None = None, *, enabled: bool = True) -> None:
        self.config = config or RateLimits()
        self.enabled = enabled
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def set_limit(self, method: str, *, per_minute: float, burst: int) -> None:
        with self._lock:
            self.config.methods[method] = Limit(float(per_minute), int(burst))
            self._buckets = {k: v for k, v in self._buckets.items() if k[0] != method}

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def _bucket(self, key: tuple[str, str], limit: Limit, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.limit != limit:
            bucket = self._buckets[key] = TokenBucket(limit, now)
        return bucket

    def check(self, method: str, *, channel: str | None = None) -> int | None:
        """Take a token for this call; None when allowed, else whole seconds to wait."""
        if not self.enabled:
            return None
        now = time.monotonic()
        with self._lock:
            cfg = self.config
            if method == "chat.postMessage" and method not in cfg.methods:
                shapes = [
                    (
                        (method, ""),
                        Limit(
                            cfg.post_message_workspace_per_minute, cfg.post_message_workspace_burst
                        ),
                    ),
                    (
                        (method, f"channel:{channel or ''}"),
                        Limit(
                            cfg.post_message_per_channel_per_second * 60.0,
                            cfg.post_message_channel_burst,
                        ),
                    ),
                ]
            else:
                shapes = [((method, ""), cfg.limit_for(method))]
            buckets = [self._bucket(key, limit, now) for key, limit in shapes]
            wait = max(bucket.wait_time(now) for bucket in buckets)
            if wait > 0:
                return max(1, math.ceil(wait)) if math.isfinite(wait) else 60
            for bucket in buckets:
                bucket.consume()
            return None
