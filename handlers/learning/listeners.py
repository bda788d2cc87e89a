"""Learning: capture from message events, :memo:, reflections, digests (preview, edit,
publish, usage), thread-to-case-study and the knowledge hub search."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import UserError
from bot.learning import actions
from bot.roles import Role
from bot.text import escape
from handlers import screens
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
from handlers.kit import notice
from handlers.learning import views
from handlers.learning.ids import LearningId

WORKING = notice("Case study", "Reading the thread and writing a first draft…")


def register(app: App) -> None:
    # Acked at once; kept after the ack (unique on channel and ts, so a retry is harmless).
    app.event("message")(ack_then(ack_only, keep_message))
    app.event("reaction_added", matchers=[is_memo])(ack_then(ack_only, mark_learning))
    app.command("/digest")(ack_then(digest_command, after_digest_command))
    app.action(LearningId.DIGEST_PUBLISH)(ack_then(ack_lead, publish))
    app.action(LearningId.DIGEST_EDIT)(ack_then(ack_lead, open_editor))
    app.view(LearningId.DIGEST_EDIT_FORM)(ack_then(save_edit, redraw_preview))
    app.shortcut(LearningId.WRITE_CASE_STUDY)(ack_then(ack_only, write_case_study))
    app.view(LearningId.CASE_STUDY_FORM)(ack_then(check_case_study, publish_case_study))
    app.action(LearningId.CAPTURE_ADD)(ack_then(ack_lead, open_capture_form))
    app.view(LearningId.CAPTURE_FORM)(ack_then(enable_capture, announce_capture, refresh_home))
    app.action(LearningId.CAPTURE_STOP)(ack_then(disable_capture, refresh_home))
    app.action(LearningId.EXCLUDE_ME)(ack_then(exclude_me, refresh_home))
    app.action(LearningId.INCLUDE_ME)(ack_then(include_me, refresh_home))


def ack_lead(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "manage learning digests")
    ack()


# ------------------------------------------------------------------------------ capture


def keep_message(event: dict[str, Any], context: BoltContext) -> None:
    if context.team_id:
        actions.keep_message(deps(context).db, deps(context).settings, context.team_id, event)


def is_memo(event: dict[str, Any]) -> bool:
    return (
        event.get("reaction") in ("memo", "📝")
        and (event.get("item") or {}).get("type") == "message"
    )


def mark_learning(event: dict[str, Any], context: BoltContext) -> None:
    item = event["item"]
    if context.team_id:
        actions.mark_learning(deps(context).db, context.team_id, item["channel"], item["ts"])


def open_capture_form(body: dict[str, Any], client: WebClient) -> None:
    screens.open_modal(client, body["trigger_id"], views.capture_modal())


def enable_capture(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Turned on before the ack (a channel copbot can't be in is refused on the form);
    announced in the channel after it."""
    channel = form_values(view).get(LearningId.CHANNEL) or ""
    enabled = actions.enable_capture(deps(context).db, slack(context), actor(context), channel)
    context["announce"] = enabled and channel
    ack()


def announce_capture(context: BoltContext) -> None:
    if context.get("announce"):
        actions.announce_capture(
            deps(context).db, slack(context), actor(context), context["announce"]
        )


def disable_capture(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    actions.disable_capture(deps(context).db, actor(context), action.get("value") or "")
    ack()


def exclude_me(ack: Ack, context: BoltContext) -> None:
    actions.exclude_me(deps(context).db, actor(context))
    ack()


def include_me(ack: Ack, context: BoltContext) -> None:
    actions.include_me(deps(context).db, actor(context))
    ack()


# ------------------------------------------------------------------------------- digest


def digest_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    who = actor(context)
    who.require(Role.LEAD, "use /digest")
    sub = (command.get("text") or "").strip().lower()
    if sub == "usage":
        lines = actions.usage_this_month(deps(context).db, who)
        ack(ephemeral("Language model use", views.usage_blocks(lines)))
    elif sub == "":
        throttle(context, "digest")
        context["digest_id"] = actions.request_digest(deps(context).db, who)
        ack(ephemeral("Preparing your digest: the preview will arrive in your DMs."))
    else:
        raise UserError("Try `/digest` for a preview now, or `/digest usage`.")


def after_digest_command(context: BoltContext) -> None:
    if context.get("digest_id"):
        runtime = deps(context)
        actions.prepare_digest(runtime.db, slack(context), runtime.settings, context["digest_id"])


def publish(action: dict[str, Any], context: BoltContext) -> None:
    digest_id = parse_id(action.get("value"), "That digest")
    runtime = deps(context)
    actions.publish_digest(runtime.db, slack(context), runtime.settings, actor(context), digest_id)


def open_editor(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    digest_id = parse_id(action.get("value"), "That digest")
    draft = actions.digest_to_edit(deps(context).db, actor(context), digest_id)
    screens.open_modal(client, body["trigger_id"], views.digest_edit_modal(draft))


def save_edit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    digest_id = parse_id(view.get("private_metadata"), "That digest")
    actions.edit_digest(deps(context).db, actor(context), digest_id, views.digest_edit_form(view))
    context["digest_id"] = digest_id
    ack()


def redraw_preview(context: BoltContext) -> None:
    actions.redraw_preview(deps(context).db, slack(context), context["digest_id"])


# --------------------------------------------------------------------------- case study


def write_case_study(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open a waiting modal at once (the trigger lasts 3 s), then fill it with the draft."""
    view_id = screens.open_modal(client, body["trigger_id"], WORKING)
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or ""
    ts = message.get("thread_ts") or message.get("ts") or ""
    runtime = deps(context)
    try:
        draft = actions.draft_case_study(
            runtime.db, slack(context), runtime.settings, actor(context), channel, ts
        )
    except UserError as error:
        screens.update_modal(client, view_id, notice("Case study", escape(error.message)))
        return
    screens.update_modal(client, view_id, views.case_study_modal(draft, channel, ts))


def check_case_study(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    runtime = deps(context)
    context["case_study"] = actions.save_case_study(
        runtime.db, runtime.settings, actor(context), form_values(view), meta
    )
    ack()


def publish_case_study(context: BoltContext) -> None:
    study_id, hub = context["case_study"]
    actions.publish_case_study(deps(context).db, slack(context), study_id, hub)


def hub_reply(context: BoltContext, words: str) -> dict[str, Any]:
    throttle(context, "search")
    found = actions.search_case_studies(deps(context).db, actor(context), words)
    return views.hub_reply(words, found)
