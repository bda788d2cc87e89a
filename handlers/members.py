"""The directory kept fresh from events (``team_join``, ``user_change``) and the install
lifecycle (``app_uninstalled``, ``tokens_revoked``)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot import directory
from bot.slack import profile_from_user
from handlers.common import deps

log = logging.getLogger("copbot.handlers.members")


def register(app: App) -> None:
    app.event("user_change")(refresh_profile)
    app.event("team_join")(refresh_profile)
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(tokens_revoked)


def refresh_profile(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
) -> None:
    """A person joined, or changed their profile: created or refreshed from the user
    object the event carries (no Web API call); a bot is ignored, a deactivated account
    is marked so no audience includes it."""
    ack()
    user = event.get("user") or {}
    team_id = context.team_id or user.get("team_id")
    if not isinstance(user, dict) or not user.get("id") or not team_id:
        return
    changed = directory.profile_changed(
        deps(context).db,
        deps(context).settings,
        team_id,
        profile_from_user(user),
        body.get("event_id") or "",
    )
    if changed:
        deps(context).actors.forget(team_id, [user["id"]])


def uninstalled(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    _hold(body, context, "the app was uninstalled")


def tokens_revoked(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
) -> None:
    """Only the bot token matters: copbot holds no user tokens."""
    ack()
    if (event.get("tokens") or {}).get("bot"):
        _hold(body, context, "the bot token was revoked")


def _hold(body: dict[str, Any], context: BoltContext, why: str) -> None:
    team_id = context.team_id or body.get("team_id")
    if not team_id:
        return
    directory.hold(deps(context).db, team_id, why)
    deps(context).actors.forget(team_id)
