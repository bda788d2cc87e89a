"""Each Slack delivery has one effect: claim its key in the transaction of that effect."""

from __future__ import annotations

from sqlmodel import Session

from storage import ProcessedEvent, insert_or_ignore


def claim(session: Session, key: str, team_id: str | None = None) -> bool:
    """Record ``key`` (an event_id, or ``channel:ts`` for message actions).

    False means it was handled before (a retry or redelivery) and the caller must do
    nothing; the claim commits or rolls back together with the caller's effect.
    """
    return insert_or_ignore(session, ProcessedEvent(key=key, team_id=team_id))
