"""How a listener shows its answer in Slack: a modal opened, pushed or updated, and the
Home tab. The one place listeners touch the Slack client (rule 3 of
docs/architecture.md): anything else a listener needs from Slack, or sends to people, is
a ``bot.<feature>.actions`` call."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient


def open_modal(client: WebClient, trigger_id: str, view: dict[str, Any]) -> str:
    """Open ``view`` as a modal (within 3 s of the trigger); returns the view's ID."""
    return str(client.views_open(trigger_id=trigger_id, view=view)["view"]["id"])


def push_modal(client: WebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """Stack ``view`` on the modal the person is looking at."""
    client.views_push(trigger_id=trigger_id, view=view)


def update_modal(
    client: WebClient, view_id: str, view: dict[str, Any], view_hash: str | None = None
) -> None:
    """Redraw an open modal; with ``view_hash``, Slack refuses if it changed meanwhile."""
    if view_hash:
        client.views_update(view_id=view_id, hash=view_hash, view=view)
    else:
        client.views_update(view_id=view_id, view=view)


def publish_home(client: WebClient, user_id: str, view: dict[str, Any]) -> None:
    """Draw a person's Home tab."""
    client.views_publish(user_id=user_id, view=view)
