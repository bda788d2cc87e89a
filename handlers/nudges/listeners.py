"""A member's nudge settings in App Home: quiet hours, weekly limit, opt-outs, snooze."""

from __future__ import annotations

from datetime import time
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import UserError
from bot.nudges import send as nudges
from bot.platform import outbox
from bot.pulse import service as pulses
from bot.roles import Role
from bot.workspaces import community_settings
from handlers.common import ack_only, ack_then, actor, deps, ephemeral, form_values
from handlers.home.listeners import refresh_home
from handlers.nudges import blocks


def register(app: App) -> None:
    app.action("nudges_edit")(ack_then(ack_only, open_settings))
    app.view(blocks.SETTINGS)(ack_then(save_settings, refresh_home))
    app.action("nudges_snooze")(ack_then(snooze, refresh_home))
    app.action("nudges_resume")(ack_then(resume, refresh_home))


def open_settings(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        preference = nudges.preferences(session, who.team_id, who.user_id)
    client.views_open(trigger_id=body["trigger_id"], view=blocks.settings_modal(preference))


def _time(value: str | None, field: str) -> time:
    try:
        return time.fromisoformat(value or "")
    except ValueError:
        raise UserError("Choose a time.", field=field) from None


def save_settings(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values, who = form_values(view), actor(context)
    try:
        budget = int(values.get("weekly_budget") or "")
    except ValueError:
        raise UserError("Enter a whole number.", field="weekly_budget") from None
    with deps(context).db.session() as session:
        nudges.update_preferences(
            session,
            who.team_id,
            who.user_id,
            quiet_start=_time(values.get("quiet_start"), "quiet_start"),
            quiet_end=_time(values.get("quiet_end"), "quiet_end"),
            quiet_weekends=bool(values.get("quiet_weekends")),
            weekly_budget=budget,
            opted_out=values.get("opted_out") or [],
        )
    ack()


def snooze(ack: Ack, context: BoltContext) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        nudges.snooze(session, who.team_id, who.user_id)
    ack()


def resume(ack: Ack, context: BoltContext) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        nudges.resume(session, who.team_id, who.user_id)
    ack()


def schedule_reply(context: BoltContext) -> dict[str, Any]:
    """``/copbot schedule`` for leads: upcoming jobs and the outbox backlog."""
    who, runtime = actor(context), deps(context).runtime
    who.require(Role.LEAD, "see copbot's schedule")
    upcoming = runtime.scheduling.upcoming(None) if runtime else []
    with deps(context).db.session() as session:
        upcoming = [j for j in upcoming if pulses.job_visible_to(session, who.team_id, j.id)][:10]
        waiting = outbox.backlog(session, team_id=who.team_id)
        zone = community_settings(session, who.team_id, deps(context).settings).timezone
    reply = blocks.schedule_blocks(
        [(job.name, job.next_run_time) for job in upcoming], waiting, outbox.metrics(), zone
    )
    return ephemeral("copbot's schedule", reply)
