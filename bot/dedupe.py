"""Each Slack delivery has one effect: claim its key in the transaction of that effect."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete

from storage import ProcessedEvent, insert_or_ignore

SIGNED = "signed:"
# Slack refuses a signature older than five minutes; a little more, for clocks that drift.
SIGNATURE_WINDOW = timedelta(minutes=10)


def claim(session: Session, key: str, team_id: str | None = None) -> bool:
    """Record ``key`` (an event_id, or ``channel:ts`` for message actions).

    False means it was handled before (a retry or redelivery) and the caller must do
    nothing; the claim commits or rolls back together with the caller's effect.
    """
    return insert_or_ignore(session, ProcessedEvent(key=key, team_id=team_id))


def first_delivery(session: Session, signature: str) -> bool:
    """Record a signed request's signature (it covers the timestamp and the whole body).

    False means these exact signed bytes came before: Slack never sends them twice (a
    retry is signed anew), so this is a replay and must have no effect. Kept in the
    database, so that every process sees it.
    """
    return claim(session, SIGNED + signature)


def forget_signatures(session: Session, now: datetime) -> None:
    """Signatures past the window are refused as stale anyway: they need not be kept."""
    session.exec(  # type: ignore[call-overload]
        delete(ProcessedEvent).where(
            col(ProcessedEvent.key).startswith(SIGNED),
            col(ProcessedEvent.received_at) < now - SIGNATURE_WINDOW,
        )
    )


def release(session: Session, key: str) -> None:
    """Let go of a claim whose effect failed, so that the next attempt can make it."""
    session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.key) == key))  # type: ignore[call-overload]
