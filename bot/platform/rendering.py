"""What a feature says, and how it looks, kept apart: domain messages rendered at the edge.

``bot/<feature>/messages.py`` holds small typed messages (an invitation to a pulse, a
decision on an idea): frozen dataclasses with the facts and a plain ``fallback`` text.
How each looks in Slack is a view in ``handlers/<feature>/views.py``, registered with
``@renders(TheMessage)``. ``bot`` asks ``render(message)`` and never builds Block Kit, so
the Slack look lives in one place per feature and a second chat platform would register
its own views.

Views register when their module is imported: the composition roots (the Bolt app, the
worker, the sandbox) import ``handlers.views``, which imports every feature's views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar


class Message(Protocol):
    """A domain message: what to say, with a plain-text fallback for notifications."""

    def fallback(self) -> str: ...


@dataclass(frozen=True)
class Rendered:
    """A message as the platform shows it: the notification text and its blocks."""

    text: str
    blocks: list[dict[str, Any]]


M = TypeVar("M")
View = Callable[[Any], Rendered]

_VIEWS: dict[type, View] = {}


def renders(message_type: type[M]) -> Callable[[Callable[[M], Rendered]], Callable[[M], Rendered]]:
    """Register the view that draws ``message_type``; one view per message type."""

    def register(view: Callable[[M], Rendered]) -> Callable[[M], Rendered]:
        known = _VIEWS.get(message_type)
        if known is not None and known is not view:
            raise ValueError(f"{message_type.__name__} already has a view: {known.__qualname__}")
        _VIEWS[message_type] = view
        return view

    return register


def render(message: object) -> Rendered:
    """Draw ``message`` with its registered view."""
    view = _VIEWS.get(type(message))
    if view is None:
        raise LookupError(
            f"no view renders {type(message).__name__}: register one with @renders in "
            "handlers/<feature>/views.py and import it from handlers/views.py"
        )
    return view(message)
