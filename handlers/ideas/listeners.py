"""Ideas: /idea, the share shortcuts, :bulb: reactions, cards, and lead decisions.

Each listener parses the payload, checks the role, makes one ``bot.ideas.actions`` call
and shows the answer (modals through ``handlers.screens``)."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.errors import UserError
from bot.ideas import actions
from bot.roles import Role
from bot.similarity import terms
from handlers import screens
from handlers.common import (
    ack_only,
    ack_then,
    actor,
    deps,
    ephemeral,
    parse_id,
    slack,
    throttle,
)
from handlers.ideas import forms, views
from handlers.ideas.ids import IdeaId
from handlers.kit import notice

SUPPORT_INSTEAD = re.compile(rf"^{IdeaId.SUPPORT_INSTEAD}_\d+$")


def register(app: App) -> None:
    app.command("/idea")(ack_then(idea_command, after_idea_command))
    app.view(IdeaId.NEW_CHALLENGE)(ack_then(create_challenge, start_challenge))
    app.action(IdeaId.CHALLENGE_SHARE)(ack_then(ack_only, share_for_challenge))
    app.action(IdeaId.CHALLENGE_CLOSE)(ack_then(ack_lead_only, close_challenge))
    app.shortcut(IdeaId.SHARE_IDEA)(ack_then(ack_only, open_capture))
    app.action(IdeaId.HOME_SHARE_IDEA)(ack_then(ack_only, open_capture))
    app.shortcut(IdeaId.SAVE_AS_IDEA)(ack_then(ack_only, open_capture_from_shortcut))
    app.event("reaction_added", matchers=[is_bulb])(ack_then(ack_only, offer_idea))
    app.action(IdeaId.FROM_MESSAGE)(ack_then(ack_only, open_capture_from_offer))
    app.view(IdeaId.CAPTURE)(ack_then(submit_idea, post_draft))
    app.view(IdeaId.SIMILAR)(ack_then(post_mine_anyway, post_draft))
    app.action(IdeaId.POST_ANYWAY)(ack_then(ack_only, post_draft_from_button))
    app.action(SUPPORT_INSTEAD)(ack_then(ack_only, support_instead))
    app.action(IdeaId.SUPPORT)(ack_then(ack_only, support))
    app.action(IdeaId.UNSUPPORT)(ack_then(ack_only, unsupport))
    app.action(IdeaId.DISCUSS)(ack_then(ack_only, discuss))
    app.action(IdeaId.DECLINE_CREDIT)(ack_then(ack_only, decline_credit))
    app.action(IdeaId.MANAGE)(ack_then(ack_lead_only, open_manage))
    app.view(IdeaId.DECIDE)(ack_then(save_decision, announce_decision))


def ack_lead_only(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "manage ideas")
    ack()


# --------------------------------------------------------------------------- /idea


def _subcommand(command: dict[str, Any]) -> tuple[str, str]:
    text = (command.get("text") or "").strip()
    word, _, rest = text.partition(" ")
    if word.lower() in ("search", "mine", "export", "stats", "challenge"):
        return word.lower(), rest.strip()
    return "", text


def idea_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Quick answers come back with the ack; modals and files follow after it."""
    sub, rest = _subcommand(command)
    who, db = actor(context), deps(context).db
    if sub in ("export", "stats", "challenge"):
        who.require(Role.LEAD, f"use /idea {sub}")
    if sub == "search":
        if not terms(rest):
            raise UserError("Add some words to search for, like `/idea search discharge`.")
        throttle(context, "search")
        hits = actions.search(db, who, rest)
        text, reply = views.search_reply(rest, hits)
        ack(ephemeral(text, reply))
    elif sub == "mine":
        own, supported = actions.mine(db, who)
        ack(ephemeral("Your ideas", views.mine_reply(own, supported)))
    elif sub == "stats":
        figures = actions.stats(db, who, deps(context).settings)
        ack(ephemeral("Idea engagement", views.stats_blocks(figures)))
    elif sub == "export":
        actions.check_export(db, who, rest)
        throttle(context, "export")
        ack(ephemeral("Preparing the CSV; it will arrive in your DM with copbot in a moment."))
    else:
        ack()


def after_idea_command(command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    sub, text = _subcommand(command)
    who, db = actor(context), deps(context).db
    if sub == "":
        form = actions.capture_from_text(db, who, text)
        screens.open_modal(client, command["trigger_id"], _capture_modal(form))
    elif sub == "challenge":
        today = actions.community_today(db, who, deps(context).settings)
        screens.open_modal(client, command["trigger_id"], forms.challenge_modal(today))
    elif sub == "export":
        actions.export(db, slack(context), who, text)


# --------------------------------------------------------------------------- capture


def _capture_modal(form: actions.CaptureForm) -> dict[str, Any]:
    return forms.capture_modal(form.prefill, form.challenges, source=form.source)


def open_capture(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    form = actions.capture_form(deps(context).db, actor(context))
    screens.open_modal(client, body["trigger_id"], _capture_modal(form))


def open_capture_from_shortcut(
    body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id")
    form = actions.capture_from_message(
        deps(context).db, slack(context), actor(context), channel, message
    )
    screens.open_modal(client, body["trigger_id"], _capture_modal(form))


def is_bulb(event: dict[str, Any]) -> bool:
    return (
        event.get("reaction") in ("bulb", "💡")
        and (event.get("item") or {}).get("type") == "message"
    )


def offer_idea(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    """Privately offer the person who reacted with :bulb: to turn the message into an idea."""
    item, reactor = event["item"], event.get("user")
    if not reactor or "actor" not in context:
        return
    actions.offer_idea(
        deps(context).db,
        slack(context),
        context.team_id,
        body["event_id"],
        reactor,
        item["channel"],
        item["ts"],
    )


def _message_place(raw: Any) -> dict[str, str]:
    """The channel and ts an offer button points at, or a kind refusal for anything else."""
    try:
        where = json.loads(raw or "")
    except (TypeError, ValueError):
        where = None
    if not isinstance(where, dict) or not all(
        isinstance(where.get(k), str) and where.get(k) for k in ("channel", "ts")
    ):
        raise UserError("That message is no longer there.")
    return where


def open_capture_from_offer(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    where = _message_place(action["value"])
    form = actions.capture_from_offer(
        deps(context).db, slack(context), actor(context), where["channel"], where["ts"]
    )
    screens.open_modal(client, body["trigger_id"], _capture_modal(form))


def submit_idea(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Check the idea, then either show similar ideas first or queue it for posting."""
    found = actions.submit(
        deps(context).db,
        actor(context),
        deps(context).settings,
        deps(context).ranker,
        forms.idea_form(view),
    )
    if found.alike:
        ack(response_action="update", view=forms.similar_modal(found.draft_id, found.alike))
        return
    context["draft_id"] = found.draft_id
    ack()


def post_mine_anyway(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    context["draft_id"] = parse_id(view.get("private_metadata"), "That draft")
    ack()


def post_draft(context: BoltContext) -> None:
    if context.get("draft_id"):
        actions.post(
            deps(context).db,
            slack(context),
            actor(context),
            deps(context).settings,
            int(context["draft_id"]),
        )


def post_draft_from_button(
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    respond: Respond,
) -> None:
    """ "Post mine anyway" in the similar-ideas modal, or "Post it now" in a kept-draft DM."""
    draft_id = parse_id(action["value"], "That draft")
    idea = actions.post(
        deps(context).db, slack(context), actor(context), deps(context).settings, draft_id
    )
    thanks = f"Thank you. Your idea is posted: {idea.permalink}"
    if body.get("view"):
        screens.update_modal(client, body["view"]["id"], notice("Idea shared", thanks))
    else:
        respond(text=thanks, replace_original=True)


# --------------------------------------------------------------------------- the card


def support(action: dict[str, Any], context: BoltContext) -> None:
    actions.support(deps(context).db, slack(context), actor(context), action["value"])


def unsupport(action: dict[str, Any], context: BoltContext) -> None:
    actions.unsupport(deps(context).db, slack(context), actor(context), action["value"])


def support_instead(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    draft_id = parse_id((body.get("view") or {}).get("private_metadata"), "That draft")
    idea = actions.support_instead(
        deps(context).db, slack(context), actor(context), action["value"], draft_id
    )
    screens.update_modal(
        client,
        body["view"]["id"],
        notice("Thank you", f"You now support “{idea.title}”. Your draft was not posted."),
    )


def discuss(action: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """Point the person at the idea's thread, starting it the first time."""
    link = actions.discuss(deps(context).db, slack(context), actor(context), action["value"])
    respond(
        text=f"Join the discussion in the idea's thread: {link}"
        if link
        else "Reply in the idea's thread to discuss it.",
        response_type="ephemeral",
        replace_original=False,
    )


def decline_credit(action: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """The credited author takes their name off an idea someone made from their message."""
    actions.decline_credit(deps(context).db, slack(context), actor(context), action["value"])
    respond(
        text="Done: your name is no longer on that idea, and you won't get its updates.",
        replace_original=True,
    )


# --------------------------------------------------------------------------- decisions


def open_manage(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    idea, candidates = actions.manage_form(
        deps(context).db, actor(context), deps(context).ranker, action["value"]
    )
    screens.open_modal(client, body["trigger_id"], forms.manage_modal(idea, candidates))


def save_decision(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Decide in the ack (a refusal shows on its field); the cards are redrawn after it."""
    form = forms.decision_form(view)
    context["decided"] = actions.decide(deps(context).db, slack(context), actor(context), form)
    ack()


def announce_decision(context: BoltContext) -> None:
    """After a decision commits (its DMs queued with it): redraw the card(s)."""
    if context.get("decided"):
        actions.redraw(deps(context).db, slack(context), context["decided"])


# --------------------------------------------------------------------------- challenges


def create_challenge(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    context["challenge_id"] = actions.create_challenge(
        deps(context).db, actor(context), deps(context).settings, forms.challenge_form(view)
    )
    ack()


def start_challenge(context: BoltContext) -> None:
    """Announce at once when it opens today; later steps come from the scheduler."""
    actions.advance_challenge(
        deps(context).db,
        slack(context),
        deps(context).settings,
        actor(context).team_id,
        context.get("challenge_id"),
    )


def share_for_challenge(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    form = actions.capture_for_challenge(deps(context).db, actor(context), action["value"])
    screens.open_modal(client, body["trigger_id"], _capture_modal(form))


def close_challenge(action: dict[str, Any], context: BoltContext) -> None:
    actions.close_challenge(
        deps(context).db, slack(context), actor(context), deps(context).settings, action["value"]
    )
