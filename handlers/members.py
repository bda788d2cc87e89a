"""Keeps cached profiles fresh from ``user_change`` events (no per-member API calls later)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot import dedupe, members
from bot.slack import profile_from_user
from handlers.common import deps


def register(app: App) -> None:
    app.event("user_change")(refresh_profile)


def refresh_profile(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
) -> None:
    ack()
    user = event.get("user") or {}
    team_id = context.team_id or user.get("team_id")
    if not user.get("id") or not team_id:
        return
    with deps(context).db.session() as session:
        if not dedupe.claim(session, body.get("event_id") or "", team_id):
            return
        member = members.find(session, team_id, user["id"])
        if member is not None:
            members.apply_profile(member, profile_from_user(user))
            session.add(member)
