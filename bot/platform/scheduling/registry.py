"""Jobs registered by name, with the feature they belong to.

A feature's scheduled functions live in ``bot/<feature>/jobs.py``, each under a decorator::

    @job("pulse:steps", every(minutes=5), title="Pulses: remind, close, send results")
    def pulse_steps() -> None: ...

    @job("pulse:open")  # no schedule: a use case schedules it (bot.pulse.jobs.schedule_open)
    def pulse_open(pulse_id: int) -> None: ...

The composition root (``bot.runtime``) imports the feature job modules, so every process
that runs jobs has them registered. A job with a schedule is *standing*: whoever leads
keeps one of it in the store, under its name as job ID.

The database stores one function reference for every job, :data:`RUN` (never renamed),
with the job's registered name as first argument. So a name is stored data: renaming one
strands the jobs stored under it (add the old name to ``upgrade`` if one must change),
while the function and its module can move freely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec

from bot.platform.scheduling.triggers import Schedule

P = ParamSpec("P")

RUN = "bot.platform.scheduling.registry:run"


@dataclass(frozen=True)
class RegisteredJob(Generic[P]):
    """A scheduled function under its stable name; called directly, it just runs."""

    name: str
    func: Callable[P, None]
    schedule: Schedule | None = None
    title: str | None = None  # what /copbot schedule shows; the name when None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        self.func(*args, **kwargs)


_JOBS: dict[str, RegisteredJob[Any]] = {}


def job(
    name: str, schedule: Schedule | None = None, *, title: str | None = None
) -> Callable[[Callable[P, None]], RegisteredJob[P]]:
    """Register the decorated function as the job ``name`` (with ``schedule``: standing)."""

    def register(func: Callable[P, None]) -> RegisteredJob[P]:
        known = _JOBS.get(name)
        where = f"{func.__module__}.{func.__qualname__}"
        if known is not None and f"{known.func.__module__}.{known.func.__qualname__}" != where:
            raise ValueError(f"job name {name!r} is taken by {known.func.__qualname__}")
        registered = RegisteredJob(name, func, schedule, title)
        _JOBS[name] = registered
        return registered

    return register


def registered(name: str) -> RegisteredJob[Any]:
    """The job registered as ``name``; LookupError when this release has none."""
    try:
        return _JOBS[name]
    except KeyError:
        raise LookupError(f"no job is registered as {name!r} in this process") from None


def standing() -> list[RegisteredJob[Any]]:
    """The registered jobs with a schedule, by name (the same order in every process)."""
    return sorted((found for found in _JOBS.values() if found.schedule), key=lambda j: j.name)


def run(name: str, *args: Any, **kwargs: Any) -> None:
    """What every stored job calls (:data:`RUN`): the job registered as ``name``."""
    registered(name).func(*args, **kwargs)
