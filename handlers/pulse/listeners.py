"""/pulse for members and leads, the designer modal, and answers from the pulse DM."""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlmodel import select

from bot import members, workspaces
from bot.errors import UserError
from bot.pulse import messages, results
from bot.pulse import service as pulses
from bot.pulse.questions import Answer
from bot.roles import Role
from bot.scheduling import weekly_trigger
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
    subcommand,
)
from handlers.home.listeners import refresh_home
from handlers.ideas.blocks import challenge_modal
from handlers.pulse import blocks
from storage import Pulse, PulseRun, utcnow

ANSWER = re.compile(rf"^{messages.ANSWER_ACTION}_\d+_\d+$")
THEME_CHALLENGE = re.compile(rf"^{results.CHALLENGE_ACTION}:\d+$")
LEAD_ONLY = ("new", "list", "results", "pause", "send-now")


def register(app: App) -> None:
    app.command("/pulse")(ack_then(pulse_command, after_pulse_command))
    app.view(blocks.DESIGNER)(ack_then(create_pulse, open_first_run))
    for choice in blocks.DESIGNER_CHOICES:
        app.action(choice)(redraw_designer)
    app.action(ANSWER)(ack_then(answer_one_tap, show_answer))
    app.action(messages.FORM_ACTION)(ack_then(ack_only, open_form))
    app.view(blocks.FORM)(ack_then(answer_form, show_form_answer))
    app.action(results.RESPOND_ACTION)(ack_then(ack_lead, open_response))
    app.action(THEME_CHALLENGE)(ack_then(ack_lead, open_theme_challenge))
    app.view(blocks.RESPONSE)(ack_then(send_response))
    app.action(blocks.OPT_OUT)(ack_then(opt_out, refresh_home))
    app.action(blocks.OPT_IN)(ack_then(opt_in, refresh_home))


def pulse_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    sub, name = subcommand(command)
    who, settings = actor(context), deps(context).settings
    if sub in LEAD_ONLY:
        who.require(Role.LEAD, f"use /pulse {sub}")
    if sub in ("results", "pause", "send-now") and not name:
        raise UserError(f"Name the pulse: `/pulse {sub} <name>`. `/pulse list` shows them.")
    with deps(context).db.session() as session:
        if sub == "list":
            found = session.exec(select(Pulse).where(Pulse.team_id == who.team_id))
            ack(ephemeral("Pulses", blocks.pulse_list(list(found))))
        elif sub == "results":
            found = results.latest_results(session, settings, who.team_id, name)
            ack(ephemeral(f"Results of {name}", messages.results_blocks(found)))
        elif sub == "pause":
            pulse = pulses.set_paused(session, who, name)
            ack(ephemeral(f"The {escape(pulse.name)} pulse is paused; nothing more is sent."))
        elif sub == "send-now":
            pulses.by_name(session, who.team_id, name)  # an unknown name is answered now
            ack()
        elif sub == "new":
            ack()
        elif sub == "":
            mine = pulses.open_for(session, who.user_id)
            ack(ephemeral("Your pulses", [blocks.my_pulses(mine)]))
        else:
            raise UserError("Try `/pulse`, or for leads `/pulse new`, `list`, `results <name>`.")


def after_pulse_command(
    command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    sub, name = subcommand(command)
    who = actor(context)
    if sub == "new":
        with deps(context).db.session() as session:
            organisations = members.organisations(session, who.team_id)
        client.views_open(
            trigger_id=command["trigger_id"], view=blocks.designer_modal(organisations)
        )
    elif sub == "send-now":
        with deps(context).db.session() as session:
            pulse = pulses.by_name(session, who.team_id, name)
        people = pulses.read_audience(
            deps(context).db, slack(context), pulse, deps(context).settings
        )
        with deps(context).db.session() as session:
            opened = pulses.send_now(
                session, who, deps(context).settings, name, channel_members=people
            )
        respond(text=blocks.sent_now(pulse.name, opened), response_type="ephemeral")


def redraw_designer(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Audience or Schedule chosen: the designer is redrawn with the fields that apply.
    Redrawn before the ack, so a second quick choice starts from the first one's form."""
    view = body.get("view") or {}
    if view.get("callback_id") != blocks.DESIGNER:
        ack()
        return
    who = actor(context)
    who.require(Role.LEAD, "design pulses")
    values = form_values(view)
    with deps(context).db.session() as session:
        organisations = members.organisations(session, who.team_id)
    client.views_update(
        view_id=view["id"],
        view=blocks.designer_modal(
            organisations,
            audience=values.get("audience") or "everyone",
            schedule=values.get("schedule") or "one_off",
        ),
    )
    ack()


def create_pulse(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values, who = form_values(view), actor(context)
    audience = values.get("audience") or "everyone"
    value = {
        "channel": values.get("channel"),
        "staff_group": values.get("staff_group"),
        "organisation": values.get("organisation"),
    }.get(audience)
    try:
        open_days = int(values.get("open_days") or "3")
    except ValueError:
        raise UserError("Enter a whole number of days.", field="open_days") from None
    try:
        comment_min = int(values["comment_min"]) if values.get("comment_min") else None
    except ValueError:
        raise UserError("Enter a whole number of people.", field="comment_min") from None
    with deps(context).db.session() as session:
        pulse = pulses.create_pulse(
            session,
            who,
            deps(context).settings,
            name=values.get("name") or "",
            audience_kind=audience,
            audience_value=value,
            questions=blocks.questions_from(
                values.get("questions") or [], values.get("own_questions")
            ),
            schedule=values.get("schedule") or "one_off",
            weekday=int(values["weekday"]) if values.get("weekday") else None,
            local_time=values.get("local_time"),
            open_days=open_days,
            anonymous=bool(values.get("anonymous")),
            results_channel=values.get("results_channel"),
            comment_min=comment_min,
        )
        context["pulse_id"] = pulse.id
    ack()


def open_first_run(context: BoltContext, respond: Respond | None) -> None:
    """A one-off pulse opens today (each DM at the chosen local time); a weekly one is
    scheduled on its day."""
    who, runtime, db = actor(context), deps(context).runtime, deps(context).db
    with db.session() as session:
        pulse = session.get(Pulse, context["pulse_id"])
        assert pulse is not None
    if pulse.schedule == "weekly":
        if runtime is None:
            raise UserError("The scheduler isn't running, so the pulse can't be scheduled.")
        runtime.scheduling.ensure_job(
            f"pulse:{pulse.id}:open",
            "bot.jobs:pulse_open",
            weekly_trigger(pulse.weekday or 0, "00:05", pulse.timezone),
            args=[pulse.id],
            name=f"Pulse {pulse.name}: open this week's run",
        )
        note = f"The {pulse.name} pulse will go out every week."
    else:
        people = pulses.read_audience(db, slack(context), pulse, deps(context).settings)
        with db.session() as session:
            today = utcnow().astimezone(ZoneInfo(pulse.timezone)).date()
            opened = pulses.open_run(
                session,
                deps(context).settings,
                session.get_one(Pulse, context["pulse_id"]),
                on_date=today,
                channel_members=people,
            )
        note = f"The {pulse.name} pulse goes to {opened.invited} people today."
    slack(context).post_message(who.user_id, escape(note))


def answer_one_tap(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    """Record a one-tap answer at once; the DM is redrawn after the ack."""
    run_id, question, value, token = messages.parse_button_value(action.get("value") or "")
    with deps(context).db.session() as session:
        receipt = pulses.record_answers(
            session,
            deps(context).settings,
            run_id=run_id,
            user_id=actor(context).user_id,
            token=token,
            answers=[Answer(question=question or 0, value=value)],
        )
    context["receipt"] = receipt
    ack()


def _redrawn(context: BoltContext, receipt: pulses.Receipt) -> list[dict[str, Any]]:
    with deps(context).db.session() as session:
        run = session.get(PulseRun, receipt.run_id)
        pulse = session.get(Pulse, run.pulse_id) if run else None
        assert run is not None and pulse is not None
        minimum = pulses.minimum_for(session, deps(context).settings, run, pulse.team_id)
    return messages.delivery_blocks(
        run_id=run.id or 0,
        pulse_name=pulse.name,
        questions=run.questions,
        anonymous=run.anonymous,
        anonymity_min=minimum,
        closes_at=run.closes_at,
        token=receipt.token,
        chosen=receipt.chosen,
    )


def show_answer(context: BoltContext, respond: Respond) -> None:
    """Replace the member's own DM: their choice marked, the buttons now carrying their token."""
    receipt = context["receipt"]
    respond(
        text="Thank you, your answer is in.",
        blocks=_redrawn(context, receipt),
        replace_original=True,
    )


def open_form(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    run_id, _, _, token = messages.parse_button_value(action.get("value") or "")
    with deps(context).db.session() as session:
        run, pulse = pulses.run_of_team(session, actor(context).team_id, run_id)
        if run.status != "open":
            raise UserError("This pulse has closed. Thank you.")
    container = body.get("container") or {}
    metadata = {
        "run": run_id,
        "token": token,
        "channel": container.get("channel_id"),
        "ts": container.get("message_ts"),
    }
    client.views_open(
        trigger_id=body["trigger_id"], view=blocks.answer_form(pulse.name, run.questions, metadata)
    )


def answer_form(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    metadata, values = json.loads(view.get("private_metadata") or "{}"), form_values(view)
    answers = []
    for key, value in values.items():
        if not key.startswith("q") or value in (None, ""):
            continue
        index = int(key[1:])
        if isinstance(value, str) and value.lstrip("-").isdigit():
            answers.append(Answer(question=index, value=int(value)))
        else:
            answers.append(Answer(question=index, text=str(value)))
    if not answers:
        raise UserError("Answer at least one question.")
    with deps(context).db.session() as session:
        receipt = pulses.record_answers(
            session,
            deps(context).settings,
            run_id=int(metadata.get("run") or 0),
            user_id=actor(context).user_id,
            token=metadata.get("token"),
            answers=answers,
            replace_all=True,
        )
    context["receipt"], context["dm"] = receipt, (metadata.get("channel"), metadata.get("ts"))
    ack()


def show_form_answer(context: BoltContext, client: WebClient) -> None:
    channel, ts = context["dm"]
    if channel and ts:
        client.chat_update(
            channel=channel,
            ts=ts,
            text="Thank you, your answers are in.",
            blocks=_redrawn(context, context["receipt"]),
        )


def opt_out(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    _set_opt_out(context, action, out=True)
    ack()


def opt_in(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    _set_opt_out(context, action, out=False)
    ack()


def _set_opt_out(context: BoltContext, action: dict[str, Any], *, out: bool) -> None:
    who = actor(context)
    pulse_id = parse_id(action.get("value"), "That pulse")
    with deps(context).db.session() as session:
        pulses.set_opt_out(session, who.team_id, who.user_id, pulse_id, out)


def ack_lead(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "answer a pulse's results")
    ack()


def open_response(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    with deps(context).db.session() as session:
        run, pulse = pulses.run_of_team(
            session, actor(context).team_id, parse_id(action.get("value"), "That pulse")
        )
    client.views_open(
        trigger_id=body["trigger_id"], view=blocks.response_modal(run.id or 0, pulse.name)
    )


def open_theme_challenge(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """One step from a pulse theme to a challenge: the new-challenge form, prefilled."""
    who, settings = actor(context), deps(context).settings
    with deps(context).db.session() as session:
        draft = results.challenge_draft(session, settings, who, action.get("value") or "")
        zone = workspaces.community_settings(session, who.team_id, settings).timezone
    view = challenge_modal(
        utcnow().astimezone(ZoneInfo(zone)).date(),
        title=draft.title,
        description=draft.description,
        channel_id=draft.channel_id,
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def send_response(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        results.close_the_loop(
            session,
            actor(context),
            parse_id(view.get("private_metadata"), "That pulse"),
            form_values(view).get("response"),
        )
    ack()
