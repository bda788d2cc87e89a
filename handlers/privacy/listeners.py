"""Privacy rights (``/copbot privacy`` and App Home) and the audit log for admins."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.rights import actions
from bot.roles import Role
from handlers import screens
from handlers.common import ack_only, ack_then, actor, deps, ephemeral, slack, throttle
from handlers.privacy import views
from handlers.privacy.ids import PrivacyId


def register(app: App) -> None:
    app.action(PrivacyId.DOWNLOAD)(ack_then(ack_download, send_my_data))
    app.action(PrivacyId.FORGET)(ack_then(ack_only, confirm_forget))
    app.action(PrivacyId.SHOW)(ack_then(ack_only, show_rights))
    app.view(PrivacyId.FORGET_CONFIRM)(ack_then(ask_to_forget, forget_me))
    app.action(PrivacyId.AUDIT_CSV)(ack_then(ack_admin, send_audit_log))


def ack_download(ack: Ack, context: BoltContext) -> None:
    throttle(context, "my_data")
    ack()


def ack_admin(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.ADMIN, "download the audit log")
    ack()


def rights_reply(context: BoltContext) -> dict[str, Any]:
    """The answer to ``/copbot privacy``."""
    found = actions.summary(deps(context).db, actor(context))
    return ephemeral("What copbot keeps about you", views.rights_blocks(found.lines))


def show_rights(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    found = actions.summary(deps(context).db, actor(context))
    screens.open_modal(client, body["trigger_id"], views.rights_modal(found.lines))


def send_my_data(context: BoltContext) -> None:
    actions.send_my_data(deps(context).db, slack(context), actor(context))


def confirm_forget(body: dict[str, Any], client: WebClient) -> None:
    """Asked on top of the rights modal when pressed there, else in a new modal."""
    if (body.get("view") or {}).get("type") == "modal":
        screens.push_modal(client, body["trigger_id"], views.forget_modal())
    else:
        screens.open_modal(client, body["trigger_id"], views.forget_modal())


def ask_to_forget(ack: Ack, context: BoltContext) -> None:
    """The request is recorded before the ack, so a crash in the work after it is finished
    by a scheduled job (``actions.finish_forgets``)."""
    actions.request_forget(deps(context).db, actor(context))
    ack()


def forget_me(context: BoltContext) -> None:
    """After the ack: erasure reads every text column of every table, which on a large
    community takes longer than Slack waits for an answer (bench/forget.py). Then copbot
    redraws what it posted that named them, clears the database's files of what was
    deleted, and says so straight to Slack, not through the outbox, which would keep their
    ID."""
    who, runtime = actor(context), deps(context)
    actions.forget_me(runtime.db, slack(context), runtime.settings, who)
    runtime.actors.forget_everywhere(who.user_id)


def send_audit_log(context: BoltContext) -> None:
    actions.send_audit_log(deps(context).db, slack(context), actor(context))
