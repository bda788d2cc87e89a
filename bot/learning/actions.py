"""Learning use cases: reflections, capture, digests and case studies. Each owns its
unit of work; listeners make one call here."""

from __future__ import annotations

from bot.learning import capture
from bot.roles import Actor
from storage import Database


def reflect(db: Database, who: Actor, text: str) -> None:
    """``/copbot learned <text>``: kept for the digest, without the person's name."""
    with db.session() as session:
        capture.reflect(session, who.team_id, who.user_id, text)
