"""App Home: welcome, the member's profile, and for leads the community settings and leads."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.home import actions
from bot.roles import Role
from handlers import screens
from handlers.common import ack_then, actor, deps, slack
from handlers.home import views
from handlers.home.ids import HomeId


def register(app: App) -> None:
    app.event("app_home_opened")(ack_then(ack_event, publish_on_open))
    app.action(HomeId.EDIT_PROFILE)(ack_then(ack_action, open_profile))
    app.view(HomeId.PROFILE)(ack_then(save_profile, refresh_home))
    app.action(HomeId.EDIT_SETTINGS)(ack_then(ack_lead_action, open_settings))
    app.view(HomeId.SETTINGS)(ack_then(save_settings, refresh_home))
    app.action(HomeId.MANAGE_LEADS)(ack_then(ack_lead_action, open_leads))
    app.view(HomeId.LEADS)(ack_then(save_leads, refresh_home))


def ack_event(ack: Ack) -> None:
    ack()


def ack_action(ack: Ack) -> None:
    ack()


def ack_lead_action(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "change community settings and leads")
    ack()


def publish_on_open(
    body: dict[str, Any], event: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    if event.get("tab", "home") != "home" or "actor" not in context:
        return
    found = actions.home_on_open(
        deps(context).db, deps(context).settings, actor(context), body["event_id"]
    )
    if found is not None:  # None: a redelivery of an event already handled
        screens.publish_home(client, event["user"], views.home_page(found))


def refresh_home(context: BoltContext, client: WebClient) -> None:
    who = actor(context)
    found = actions.home(deps(context).db, deps(context).settings, who)
    screens.publish_home(client, who.user_id, views.home_page(found))


def open_profile(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    member, organisations = actions.profile(deps(context).db, actor(context))
    screens.open_modal(client, body["trigger_id"], views.profile_modal(member, organisations))


def save_profile(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    actions.save_profile(deps(context).db, actor(context), views.profile_form(view))
    ack()


def open_settings(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    community = actions.community(deps(context).db, deps(context).settings, actor(context))
    screens.open_modal(client, body["trigger_id"], views.settings_modal(community))


def save_settings(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    form = views.community_form(view)
    actions.save_community(deps(context).db, deps(context).settings, actor(context), form)
    ack()


def open_leads(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    leads = actions.leads(deps(context).db, deps(context).settings, actor(context))
    screens.open_modal(client, body["trigger_id"], views.leads_modal(leads))


def save_leads(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    chosen = set(views.leads_form(view))
    added, removed = actions.save_leads(deps(context).db, slack(context), actor(context), chosen)
    deps(context).actors.forget(actor(context).team_id, added | removed)
    ack()
