"""Learning: capture from message events, :memo:, reflections, digests (preview, edit,
publish, usage), thread-to-case-study and the knowledge hub search."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import retention, workspaces
from bot.errors import UserError
from bot.learning import capture, casestudy, digest, messages, usage
from bot.learning.summariser import make_summariser
from bot.roles import Role
from bot.text import escape
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
from handlers.home.listeners import refresh_home
from handlers.kit import notice, section
from handlers.learning import blocks
from storage import CaseStudy, Digest, Workspace

WORKING = notice("Case study", "Reading the thread and writing a first draft…")


def register(app: App) -> None:
    # Acked at once; kept after the ack (unique on channel and ts, so a retry is harmless).
    app.event("message")(ack_then(ack_only, keep_message))
    app.event("reaction_added", matchers=[is_memo])(ack_then(ack_only, mark_learning))
    app.command("/digest")(ack_then(digest_command, after_digest_command))
    app.action(messages.PUBLISH)(ack_then(ack_lead, publish))
    app.action(messages.EDIT)(ack_then(ack_lead, open_editor))
    app.view(blocks.DIGEST_EDIT_FORM)(ack_then(save_edit, redraw_preview))
    app.shortcut("write_case_study")(ack_then(ack_only, write_case_study))
    app.view(blocks.CASE_STUDY_FORM)(ack_then(check_case_study, publish_case_study))
    app.action(blocks.CAPTURE_ADD)(ack_then(ack_lead, open_capture_form))
    app.view(blocks.CAPTURE_FORM)(ack_then(enable_capture, announce_capture, refresh_home))
    app.action(blocks.CAPTURE_STOP)(ack_then(disable_capture, refresh_home))
    app.action(blocks.EXCLUDE_ME)(ack_then(exclude_me, refresh_home))
    app.action(blocks.INCLUDE_ME)(ack_then(include_me, refresh_home))


def ack_lead(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "manage learning digests")
    ack()


# ------------------------------------------------------------------------------ capture


def keep_message(event: dict[str, Any], context: BoltContext) -> None:
    if context.team_id:
        with deps(context).db.session() as session:
            capture.on_message(session, context.team_id, event, deps(context).settings)


def is_memo(event: dict[str, Any]) -> bool:
    return (
        event.get("reaction") in ("memo", "📝")
        and (event.get("item") or {}).get("type") == "message"
    )


def mark_learning(event: dict[str, Any], context: BoltContext) -> None:
    item = event["item"]
    if context.team_id:
        with deps(context).db.session() as session:
            capture.mark_learning(session, context.team_id, item["channel"], item["ts"])


def open_capture_form(body: dict[str, Any], client: WebClient) -> None:
    client.views_open(trigger_id=body["trigger_id"], view=blocks.capture_modal())


def enable_capture(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Capture starts only once copbot is in the channel: it joins a public channel; a
    private one the lead must invite it to first (nothing is saved until then)."""
    channel = form_values(view).get("channel") or ""
    actor(context).require(Role.LEAD, "turn on learning capture")
    if channel:
        be_in(client, channel)
    with deps(context).db.session() as session:
        context["announce"] = capture.enable(session, actor(context), channel) and channel
    ack()


def be_in(client: WebClient, channel: str) -> None:
    """Make sure copbot is a member of ``channel`` (to hear its messages), or say what the
    lead must do. Slack answers ``channel_not_found`` for a private channel copbot is not
    in, so its name is unknown to copbot then."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        if error.response.get("error") == "channel_not_found":
            raise UserError(
                "Invite @copbot to that private channel first, then try again.", field="channel"
            ) from None
        raise
    if info.get("is_member"):
        return
    name = f"#{info.get('name')}" if info.get("name") else "that channel"
    if info.get("is_archived"):
        raise UserError(f"{name} is archived.", field="channel")
    if info.get("is_private") or info.get("is_im") or info.get("is_mpim"):
        raise UserError(f"Invite @copbot to {name} first, then try again.", field="channel")
    client.conversations_join(channel=channel)


def announce_capture(context: BoltContext, client: WebClient) -> None:
    """The plain notice in the channel (copbot is already a member)."""
    channel = context.get("announce")
    if not channel:
        return
    with deps(context).db.session() as session:
        days = retention.of(session.get(Workspace, actor(context).team_id)).messages
    slack(context).post_message(channel, capture.notice_text(actor(context).user_id, days))


def disable_capture(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        capture.disable(session, actor(context), action.get("value") or "")
    ack()


def exclude_me(ack: Ack, context: BoltContext) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        capture.exclude_me(session, who.team_id, who.user_id)
    ack()


def include_me(ack: Ack, context: BoltContext) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        capture.include_me(session, who.team_id, who.user_id)
    ack()


# ------------------------------------------------------------------------------- digest


def digest_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    who = actor(context)
    who.require(Role.LEAD, "use /digest")
    sub = (command.get("text") or "").strip().lower()
    if sub == "usage":
        with deps(context).db.session() as session:
            lines = usage.usage_this_month(session, who.team_id)
        text = "\n".join(
            f"• *{escape(u.model)}*: {u.calls} calls ({u.failed} failed), "
            f"{u.tokens_in:,} tokens in, {u.tokens_out:,} out, {u.seconds:.1f} s"
            for u in lines
        )
        ack(
            ephemeral("Language model use", [section("*This month*\n" + (text or "No calls yet."))])
        )
    elif sub == "":
        throttle(context, "digest")
        with deps(context).db.session() as session:
            context["digest_id"] = digest.request(session, team_id=who.team_id, user_id=who.user_id)
        ack(ephemeral("Preparing your digest: the preview will arrive in your DMs."))
    else:
        raise UserError("Try `/digest` for a preview now, or `/digest usage`.")


def after_digest_command(context: BoltContext) -> None:
    if context.get("digest_id"):
        settings = deps(context).settings
        digest.prepare(
            deps(context).db.session,
            slack(context),
            settings,
            make_summariser(settings),
            context["digest_id"],
        )


def publish(action: dict[str, Any], context: BoltContext) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        draft = digest.publishable(session, who, parse_id(action.get("value"), "That digest"))
        channel = workspaces.community_settings(
            session, who.team_id, deps(context).settings
        ).digest_channel
        if not channel:
            raise UserError("Choose a digest channel in copbot's Home tab first.")
        ts = slack(context).post_message(
            channel, "Learning digest", blocks=messages.published_blocks(draft)
        )
        draft = digest.mark_published(session, who, draft.id or 0, channel, ts)
        if draft.preview_channel and draft.preview_ts:
            slack(context).update_message(
                draft.preview_channel,
                draft.preview_ts,
                "Learning digest (published)",
                blocks=messages.published_note(draft),
            )


def open_editor(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    with deps(context).db.session() as session:
        draft = digest.publishable(
            session, actor(context), parse_id(action.get("value"), "That digest")
        )
        view = blocks.digest_edit_modal(draft)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def save_edit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        draft = digest.edit(
            session,
            actor(context),
            parse_id(view.get("private_metadata"), "That digest"),
            form_values(view),
        )
        context["digest_id"] = draft.id
    ack()


def redraw_preview(context: BoltContext) -> None:
    with deps(context).db.session() as session:
        draft = session.get(Digest, context["digest_id"])
        if draft is None or not draft.preview_channel or not draft.preview_ts:
            return
        blocks_now = messages.preview_blocks(draft)
    slack(context).update_message(
        draft.preview_channel, draft.preview_ts, "Your learning digest preview", blocks=blocks_now
    )


# --------------------------------------------------------------------------- case study


def write_case_study(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open a waiting modal at once (the trigger lasts 3 s), then fill it with the draft."""
    opened = client.views_open(trigger_id=body["trigger_id"], view=WORKING)
    view_id = opened["view"]["id"]
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or ""
    ts = message.get("thread_ts") or message.get("ts") or ""
    try:
        sources = casestudy.thread_sources(slack(context), channel, ts, actor(context).user_id)
        draft = casestudy.draft(make_summariser(deps(context).settings), sources)
    except UserError as error:
        client.views_update(view_id=view_id, view=notice("Case study", escape(error.message)))
        return
    with deps(context).db.session() as session:
        usage.record_usage(
            session, actor(context).team_id, "case_study", draft.usage, actor(context).user_id
        )
    client.views_update(view_id=view_id, view=blocks.case_study_modal(draft, channel, ts))


def check_case_study(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    who = actor(context)
    fields = casestudy.validate(form_values(view))
    meta = json.loads(view.get("private_metadata") or "{}")
    with deps(context).db.session() as session:
        hub = workspaces.community_settings(
            session, who.team_id, deps(context).settings
        ).hub_channel
        if not hub:
            raise UserError("A lead needs to choose a knowledge hub channel in copbot's Home tab.")
        study = casestudy.save(
            session,
            who.team_id,
            who.user_id,
            fields,
            engine=str(meta.get("engine") or "offline"),
            source_channel=meta.get("channel"),
            source_ts=meta.get("ts"),
            source_permalink=None,
        )
        context["case_study"] = (study.id, hub)
    ack()


def publish_case_study(context: BoltContext) -> None:
    study_id, hub = context["case_study"]
    port = slack(context)
    with deps(context).db.session() as session:
        study = session.get(CaseStudy, study_id)
        assert study is not None
        if study.source_channel and study.source_ts:
            study.source_permalink = port.permalink(study.source_channel, study.source_ts)
        study.channel_id = hub
        study.ts = port.post_message(
            hub, f"Case study: {study.title}", blocks=casestudy.blocks(study)
        )
        study.permalink = port.permalink(hub, study.ts)
        session.add(study)


def hub_reply(context: BoltContext, words: str) -> dict[str, Any]:
    throttle(context, "search")
    with deps(context).db.session() as session:
        found = casestudy.search(session, actor(context).team_id, words)
    if not found:
        return ephemeral(f"No case studies match “{escape(words)}” yet.")
    lines = [
        f"• {f'<{s.permalink}|{escape(s.title)}>' if s.permalink else escape(s.title)}: "
        f"{escape(s.background or s.impact, limit=140)}"
        for s in found
    ]
    return ephemeral(
        f"Case studies matching “{words}”",
        [section(f"*Case studies matching “{escape(words)}”*\n" + "\n".join(lines))],
    )
