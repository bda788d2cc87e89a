"""/exchange for members and leads, the sign-up form, the lead's review (approve, swap,
re-run), and the buttons in each match's group DM. Each listener parses, checks the
role and makes one ``bot.exchange.actions`` call; what is slow runs after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import UserError
from bot.exchange import actions
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
    subcommand,
)
from handlers.exchange import forms, views
from handlers.exchange.ids import ExchangeId as Id
from handlers.home.listeners import refresh_home

LEAD_ONLY = ("new", "match", "stats")
STATUS_ACTIONS = {Id.DATE_SET: "date_set", Id.DONE: "done", Id.CANCEL: "cancelled"}


def register(app: App) -> None:
    app.command("/exchange")(ack_then(exchange_command, after_exchange_command))
    app.view(Id.PROGRAMME_FORM)(ack_then(create_programme, programme_created))
    app.action(Id.NEW_PROGRAMME)(ack_then(ack_lead, open_programme_form))
    app.action(Id.FORMAT)(redraw_programme_form)  # the programme form's Format redraws it
    app.action(Id.MODE)(redraw_signup)  # the sign-up's Format (in person, virtual) redraws it
    app.action(Id.JOIN)(ack_then(ack_only, open_signup_from_home))
    app.view(Id.SIGNUP_FORM)(ack_then(save_signup, signed_up, refresh_home))
    app.action(Id.RUN_MATCHING)(ack_then(ack_lead, run_matching_from_home))
    app.action(Id.APPROVE)(ack_then(approve, introduce))
    app.action(Id.SWAP)(ack_then(ack_lead, open_swap))
    app.view(Id.SWAP_FORM)(ack_then(swap, redraw_review))
    app.action(Id.RERUN)(ack_then(ack_lead, open_rerun))
    app.view(Id.RERUN_FORM)(ack_then(check_rerun, rerun))
    for action_id in STATUS_ACTIONS:
        app.action(action_id)(ack_then(set_status, redraw_match))
    app.action(Id.FEEDBACK)(ack_then(ack_only, open_feedback))
    app.view(Id.FEEDBACK_FORM)(ack_then(save_feedback, thank_for_feedback))


def ack_lead(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "run exchange programmes")
    ack()


# ---------------------------------------------------------------------------- /exchange


def exchange_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Everything that can be refused is refused here, before the ack; forms open after."""
    sub, name = subcommand(command)
    who, db = actor(context), deps(context).db
    if sub in LEAD_ONLY:
        who.require(Role.LEAD, f"use /exchange {sub}")
    if sub == "":
        mine = actions.my_exchanges(db, who)
        lines = views.exchange_lines(mine.matches)
        ack(ephemeral("Your exchanges", views.my_matches(lines, mine.open_now)))
    elif sub == "join":
        actions.check_join(db, who, name)
        ack()
    elif sub == "leave":
        left = actions.leave(db, who, name)
        ack(ephemeral(f"You've left {escape(left)}. You can join again any time."))
    elif sub == "new":
        ack()
    elif sub == "match":
        if not name:
            raise UserError("Name the programme: `/exchange match <name>`.")
        found = actions.programme_name(db, who, name)
        ack(ephemeral(f"Matching {escape(found)}: the proposal comes to your DMs."))
    elif sub == "stats":
        found = actions.figures(db, who, name)
        title = f"Exchange figures: {name}" if name else "Exchange figures: all programmes"
        ack(ephemeral(title, views.figures(title, found)))
    else:
        raise UserError(
            "Try `/exchange`, `/exchange join <programme>` or `/exchange leave <programme>`."
        )


def after_exchange_command(
    command: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    sub, name = subcommand(command)
    who, db = actor(context), deps(context).db
    if sub == "new":
        today = actions.community_today(db, deps(context).settings, who)
        screens.open_modal(client, command["trigger_id"], forms.programme_modal(today))
    elif sub == "join":
        form = actions.signup_form(db, who, name)
        screens.open_modal(client, command["trigger_id"], forms.signup_modal(form))
    elif sub == "match":
        actions.run_matching(db, slack(context), who, name)


# --------------------------------------------------------------------------- programmes


def open_programme_form(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    today = actions.community_today(deps(context).db, deps(context).settings, actor(context))
    screens.open_modal(client, body["trigger_id"], forms.programme_modal(today))


def redraw_programme_form(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Format chosen: the form is redrawn with the fields that format uses (before the
    ack, so a quick second choice starts from the first one's form)."""
    view = body.get("view") or {}
    if view.get("callback_id") != Id.PROGRAMME_FORM:
        ack()
        return
    who = actor(context)
    who.require(Role.LEAD, "run exchange programmes")
    today = actions.community_today(deps(context).db, deps(context).settings, who)
    chosen = form_values(view).get(Id.FORMAT)
    screens.update_modal(client, view["id"], forms.programme_modal(today, chosen))
    ack()


def create_programme(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    answers = forms.programme_answers(view)
    context["programme_id"] = actions.create_programme(
        deps(context).db, deps(context).settings, actor(context), answers
    )
    ack()


def programme_created(context: BoltContext) -> None:
    actions.announce_programme(
        deps(context).db,
        slack(context),
        deps(context).settings,
        actor(context),
        context["programme_id"],
    )


# ------------------------------------------------------------------------------ sign-up


def open_signup_from_home(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    programme_id = parse_id(action.get("value"), "That programme")
    form = actions.signup_form(deps(context).db, actor(context), programme_id)
    screens.open_modal(client, body["trigger_id"], forms.signup_modal(form))


def redraw_signup(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """In person, virtual or either chosen: the place is asked only when it matters."""
    view = body.get("view") or {}
    if view.get("callback_id") != Id.SIGNUP_FORM:
        ack()
        return
    programme_id = parse_id(view.get("private_metadata"), "That programme")
    mode = form_values(view).get(Id.MODE)
    form = actions.signup_form(deps(context).db, actor(context), programme_id, mode)
    screens.update_modal(client, view["id"], forms.signup_modal(form))
    ack()


def save_signup(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    programme_id = parse_id(view.get("private_metadata"), "That programme")
    answers = forms.signup_answers(view)
    context["signup"] = actions.sign_up(deps(context).db, actor(context), programme_id, answers)
    ack()


def signed_up(context: BoltContext) -> None:
    actions.confirm_sign_up(slack(context), actor(context), context["signup"])


# -------------------------------------------------------------------------- lead review


def run_matching_from_home(action: dict[str, Any], context: BoltContext) -> None:
    programme_id = parse_id(action.get("value"), "That programme")
    actions.run_matching(deps(context).db, slack(context), actor(context), programme_id)


def _round_id(action_or_view: dict[str, Any]) -> int:
    raw = action_or_view.get("value") or action_or_view.get("private_metadata")
    return parse_id(raw, "That proposal")


def approve(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    context["round_id"] = actions.approve(deps(context).db, actor(context), _round_id(action))
    ack()


def introduce(context: BoltContext) -> None:
    actions.introduce(deps(context).db, slack(context), context["round_id"])


def open_swap(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
    screens.open_modal(client, body["trigger_id"], forms.swap_modal(_round_id(action)))


def swap(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    first, second = forms.swap_answers(view)
    context["round_id"] = actions.swap(
        deps(context).db, actor(context), _round_id(view), first, second
    )
    ack()


def redraw_review(context: BoltContext) -> None:
    actions.send_review(deps(context).db, slack(context), context["round_id"])


def open_rerun(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    round_id = _round_id(action)
    weights = actions.weights(deps(context).db, actor(context), round_id)
    screens.open_modal(client, body["trigger_id"], forms.rerun_modal(round_id, weights))


def check_rerun(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Weights are checked in the form; matching itself runs after the ack (it can be big)."""
    actor(context).require(Role.LEAD, "re-run matching")
    context["weights"] = forms.rerun_weights(view)
    ack()


def rerun(view: dict[str, Any], context: BoltContext) -> None:
    actions.rerun(
        deps(context).db, slack(context), actor(context), _round_id(view), context["weights"]
    )


# ------------------------------------------------------------------ the match's group DM


def set_status(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    status = STATUS_ACTIONS[action["action_id"]]
    actions.set_status(
        deps(context).db, deps(context).settings, actor(context), _match_id(action), status
    )
    ack()


def _match_id(action: dict[str, Any]) -> int:
    return parse_id(action.get("value"), "That match")


def redraw_match(body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not channel or not ts:
        return
    actions.redraw_match(
        deps(context).db, slack(context), actor(context), _match_id(action), channel, ts
    )


def open_feedback(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    match_id = _match_id(action)
    programme = actions.feedback_programme(deps(context).db, actor(context), match_id)
    screens.open_modal(client, body["trigger_id"], forms.feedback_modal(match_id, programme))


def save_feedback(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    answers = forms.feedback_answers(view)
    match_id = parse_id(view.get("private_metadata"), "That match")
    actions.record_feedback(deps(context).db, actor(context), match_id, answers)
    ack()


def thank_for_feedback(context: BoltContext) -> None:
    actions.thank_for_feedback(slack(context), actor(context))
