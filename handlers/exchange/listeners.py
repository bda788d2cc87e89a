"""/exchange for members and leads, the sign-up form, the lead's review (approve, swap,
re-run), and the buttons in each match's group DM."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import members, workspaces
from bot.errors import UserError
from bot.exchange import followup, messages, stats
from bot.exchange import service as exchanges
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
    subcommand,
)
from handlers.exchange import blocks
from handlers.home.listeners import refresh_home
from handlers.kit import section
from storage import ExchangeProgramme, ExchangeRound, Organisation, utcnow

LEAD_ONLY = ("new", "match", "stats")
STATUS_ACTIONS = {
    messages.DATE_SET: "date_set",
    messages.DONE: "done",
    messages.CANCEL: "cancelled",
}


def register(app: App) -> None:
    app.command("/exchange")(ack_then(exchange_command, after_exchange_command))
    app.view(blocks.PROGRAMME)(ack_then(create_programme, programme_created))
    app.action(blocks.NEW_PROGRAMME)(ack_then(ack_lead, open_programme_form))
    app.action(blocks.PROGRAMME_CHOICE)(redraw_programme_form)
    app.action(blocks.SIGNUP_CHOICE)(redraw_signup)
    app.action(blocks.JOIN)(ack_then(ack_only, open_signup_from_home))
    app.view(blocks.SIGNUP)(ack_then(save_signup, signed_up, refresh_home))
    app.action(blocks.RUN_MATCHING)(ack_then(ack_lead, run_matching_from_home))
    app.action(messages.APPROVE)(ack_then(approve, introduce))
    app.action(messages.SWAP)(ack_then(ack_lead, open_swap))
    app.view(blocks.SWAP_FORM)(ack_then(swap, redraw_review))
    app.action(messages.RERUN)(ack_then(ack_lead, open_rerun))
    app.view(blocks.RERUN_FORM)(ack_then(check_rerun, rerun))
    for action_id in STATUS_ACTIONS:
        app.action(action_id)(ack_then(set_status, redraw_match))
    app.action(messages.FEEDBACK)(ack_then(ack_only, open_feedback))
    app.view(blocks.FEEDBACK_FORM)(ack_then(save_feedback, thank_for_feedback))


def ack_lead(ack: Ack, context: BoltContext) -> None:
    actor(context).require(Role.LEAD, "run exchange programmes")
    ack()


def _today(context: BoltContext, session: Any) -> date:
    zone = workspaces.community_settings(
        session, actor(context).team_id, deps(context).settings
    ).timezone
    return utcnow().astimezone(ZoneInfo(zone)).date()


# ---------------------------------------------------------------------------- /exchange


def exchange_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Everything that can be refused is refused here, before the ack; forms open after."""
    sub, name = subcommand(command)
    who = actor(context)
    if sub in LEAD_ONLY:
        who.require(Role.LEAD, f"use /exchange {sub}")
    with deps(context).db.session() as session:
        if sub == "":
            lines = blocks.exchange_lines(exchanges.matches_of(session, who.team_id, who.user_id))
            open_now = exchanges.open_for_signup(session, who.team_id)
            ack(ephemeral("Your exchanges", blocks.my_matches(lines, open_now)))
        elif sub == "join":
            programme = exchanges.choose_programme(session, who.team_id, name)
            exchanges.check_open(programme, utcnow())
            ack()
        elif sub == "leave":
            programme = exchanges.choose_programme(session, who.team_id, name)
            exchanges.leave(session, who.team_id, who.user_id, programme)
            ack(ephemeral(f"You've left {escape(programme.name)}. You can join again any time."))
        elif sub == "new":
            ack()
        elif sub == "match":
            if not name:
                raise UserError("Name the programme: `/exchange match <name>`.")
            programme = exchanges.by_name(session, who.team_id, name)
            ack(ephemeral(f"Matching {escape(programme.name)}: the proposal comes to your DMs."))
        elif sub == "stats":
            programme_id = exchanges.by_name(session, who.team_id, name).id if name else None
            found = stats.figures(session, who.team_id, programme_id)
            title = f"Exchange figures: {name}" if name else "Exchange figures: all programmes"
            ack(ephemeral(title, [section(stats.figures_text(escape(title), found))]))
        else:
            raise UserError(
                "Try `/exchange`, `/exchange join <programme>` or `/exchange leave <programme>`."
            )


def after_exchange_command(
    command: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    sub, name = subcommand(command)
    if sub == "new":
        with deps(context).db.session() as session:
            today = _today(context, session)
        client.views_open(trigger_id=command["trigger_id"], view=blocks.programme_modal(today))
    elif sub == "join":
        with deps(context).db.session() as session:
            programme = exchanges.choose_programme(session, actor(context).team_id, name)
        _open_signup(context, client, command["trigger_id"], programme.id or 0)
    elif sub == "match":
        with deps(context).db.session() as session:
            programme = exchanges.by_name(session, actor(context).team_id, name)
        _match(context, programme.id or 0)


def _match(context: BoltContext, programme_id: int) -> None:
    with deps(context).db.session() as session:
        programme = session.get(ExchangeProgramme, programme_id)
        if programme is None or programme.team_id != actor(context).team_id:
            raise UserError("That programme no longer exists.")
        round_ = exchanges.run_matching(session, actor(context), programme)
        session.commit()
        followup.send_review(session, slack(context), round_.id or 0)


# --------------------------------------------------------------------------- programmes


def open_programme_form(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    with deps(context).db.session() as session:
        today = _today(context, session)
    client.views_open(trigger_id=body["trigger_id"], view=blocks.programme_modal(today))


def redraw_programme_form(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Format chosen: the form is redrawn with the fields that format uses (before the
    ack, so a quick second choice starts from the first one's form)."""
    view = body.get("view") or {}
    if view.get("callback_id") != blocks.PROGRAMME:
        ack()
        return
    actor(context).require(Role.LEAD, "run exchange programmes")
    with deps(context).db.session() as session:
        today = _today(context, session)
    chosen = form_values(view).get("format")
    client.views_update(view_id=view["id"], view=blocks.programme_modal(today, chosen))
    ack()


def create_programme(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values, who = form_values(view), actor(context)
    with deps(context).db.session() as session:
        community = workspaces.community_settings(session, who.team_id, deps(context).settings)
        fields = exchanges.validate_programme(
            name=values.get("name"),
            format=values.get("format"),
            group_size=values.get("group_size"),
            differ_by=values.get("differ_by"),
            cooldown_months=values.get("cooldown"),
            deadline=date.fromisoformat(values["deadline"]) if values.get("deadline") else None,
            recurring=values.get("rounds") == "monthly",
            mentor_capacity=values.get("capacity"),
            timezone=community.timezone,
            today=utcnow().astimezone(ZoneInfo(community.timezone)).date(),
        )
        context["programme_id"] = exchanges.create_programme(session, who, fields).id
    ack()


def programme_created(context: BoltContext) -> None:
    with deps(context).db.session() as session:
        programme = session.get(ExchangeProgramme, context.get("programme_id"))
        assert programme is not None
        closes = programme.signup_deadline.astimezone(
            ZoneInfo(
                workspaces.community_settings(
                    session, programme.team_id, deps(context).settings
                ).timezone
            )
        )
    slack(context).post_message(
        actor(context).user_id,
        f"The {programme.name} exchange is ready. Invite people to join with "
        f"`/exchange join {programme.name}` (or from App Home); sign-ups close at the end of "
        f"{closes:%A %-d %B}, and then I send you the proposed matches to review.",
    )


# ------------------------------------------------------------------------------ sign-up


def open_signup_from_home(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    _open_signup(
        context, client, body["trigger_id"], parse_id(action.get("value"), "That programme")
    )


def _open_signup(
    context: BoltContext, client: WebClient, trigger_id: str, programme_id: int
) -> None:
    client.views_open(trigger_id=trigger_id, view=_signup_form(context, programme_id))


def redraw_signup(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """In person, virtual or either chosen: the place is asked only when it matters."""
    view = body.get("view") or {}
    if view.get("callback_id") != blocks.SIGNUP:
        ack()
        return
    programme_id = parse_id(view.get("private_metadata"), "That programme")
    mode = form_values(view).get("mode")
    client.views_update(view_id=view["id"], view=_signup_form(context, programme_id, mode))
    ack()


def _signup_form(
    context: BoltContext, programme_id: int, mode: str | None = None
) -> dict[str, Any]:
    who = actor(context)
    with deps(context).db.session() as session:
        programme = session.get(ExchangeProgramme, programme_id)
        if programme is None or programme.team_id != who.team_id:
            raise UserError("That programme no longer exists.")
        member = members.find(session, who.team_id, who.user_id)
        organisation = (
            session.get(Organisation, member.organisation_id)
            if member and member.organisation_id
            else None
        )
        names = [o.name for o in members.organisations(session, who.team_id)]
        view = blocks.signup_modal(
            programme,
            member,
            organisation.name if organisation else "",
            names,
            exchanges.interest(session, programme_id, who.user_id),
            mode,
        )
    return view


def save_signup(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values, who = form_values(view), actor(context)
    with deps(context).db.session() as session:
        programme = session.get(
            ExchangeProgramme, parse_id(view.get("private_metadata"), "That programme")
        )
        if programme is None or programme.team_id != who.team_id:
            raise UserError("That programme no longer exists.")
        fields = exchanges.validate_interest(
            who.user_id,
            staff_group=values.get("staff_group"),
            organisation=values.get("organisation"),
            locality=values.get("locality"),
            professional=values.get("professional"),
            personal=values.get("personal"),
            other_interests=values.get("other_interests"),
            offers=values.get("offers"),
            wants=values.get("wants"),
            career_stage=values.get("career_stage"),
            availability=values.get("availability"),
            mode=values.get("mode"),
            role=values.get("role"),
            do_not_pair=values.get("do_not_pair"),
            paused=bool(values.get("paused")),
        )
        _, created = exchanges.join(session, who.team_id, who.user_id, programme, fields)
        context["signup"] = (programme.name, created, fields.paused)
    ack()


def signed_up(context: BoltContext) -> None:
    name, created, paused = context["signup"]
    if paused:
        text = f"Saved. You're paused in {name}: I won't match you until you unpause."
    elif created:
        text = (
            f"You're signed up to {name}. I'll introduce you once sign-ups close and a lead "
            "has approved the matches. Edit or withdraw any time before then."
        )
    else:
        text = f"Your {name} sign-up is updated."
    slack(context).post_message(actor(context).user_id, text)


# -------------------------------------------------------------------------- lead review


def run_matching_from_home(action: dict[str, Any], context: BoltContext) -> None:
    _match(context, parse_id(action.get("value"), "That programme"))


def _round_id(action_or_view: dict[str, Any]) -> int:
    raw = action_or_view.get("value") or action_or_view.get("private_metadata")
    return parse_id(raw, "That proposal")


def approve(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        round_ = exchanges.approve(session, actor(context), _round_id(action))
        context["round_id"] = round_.id
    ack()


def introduce(context: BoltContext) -> None:
    round_id = context["round_id"]
    with deps(context).db.session() as session:
        followup.send_review(session, slack(context), round_id)
        followup.introduce(session, slack(context), round_id)


def open_swap(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
    client.views_open(trigger_id=body["trigger_id"], view=blocks.swap_modal(_round_id(action)))


def swap(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values = form_values(view)
    with deps(context).db.session() as session:
        round_ = exchanges.swap(
            session, actor(context), _round_id(view), values.get("first"), values.get("second")
        )
        context["round_id"] = round_.id
    ack()


def redraw_review(context: BoltContext) -> None:
    with deps(context).db.session() as session:
        followup.send_review(session, slack(context), context["round_id"])


def open_rerun(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    with deps(context).db.session() as session:
        round_ = session.get(ExchangeRound, _round_id(action))
        programme = session.get(ExchangeProgramme, round_.programme_id) if round_ else None
        if round_ is None or programme is None or programme.team_id != actor(context).team_id:
            raise UserError("That proposal no longer exists.")
        weights = exchanges.weights_of(round_.weights)
    view = blocks.rerun_modal(
        round_.id or 0, {n: getattr(weights, n) for n in exchanges.WEIGHT_NAMES}
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def check_rerun(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Weights are checked in the form; matching itself runs after the ack (it can be big)."""
    actor(context).require(Role.LEAD, "re-run matching")
    context["weights"] = exchanges.parse_weights(form_values(view))
    ack()


def rerun(view: dict[str, Any], context: BoltContext) -> None:
    with deps(context).db.session() as session:
        round_ = exchanges.rerun(session, actor(context), _round_id(view), context["weights"])
        session.commit()
        followup.send_review(session, slack(context), round_.id or 0)


# ------------------------------------------------------------------ the match's group DM


def set_status(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        followup.set_status(
            session,
            deps(context).settings,
            who.team_id,
            who.user_id,
            _match_id(action),
            STATUS_ACTIONS[action["action_id"]],
        )
    ack()


def _match_id(action: dict[str, Any]) -> int:
    return parse_id(action.get("value"), "That match")


def redraw_match(body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not channel or not ts:
        return
    who = actor(context)
    with deps(context).db.session() as session:
        view = followup.match_view(session, who.team_id, who.user_id, _match_id(action))
        blocks_now = view.blocks
        text = messages.intro_text(view.programme.name, view.members)
    slack(context).update_message(channel, ts, text, blocks=blocks_now)


def open_feedback(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    who = actor(context)
    with deps(context).db.session() as session:
        view = followup.match_view(session, who.team_id, who.user_id, _match_id(action))
        name = view.programme.name
    client.views_open(
        trigger_id=body["trigger_id"], view=blocks.feedback_modal(_match_id(action), name)
    )


def save_feedback(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values, who = form_values(view), actor(context)
    with deps(context).db.session() as session:
        followup.record_feedback(
            session,
            who.team_id,
            who.user_id,
            parse_id(view.get("private_metadata"), "That match"),
            rating=values.get("rating"),
            learned=values.get("learned"),
            recommend=values.get("recommend"),
        )
    ack()


def thank_for_feedback(context: BoltContext) -> None:
    slack(context).post_message(actor(context).user_id, "Thank you for your feedback.")
