"""A member's nudge settings in App Home: quiet hours, weekly limit, opt-outs, snooze."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.nudges import actions
from bot.roles import Role
from handlers import screens
from handlers.common import ack_only, ack_then, actor, deps, ephemeral
from handlers.home.listeners import refresh_home
from handlers.nudges import views
from handlers.nudges.ids import NudgeId


def register(app: App) -> None:
    app.action(NudgeId.EDIT)(ack_then(ack_only, open_settings))
    app.view(NudgeId.SETTINGS)(ack_then(save_settings, refresh_home))
    app.action(NudgeId.SNOOZE)(ack_then(snooze, refresh_home))
    app.action(NudgeId.RESUME)(ack_then(resume, refresh_home))


def open_settings(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    preference = actions.preferences(deps(context).db, actor(context))
    screens.open_modal(client, body["trigger_id"], views.settings_modal(preference))


def save_settings(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    actions.save_settings(deps(context).db, actor(context), views.settings_form(view))
    ack()


def snooze(ack: Ack, context: BoltContext) -> None:
    actions.snooze(deps(context).db, actor(context))
    ack()


def resume(ack: Ack, context: BoltContext) -> None:
    actions.resume(deps(context).db, actor(context))
    ack()


def schedule_reply(context: BoltContext) -> dict[str, Any]:
    """``/copbot schedule`` for leads: upcoming jobs and the outbox backlog."""
    who, runtime = actor(context), deps(context).runtime
    who.require(Role.LEAD, "see copbot's schedule")
    upcoming = runtime.scheduling.upcoming(None) if runtime else []
    found = actions.schedule(deps(context).db, deps(context).settings, who, upcoming)
    return ephemeral("copbot's schedule", views.schedule_blocks(found))
