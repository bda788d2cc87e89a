"""Jobs stored by an older release, read as this release stores them.

Until the registry, a stored job named its function directly (``"bot.jobs:pulse_open"``)
and a wall-clock trigger pickled as ``bot.scheduling.WallClockCronTrigger``. Both modules
are gone: the functions live with their features, registered by name, and every job now
stores :data:`~bot.platform.scheduling.registry.RUN` with that name as first argument.
The store reads an old job through :func:`load_state` (any process, at once), and the
leader writes the upgraded form back when it starts (``CopbotJobStore.upgrade_stored``).
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from bot.platform.scheduling.registry import RUN
from bot.platform.scheduling.triggers import WallClockCronTrigger

# Each function reference stored before the registry, and the name its job has now.
BEFORE_THE_REGISTRY = {
    "bot.jobs:heartbeat": "copbot:heartbeat",
    "bot.jobs:challenge_steps": "ideas:challenge-steps",
    "bot.jobs:unposted_cards": "ideas:unposted-cards",
    "bot.jobs:ideas_awaiting_review": "ideas:awaiting-review",
    "bot.jobs:unfinished_forgets": "privacy:unfinished-forgets",
    "bot.jobs:pulse_open": "pulse:open",
    "bot.jobs:pulse_steps": "pulse:steps",
    "bot.jobs:exchange_steps": "exchange:steps",
    "bot.jobs:weekly_digests": "learning:weekly-digests",
    "bot.jobs:unfinished_digests": "learning:unfinished-digests",
    "bot.jobs:retention": "copbot:retention",
    "bot.jobs:profile_sync": "members:profile-sync",
}

# Classes pickled into stored jobs under a module path that has since moved.
MOVED_CLASSES: dict[tuple[str, str], type] = {
    ("bot.scheduling", "WallClockCronTrigger"): WallClockCronTrigger,
}


class _Unpickler(pickle.Unpickler):
    moved = False

    def find_class(self, module: str, name: str) -> Any:
        found = MOVED_CLASSES.get((module, name))
        if found is None:
            return super().find_class(module, name)
        self.moved = True
        return found


def load_state(job_state: bytes) -> tuple[dict[str, Any], bool]:
    """A stored job's state as this release stores it, and whether it had to change."""
    unpickler = _Unpickler(io.BytesIO(job_state))
    state: dict[str, Any] = unpickler.load()
    name = BEFORE_THE_REGISTRY.get(state.get("func", ""))
    if name is not None:
        state["func"] = RUN
        state["args"] = (name, *state.get("args", ()))
    return state, name is not None or unpickler.moved
