"""/pulse for members and leads, the designer modal, and answers from the pulse DM.

Each listener parses, checks the role, makes one ``bot.pulse.actions`` call and shows the
answer (``handlers.screens`` for modals)."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.errors import UserError
from bot.pulse import actions
from bot.pulse.questions import Answer
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
from handlers.home.listeners import refresh_home
from handlers.ideas.forms import challenge_modal
from handlers.pulse import forms, views
from handlers.pulse.ids import DESIGNER_CHOICES, PulseId
from storage import Pulse

ANSWER = re.compile(rf"^{PulseId.ANSWER}_\d+_\d+$")
THEME_CHALLENGE = re.compile(rf"^{PulseId.THEME_CHALLENGE}:\d+$")
LEAD_ONLY = ("new", "list", "results", "pause", "send-now")


def register(app: App) -> None:
    app.command("/pulse")(ack_then(pulse_command, after_pulse_command))
    app.view(PulseId.DESIGNER)(ack_then(create_pulse, open_first_run))
    for choice in DESIGNER_CHOICES:
        app.action(choice)(redraw_designer)
    app.action(ANSWER)(ack_then(answer_one_tap, show_answer))
    app.action(PulseId.OPEN_FORM)(ack_then(ack_only, open_form))
    app.view(PulseId.FORM)(ack_then(answer_form, show_form_answer))
    app.action(PulseId.RESPOND)(ack_then(ack_lead, open_response))
    app.action(THEME_CHALLENGE)(ack_then(ack_lead, open_theme_challenge))
    app.view(PulseId.RESPONSE)(ack_then(send_response))
    app.action(PulseId.OPT_OUT)(ack_then(opt_out, refresh_home))
    app.action(PulseId.OPT_IN)(ack_then(opt_in, refresh_home))


def pulse_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    sub, name = subcommand(command)
    who, db, settings = actor(context), deps(context).db, deps(context).settings
    if sub in LEAD_ONLY:
        who.require(Role.LEAD, f"use /pulse {sub}")
    if sub in ("results", "pause", "send-now") and not name:
        raise UserError(f"Name the pulse: `/pulse {sub} <name>`. `/pulse list` shows them.")
    if sub == "list":
        ack(ephemeral("Pulses", views.pulse_list(actions.list_pulses(db, who))))
    elif sub == "results":
        found = actions.latest_results(db, settings, who, name)
        ack(ephemeral(f"Results of {name}", views.results_blocks(found)))
    elif sub == "pause":
        pulse = actions.pause(db, who, name)
        ack(ephemeral(f"The {escape(pulse.name)} pulse is paused; nothing more is sent."))
    elif sub == "send-now":
        actions.find(db, who, name)  # an unknown name is answered now
        ack()
    elif sub == "new":
        ack()
    elif sub == "":
        ack(ephemeral("Your pulses", [views.my_pulses(actions.my_pulses(db, who))]))
    else:
        raise UserError("Try `/pulse`, or for leads `/pulse new`, `list`, `results <name>`.")


def after_pulse_command(
    command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    sub, name = subcommand(command)
    who, db = actor(context), deps(context).db
    if sub == "new":
        designer = forms.designer_modal(actions.organisations(db, who))
        screens.open_modal(client, command["trigger_id"], designer)
    elif sub == "send-now":
        pulse, opened = actions.send_now(db, slack(context), deps(context).settings, who, name)
        respond(text=views.sent_now(pulse.name, opened), response_type="ephemeral")


def redraw_designer(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Audience or Schedule chosen: the designer is redrawn with the fields that apply.
    Redrawn before the ack, so a second quick choice starts from the first one's form."""
    view = body.get("view") or {}
    if view.get("callback_id") != PulseId.DESIGNER:
        ack()
        return
    who = actor(context)
    who.require(Role.LEAD, "design pulses")
    values = form_values(view)
    designer = forms.designer_modal(
        actions.organisations(deps(context).db, who),
        audience=values.get(PulseId.AUDIENCE) or "everyone",
        schedule=values.get(PulseId.SCHEDULE) or "one_off",
    )
    screens.update_modal(client, view["id"], designer)
    ack()


def create_pulse(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    who, design = actor(context), forms.design_from(view)
    context["pulse"] = actions.create_pulse(deps(context).db, deps(context).settings, who, design)
    ack()


def open_first_run(context: BoltContext) -> None:
    """A one-off pulse opens today (each DM at the chosen local time); a weekly one is
    scheduled on its day."""
    who, runtime, pulse = actor(context), deps(context).runtime, context["pulse"]
    assert isinstance(pulse, Pulse)
    if pulse.schedule == "weekly":
        if runtime is None:
            raise UserError("The scheduler isn't running, so the pulse can't be scheduled.")
        actions.schedule_weekly(runtime.scheduling, slack(context), who, pulse)
    else:
        db, settings = deps(context).db, deps(context).settings
        actions.open_today(db, slack(context), settings, who, pulse.id or 0)


def answer_one_tap(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    """Record a one-tap answer at once; the DM is redrawn after the ack."""
    run_id, question, value, token = views.parse_button_value(action.get("value") or "")
    context["receipt"] = actions.answer(
        deps(context).db,
        deps(context).settings,
        actor(context),
        run_id=run_id,
        token=token,
        answers=[Answer(question=question or 0, value=value)],
    )
    ack()


def show_answer(context: BoltContext, respond: Respond) -> None:
    """Replace the member's own DM: their choice marked, the buttons now carrying their token."""
    dm = actions.answered_dm(deps(context).db, deps(context).settings, context["receipt"])
    respond(
        text="Thank you, your answer is in.",
        blocks=views.pulse_dm(dm).blocks,
        replace_original=True,
    )


def open_form(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    run_id, _, _, token = views.parse_button_value(action.get("value") or "")
    run = actions.run_to_answer(deps(context).db, actor(context), run_id)
    container = body.get("container") or {}
    metadata = {
        "run": run_id,
        "token": token,
        "channel": container.get("channel_id"),
        "ts": container.get("message_ts"),
    }
    form = forms.answer_form(run.pulse_name, run.questions, metadata)
    screens.open_modal(client, body["trigger_id"], form)


def answer_form(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    metadata, answers = json.loads(view.get("private_metadata") or "{}"), forms.answers_from(view)
    context["receipt"] = actions.answer(
        deps(context).db,
        deps(context).settings,
        actor(context),
        run_id=int(metadata.get("run") or 0),
        token=metadata.get("token"),
        answers=answers,
        replace_all=True,
    )
    context["dm"] = (metadata.get("channel"), metadata.get("ts"))
    ack()


def show_form_answer(context: BoltContext) -> None:
    channel, ts = context["dm"]
    if channel and ts:
        actions.redraw_dm(
            deps(context).db,
            slack(context),
            deps(context).settings,
            context["receipt"],
            channel,
            ts,
            "Thank you, your answers are in.",
        )


def opt_out(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    pulse_id = parse_id(action.get("value"), "That pulse")
    actions.set_opt_out(deps(context).db, actor(context), pulse_id, out=True)
    ack()


def opt_in(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    pulse_id = parse_id(action.get("value"), "That pulse")
    actions.set_opt_out(deps(context).db, actor(context), pulse_id, out=False)
    ack()


def ack_lead(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "answer a pulse's results")
    ack()


def open_response(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    run_id = parse_id(action.get("value"), "That pulse")
    run = actions.run_of_team(deps(context).db, actor(context), run_id)
    screens.open_modal(client, body["trigger_id"], forms.response_modal(run.run_id, run.pulse_name))


def open_theme_challenge(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """One step from a pulse theme to a challenge: the new-challenge form, prefilled."""
    who, settings = actor(context), deps(context).settings
    draft, today = actions.theme_challenge(
        deps(context).db, settings, who, action.get("value") or ""
    )
    view = challenge_modal(
        today,
        title=draft.title,
        description=draft.description,
        channel_id=draft.channel_id,
    )
    screens.open_modal(client, body["trigger_id"], view)


def send_response(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    run_id = parse_id(view.get("private_metadata"), "That pulse")
    actions.close_the_loop(
        deps(context).db, actor(context), run_id, form_values(view).get(PulseId.RESPONSE_TEXT)
    )
    ack()
