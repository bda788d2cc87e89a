"""The directory kept fresh from Slack's events: a person joined or changed their
profile, the app was uninstalled or its token revoked. The use cases of
``handlers/members.py``; the rules are in ``bot.members`` and ``bot.workspaces``."""

from __future__ import annotations

from bot import dedupe, members, workspaces
from bot.config import Settings
from bot.slack import SlackProfile
from storage import Database


def profile_changed(
    db: Database, settings: Settings, team_id: str, profile: SlackProfile, event_id: str
) -> bool:
    """Create or refresh the member from the profile the event carried (no Web API
    call); False for a redelivery already handled."""
    with db.session() as session:
        if not dedupe.claim(session, event_id, team_id):
            return False
        members.upsert_profile(session, team_id, profile, settings)
    return True


def hold(db: Database, team_id: str, why: str) -> None:
    """Stop working for a workspace that uninstalled copbot or revoked its token."""
    with db.session() as session:
        workspaces.mark_uninstalled(session, team_id, why)
