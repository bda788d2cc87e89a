"""Ideas: /idea, the share shortcuts, :bulb: reactions, cards, and lead decisions."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot import dedupe, members, workspaces
from bot.errors import UserError
from bot.ideas import challenges, insights, publish
from bot.ideas import service as ideas
from bot.ideas.cards import (
    CHALLENGE_CLOSE,
    CHALLENGE_SHARE,
    DISCUSS,
    MANAGE,
    POST_ANYWAY,
    SUPPORT,
    UNSUPPORT,
)
from bot.roles import Role
from bot.similarity import terms
from bot.text import escape, truncate
from handlers.common import (
    ack_only,
    ack_then,
    actor,
    deps,
    ephemeral,
    form_values,
    parse_id,
    slack,
    throttle,
)
from handlers.ideas import blocks
from handlers.kit import notice
from storage import Challenge, Idea, utcnow

SUPPORT_INSTEAD = re.compile(rf"^{blocks.SUPPORT_INSTEAD}_\d+$")


def register(app: App) -> None:
    app.command("/idea")(ack_then(idea_command, after_idea_command))
    app.view(blocks.CHALLENGE)(ack_then(create_challenge, start_challenge))
    app.action(CHALLENGE_SHARE)(ack_then(ack_only, share_for_challenge))
    app.action(CHALLENGE_CLOSE)(ack_then(ack_lead_only, close_challenge))
    app.shortcut("share_idea")(ack_then(ack_only, open_capture))
    app.action("home_share_idea")(ack_then(ack_only, open_capture))
    app.shortcut("save_as_idea")(ack_then(ack_only, open_capture_from_shortcut))
    app.event("reaction_added", matchers=[is_bulb])(ack_then(ack_only, offer_idea))
    app.action(blocks.FROM_MESSAGE)(ack_then(ack_only, open_capture_from_offer))
    app.view(blocks.NEW)(ack_then(submit_idea, post_draft))
    app.view(blocks.SIMILAR)(ack_then(post_mine_anyway, post_draft))
    app.action(POST_ANYWAY)(ack_then(ack_only, post_draft_from_button))
    app.action(SUPPORT_INSTEAD)(ack_then(ack_only, support_instead))
    app.action(SUPPORT)(ack_then(ack_only, support))
    app.action(UNSUPPORT)(ack_then(ack_only, unsupport))
    app.action(DISCUSS)(ack_then(ack_only, discuss))
    app.action(blocks.DECLINE_CREDIT)(ack_then(ack_only, decline_credit))
    app.action(MANAGE)(ack_then(ack_lead_only, open_manage))
    app.view(blocks.MANAGE)(ack_then(save_decision, announce_decision))


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
    who, settings = actor(context), deps(context).settings
    if sub in ("export", "stats", "challenge"):
        who.require(Role.LEAD, f"use /idea {sub}")
    if sub == "search":
        if not terms(rest):
            raise UserError("Add some words to search for, like `/idea search discharge`.")
        throttle(context, "search")
        with deps(context).db.session() as session:
            hits = insights.search(session, who.team_id, rest)
        text, reply = blocks.search_reply(rest, hits)
        ack(ephemeral(text, reply))
    elif sub == "mine":
        with deps(context).db.session() as session:
            own = insights.ideas_by(session, who.team_id, who.user_id)
            supported = insights.ideas_supported_by(session, who.team_id, who.user_id)
        ack(ephemeral("Your ideas", blocks.mine_reply(own, supported)))
    elif sub == "stats":
        with deps(context).db.session() as session:
            community = workspaces.community_settings(session, who.team_id, settings)
            figures = insights.engagement(session, who.team_id, community.anonymity_min, utcnow())
        ack(ephemeral("Idea engagement", blocks.stats_blocks(figures)))
    elif sub == "export":
        if rest:
            with deps(context).db.session() as session:
                _challenge_named(session, who.team_id, rest)
        throttle(context, "export")
        ack(ephemeral("Preparing the CSV; it will arrive in your DM with copbot in a moment."))
    else:
        ack()


def _challenge_named(session: Session, team_id: str, words: str) -> Challenge:
    """A challenge by its number or by words from its question."""
    found = challenges.find(session, team_id, words)
    if found is None:
        raise UserError(f"I couldn't find a challenge matching “{escape(words)}”.")
    return found


def after_idea_command(command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    sub, text = _subcommand(command)
    who = actor(context)
    if sub == "":
        prefill = _prefill_from_text(text) if text else None
        _open_capture(context, client, command["trigger_id"], prefill)
    elif sub == "challenge":
        with deps(context).db.session() as session:
            zone = workspaces.community_settings(
                session, who.team_id, deps(context).settings
            ).timezone
        today = utcnow().astimezone(ZoneInfo(zone)).date()
        client.views_open(trigger_id=command["trigger_id"], view=blocks.challenge_modal(today))
    elif sub == "export":
        with deps(context).db.session() as session:
            challenge = _challenge_named(session, who.team_id, text) if text else None
            csv_text = insights.export_csv(
                session, who.team_id, challenge.id if challenge else None
            )
        name = f"challenge-{challenge.id}-ideas.csv" if challenge else "ideas.csv"
        slack(context).upload_file(
            who.user_id,
            name,
            csv_text,
            title=f"Ideas for “{challenge.title}”" if challenge else "All ideas",
            comment="Here is the export you asked for. Anonymous authors are not included.",
        )


def _prefill_from_text(text: str) -> ideas.IdeaFields:
    """A long text becomes a title (its first sentence, cut to fit) and a description."""
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]
    title = truncate(first, ideas.TITLE_MAX)
    description = text.strip() if title != text.strip() else ""
    return ideas.IdeaFields(title=title, description=description)


# --------------------------------------------------------------------------- capture


def _open_capture(
    context: BoltContext,
    client: WebClient,
    trigger_id: str,
    prefill: ideas.IdeaFields | None,
    source: dict[str, Any] | None = None,
) -> None:
    with deps(context).db.session() as session:
        challenges = ideas.open_challenges(session, actor(context).team_id)
    view = blocks.capture_modal(prefill, challenges, source=source)
    client.views_open(trigger_id=trigger_id, view=view)


def open_capture(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _open_capture(context, client, body["trigger_id"], None)


def open_capture_from_shortcut(
    body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id")
    _open_from_message(context, client, body["trigger_id"], channel, message)


def _open_from_message(
    context: BoltContext,
    client: WebClient,
    trigger_id: str,
    channel: str | None,
    message: dict[str, Any],
) -> None:
    """Pre-fill from a message, keep its permalink as the source and credit its author."""
    text = message.get("text") or ""
    if not channel or not message.get("ts") or not text.strip():
        raise UserError("That message has no text to turn into an idea.")
    permalink = slack(context).permalink(channel, message["ts"])
    author = message.get("user")
    credited = (
        author
        if author and author != actor(context).user_id and not message.get("bot_id")
        else None
    )
    prefill = _prefill_from_text(text)
    source = {"source_permalink": permalink, "credited_author": credited}
    _open_capture(context, client, trigger_id, prefill, source=source)


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
    with deps(context).db.session() as session:
        if not dedupe.claim(session, body["event_id"], context.team_id):
            return
        # One offer per person and message, whatever the event ids.
        if not dedupe.claim(session, f"bulb:{item['channel']}:{item['ts']}:{reactor}"):
            return
    text, offer = blocks.offer_from_message(item["channel"], item["ts"])
    slack(context).post_ephemeral(item["channel"], reactor, text, blocks=offer)


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
    where = _message_place(action.get("value"))
    found = (
        client.conversations_history(
            channel=where["channel"], latest=where["ts"], inclusive=True, limit=1
        ).get("messages")
        or []
    )
    message = next((m for m in found if m.get("ts") == where["ts"]), None)
    if message is None:
        raise UserError("That message is no longer there.")
    _open_from_message(context, client, body["trigger_id"], where["channel"], message)


def submit_idea(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Check the idea, then either show similar ideas first or queue it for posting."""
    values, who = form_values(view), actor(context)
    source = json.loads(view.get("private_metadata") or "{}")
    settings = deps(context).settings
    with deps(context).db.session() as session:
        fields = ideas.validate(
            session,
            who.team_id,
            title=values.get("title"),
            description=values.get("description"),
            themes=values.get("themes"),
            challenge_id=int(values["challenge"]) if values.get("challenge") else None,
            anonymous=bool(values.get("anonymous")),
            source_permalink=source.get("source_permalink"),
            credited_author=source.get("credited_author"),
        )
        community = workspaces.community_settings(session, who.team_id, settings)
        if not fields.challenge_id and not community.ideas_channel:
            raise UserError(
                "There is no ideas channel yet, so ideas can't be posted. "
                "Ask a lead to choose one in copbot's Home tab.",
                field="title",
            )
        alike = ideas.similar(
            session, who.team_id, fields, deps(context).ranker(session, who.team_id)
        )
        draft = ideas.save_draft(session, who, fields)
    if alike:
        ack(response_action="update", view=blocks.similar_modal(draft.id or 0, alike))
        return
    context["draft_id"] = draft.id
    ack()


def post_mine_anyway(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    context["draft_id"] = parse_id(view.get("private_metadata"), "That draft")
    ack()


def post_draft(context: BoltContext) -> None:
    if context.get("draft_id"):
        _post(context, int(context["draft_id"]))


def post_draft_from_button(
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    respond: Respond,
) -> None:
    """ "Post mine anyway" in the similar-ideas modal, or "Post it now" in a kept-draft DM."""
    idea = _post(context, parse_id(action.get("value"), "That draft"))
    thanks = f"Thank you. Your idea is posted: {idea.permalink}"
    if body.get("view"):
        client.views_update(view_id=body["view"]["id"], view=notice("Idea shared", thanks))
    else:
        respond(text=thanks, replace_original=True)


def _post(context: BoltContext, draft_id: int) -> Idea:
    """Create the idea, then post its card (undoing the idea if Slack refuses the card),
    then thank its author."""
    who, settings, port, db = (
        actor(context),
        deps(context).settings,
        slack(context),
        deps(context).db,
    )
    with db.session() as session:
        fields = ideas.take_draft(session, who, draft_id)
        channel = workspaces.community_settings(session, who.team_id, settings).ideas_channel
        idea_id = ideas.create(session, who, fields, channel).id
    try:
        with db.session() as session:  # no row lock across the Slack call: a Support
            idea = ideas.get(session, who.team_id, idea_id)  # meanwhile is redrawn below
            publish.post_card(session, port, idea)
    except SlackApiError as error:
        with db.session() as session:
            ideas.withdraw_unposted(session, who, idea_id, draft_id, fields)
            publish.offer_draft_again(session, who, draft_id, idea_id, fields.title)
        raise UserError(
            "Slack didn't take your idea's card just now, so it isn't posted yet. "
            "It's kept: you'll get a DM from copbot with a button to post it."
        ) from error
    with db.session() as session:
        supported = ideas.get(session, who.team_id, idea_id).supporter_count
        publish.thank_author(session, idea)
    if supported:  # between the card appearing and its ts being saved: not redrawn yet
        _refresh(context, idea_id)
    if idea.author_id and idea.author_id != who.user_id:
        text, credit = blocks.credit_notice(who.name, idea)
        port.post_message(idea.author_id, text, blocks=credit)
    return idea


# --------------------------------------------------------------------------- the card


def _refresh(context: BoltContext, idea_id: int | None) -> None:
    assert idea_id is not None
    publish.refresh_card(deps(context).db, slack(context), actor(context).team_id, idea_id)


def support(action: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        idea = ideas.support(session, actor(context), action["value"])
    _refresh(context, idea.id)


def unsupport(action: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        idea = ideas.unsupport(session, actor(context), action["value"])
    _refresh(context, idea.id)


def support_instead(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        idea = ideas.support(session, who, action["value"])
        ideas.take_draft(session, who, parse_id(body["view"].get("private_metadata"), "That draft"))
    _refresh(context, idea.id)
    client.views_update(
        view_id=body["view"]["id"],
        view=notice("Thank you", f"You now support “{idea.title}”. Your draft was not posted."),
    )


def discuss(action: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """Point the person at the idea's thread, starting it the first time."""
    port = slack(context)
    with deps(context).db.session() as session:
        idea = ideas.get(session, actor(context).team_id, action["value"], lock=True)
        if idea.channel_id and idea.card_ts and not idea.discussion_ts:
            idea.discussion_ts = port.post_message(
                idea.channel_id,
                "💬 Discuss this idea here: questions, experience, offers of help.",
                thread_ts=idea.card_ts,
            )
            session.add(idea)
    link = port.permalink(idea.channel_id, idea.discussion_ts) if idea.discussion_ts else None
    respond(
        text=f"Join the discussion in the idea's thread: {link}"
        if link
        else "Reply in the idea's thread to discuss it.",
        response_type="ephemeral",
        replace_original=False,
    )


# --------------------------------------------------------------------------- decisions


def open_manage(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        idea = ideas.get(session, who.team_id, action["value"])
        if idea.status == "merged":
            raise UserError("This idea was merged into another; manage the surviving idea.")
        candidates = ideas.merge_candidates(
            session, idea, deps(context).ranker(session, who.team_id)
        )
    client.views_open(trigger_id=body["trigger_id"], view=blocks.manage_modal(idea, candidates))


def save_decision(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values, who = form_values(view), actor(context)
    idea_id = view.get("private_metadata")
    with deps(context).db.session() as session:
        if values.get("merge_into"):
            decision = ideas.merge(
                session, who, idea_id, values["merge_into"], values.get("rationale")
            )
        else:
            who.require(Role.LEAD, "decide on ideas")  # before anyone is looked up in Slack
            owner = values.get("owner") if isinstance(values.get("owner"), str) else None
            if owner:  # the owner may never have used copbot yet
                members.ensure_member(session, who.team_id, owner, slack(context))
            review = values.get("next_review")
            decision = ideas.change_status(
                session,
                who,
                idea_id,
                status=values.get("status"),
                rationale=values.get("rationale"),
                owner_id=owner,
                next_review=date.fromisoformat(review) if review else None,
            )
    context["decided"] = {
        "idea": decision.idea.id,
        "merged_into": decision.merged_into.id if decision.merged_into else None,
        "recipients": decision.recipients,
    }
    ack()


def announce_decision(context: BoltContext) -> None:
    """After a decision commits: refresh the card(s) and tell everyone who cares."""
    decided, team_id = context.get("decided"), actor(context).team_id
    if not decided:
        return
    with deps(context).db.session() as session:  # the DMs first: the outbox keeps them
        idea = ideas.get(session, team_id, decided["idea"])
        target = (
            ideas.get(session, team_id, decided["merged_into"]) if decided["merged_into"] else None
        )
        decision = ideas.Decision(idea, decided["recipients"], merged_into=target)
        publish.tell_decision(session, decision)
    for idea_id in filter(None, (decided["idea"], decided["merged_into"])):
        _refresh(context, idea_id)


# --------------------------------------------------------------------------- challenges


def create_challenge(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values, who, settings = form_values(view), actor(context), deps(context).settings
    with deps(context).db.session() as session:
        zone = workspaces.community_settings(session, who.team_id, settings).timezone
        fields = challenges.validate(
            title=values.get("title"),
            description=values.get("description"),
            tags=values.get("tags"),
            channel_id=values.get("channel"),
            opens=date.fromisoformat(values["opens"]) if values.get("opens") else None,
            closes=date.fromisoformat(values["closes"]) if values.get("closes") else None,
            target_groups=values.get("target_groups"),
            timezone=zone,
            today=utcnow().astimezone(ZoneInfo(zone)).date(),
        )
        context["challenge_id"] = challenges.create(session, who, fields).id
    ack()


def start_challenge(context: BoltContext) -> None:
    """Announce at once when it opens today; later steps come from the scheduler."""
    _advance(context, context.get("challenge_id"))


def _advance(context: BoltContext, challenge_id: int | str | None) -> list[str]:
    with deps(context).db.session() as session:
        challenge = challenges.get(session, actor(context).team_id, challenge_id)
        return challenges.advance(
            session, slack(context), challenge, settings=deps(context).settings
        )


def share_for_challenge(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    with deps(context).db.session() as session:
        challenge = challenges.get(session, actor(context).team_id, action["value"])
        if not ideas.is_open(challenge, utcnow()):
            raise UserError("This challenge has closed. Thank you for your interest.")
    prefill = ideas.IdeaFields(title="", challenge_id=challenge.id)
    _open_capture(context, client, body["trigger_id"], prefill)


def close_challenge(action: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        challenge = challenges.get(session, actor(context).team_id, action["value"])
        challenges.close_now(session, actor(context), challenge)
    _advance(context, action["value"])


def decline_credit(action: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """The credited author takes their name off an idea someone made from their message."""
    with deps(context).db.session() as session:
        idea = ideas.decline_credit(session, actor(context), action["value"])
    _refresh(context, idea.id)
    respond(
        text="Done: your name is no longer on that idea, and you won't get its updates.",
        replace_original=True,
    )
