"""App Home: welcome, the member's profile, and for leads the community settings and leads."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlmodel import Session

from bot import audit, dedupe, members, workspaces
from bot.errors import UserError
from bot.exchange import service as exchanges
from bot.exchange import stats as exchange_stats
from bot.ideas import insights
from bot.learning import capture
from bot.nudges import send as nudges
from bot.pulse import service as pulses
from bot.roles import Actor, Role
from handlers.common import ack_then, actor, deps, form_values, slack
from handlers.exchange import blocks as exchange_blocks
from handlers.exchange.blocks import exchange_lines
from handlers.home import blocks
from handlers.ideas import blocks as idea_blocks
from handlers.learning import blocks as learning_blocks
from handlers.nudges import blocks as nudge_blocks
from handlers.privacy import blocks as privacy_blocks
from handlers.pulse import blocks as pulse_blocks
from storage import Organisation, utcnow


def register(app: App) -> None:
    app.event("app_home_opened")(ack_then(ack_event, publish_on_open))
    app.action("home_edit_profile")(ack_then(ack_action, open_profile))
    app.view(blocks.PROFILE)(ack_then(save_profile, refresh_home))
    app.action("home_edit_settings")(ack_then(ack_lead_action, open_settings))
    app.view(blocks.SETTINGS)(ack_then(save_settings, refresh_home))
    app.action("home_manage_leads")(ack_then(ack_lead_action, open_leads))
    app.view(blocks.LEADS)(ack_then(save_leads, refresh_home))


def home_for(session: Session, context: BoltContext, who: Actor) -> dict[str, Any]:
    settings = deps(context).settings
    member = members.find(session, who.team_id, who.user_id)
    if member is None:
        raise UserError("I couldn't find your profile. Please try again.")
    fresh = members.actor_for(member, settings)
    organisation = (
        session.get(Organisation, member.organisation_id) if member.organisation_id else None
    )
    community = workspaces.community_settings(session, who.team_id, settings)
    view = blocks.home_view(
        member,
        organisation,
        is_lead=fresh.is_lead,
        community=community,
        leads=members.leads(session, who.team_id, settings) if fresh.is_lead else [],
    )
    now = utcnow()
    view["blocks"] += idea_blocks.home_blocks(
        insights.ideas_by(session, who.team_id, who.user_id, limit=5),
        insights.ideas_supported_by(session, who.team_id, who.user_id, limit=5),
        insights.most_supported_this_week(session, who.team_id, now, limit=5),
        insights.waiting_for_review(session, who.team_id, now, limit=5) if fresh.is_lead else None,
        insights.engagement(session, who.team_id, community.anonymity_min, now)
        if fresh.is_lead
        else None,
    )
    view["blocks"] += pulse_blocks.home_section(
        pulses.pulses_for(session, who.team_id, who.user_id)
    )
    view["blocks"] += exchange_blocks.home_section(
        exchanges.open_for_signup(session, who.team_id, now),
        exchanges.signed_up_to(session, who.team_id, who.user_id),
        exchange_lines(exchanges.matches_of(session, who.team_id, who.user_id, limit=5)),
        [
            (programme, exchange_stats.figures(session, who.team_id, programme.id, now))
            for programme in exchanges.programmes(session, who.team_id)[:8]
        ]
        if fresh.is_lead
        else None,
    )
    view["blocks"] += learning_blocks.home_section(
        capture.channels(session, who.team_id),
        capture.is_excluded(session, who.team_id, who.user_id),
        fresh.is_lead,
    )
    view["blocks"] += nudge_blocks.home_section(
        nudges.preferences(session, who.team_id, who.user_id), now
    )
    view["blocks"] += privacy_blocks.home_section(
        audit.recent(session, who.team_id, limit=10) if fresh.role >= Role.ADMIN else None
    )
    return view


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
    with deps(context).db.session() as session:
        if not dedupe.claim(session, body["event_id"], context.team_id):
            return  # a redelivery of an event already handled
        view = home_for(session, context, actor(context))
    client.views_publish(user_id=event["user"], view=view)


def refresh_home(context: BoltContext, client: WebClient) -> None:
    with deps(context).db.session() as session:
        view = home_for(session, context, actor(context))
    client.views_publish(user_id=actor(context).user_id, view=view)


def open_profile(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        member = members.find(session, who.team_id, who.user_id)
        assert member is not None
        view = blocks.profile_modal(member, members.organisations(session, who.team_id))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def save_profile(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    who, values = actor(context), form_values(view)
    with deps(context).db.session() as session:
        member = members.find(session, who.team_id, who.user_id)
        assert member is not None
        members.update_profile(
            session,
            member,
            staff_group=values.get("staff_group"),
            organisation_id=int(values["org"]) if values.get("org") else None,
            new_organisation=values.get("new_org") or None,
            new_organisation_type=values.get("org_type"),
        )
    ack()


def open_settings(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    with deps(context).db.session() as session:
        community = workspaces.community_settings(
            session, actor(context).team_id, deps(context).settings
        )
    client.views_open(trigger_id=body["trigger_id"], view=blocks.settings_modal(community))


def save_settings(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values = form_values(view)
    try:
        anonymity_min = int(values.get("anonymity_min") or "")
    except ValueError:
        raise UserError("Enter a whole number.", field="anonymity_min") from None
    with deps(context).db.session() as session:
        workspaces.update_settings(
            session,
            actor(context),
            deps(context).settings,
            ideas_channel=values.get("ideas_channel"),
            digest_channel=values.get("digest_channel"),
            hub_channel=values.get("hub_channel"),
            timezone=values.get("timezone") or "",
            anonymity_min=anonymity_min,
            keep={name: values.get(f"keep_{name}") for name, _ in blocks.RETENTION_LABELS},
        )
    ack()


def open_leads(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    with deps(context).db.session() as session:
        leads = members.leads(session, actor(context).team_id, deps(context).settings)
    client.views_open(trigger_id=body["trigger_id"], view=blocks.leads_modal(leads))


def save_leads(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    chosen = set(form_values(view).get("leads") or [])
    with deps(context).db.session() as session:
        added, removed = members.set_named_leads(session, actor(context), chosen, slack(context))
    deps(context).actors.forget(actor(context).team_id, added | removed)
    ack()
