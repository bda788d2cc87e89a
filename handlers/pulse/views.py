"""How pulses look in Slack: the member's DM and its buttons, lists, the Home section and
results (the modals are in ``forms``).

DM buttons carry a JSON value: run ``r``, question ``q``, value ``v`` and, once the member
has answered, their answer token ``t`` (see ``bot.pulse.messages.PulseDM``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.errors import UserError
from bot.ids import MAX_ID
from bot.platform.rendering import Rendered, renders
from bot.pulse.messages import LoopClosed, PulseDM, PulseResults, delivery_text
from bot.pulse.questions import (
    NPS_0_10,
    RANGES,
    SCALE_1_5,
)
from bot.pulse.results import RunResults
from bot.pulse.runs import OpenedRun
from bot.pulse.themes import themes
from bot.text import escape, truncate
from handlers.kit import actions, button, context, divider, header, section
from handlers.pulse.ids import PulseId
from storage import Pulse

# ------------------------------------------------------------------------ the member's DM


def privacy_sentence(anonymous: bool, anonymity_min: int) -> str:
    """Who can see what, said plainly before anyone answers."""
    if anonymous:
        return (
            "Nobody, including leads, can see your answers; results are shown only for "
            f"groups of {anonymity_min} or more."
        )
    return "Your name is shown with your answers."


def button_value(run_id: int, question: int | None, value: int | None, token: str | None) -> str:
    payload: dict[str, Any] = {"r": run_id}
    if question is not None:
        payload["q"], payload["v"] = question, value
    if token:
        payload["t"] = token
    return json.dumps(payload, separators=(",", ":"))


NOT_OURS = "That answer button is not one copbot sent."


def parse_button_value(raw: str) -> tuple[int, int | None, int | None, str | None]:
    """(run, question, value, token) from a button; a UserError for anything copbot did
    not send (malformed, or numbers no pulse button holds)."""
    try:
        payload = json.loads(raw)
    except (TypeError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        raise UserError(NOT_OURS)
    run, question, value, token = (payload.get(k) for k in ("r", "q", "v", "t"))
    if not _small_int(run) or run <= 0:
        raise UserError(NOT_OURS)
    if (question is not None and not _small_int(question)) or (
        value is not None and not _small_int(value)
    ):
        raise UserError(NOT_OURS)
    if token is not None and not isinstance(token, str):
        raise UserError(NOT_OURS)
    return run, question, value, token


def _small_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_ID


def _closes(closes_at: datetime) -> str:
    fallback = closes_at.strftime("%d %b %H:%M UTC")
    return f"<!date^{int(closes_at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


@renders(PulseDM)
def pulse_dm(dm: PulseDM) -> Rendered:
    """Scale and 0-10 questions as one-tap buttons; "Answer" opens the full form."""
    blocks: list[dict[str, Any]] = [
        section(escape(delivery_text(dm.pulse_name, dm.reminder))),
        context(
            privacy_sentence(dm.anonymous, dm.anonymity_min),
            f"You can change your answers until it closes {_closes(dm.closes_at)}.",
        ),
    ]
    for index, question in enumerate(dm.questions):
        kind = question["kind"]
        blocks.append(
            {
                **section(f"*{index + 1}.* {escape(question['text'])}"),
                "block_id": f"{PulseId.DM_QUESTION}{index}",
            }
        )
        if kind not in (SCALE_1_5, NPS_0_10):
            continue
        low, high = RANGES[kind]
        buttons = [
            button(
                str(value),
                f"{PulseId.ANSWER}_{index}_{value}",
                value=button_value(dm.run_id, index, value, dm.token),
                primary=dm.chosen.get(index) == value,
            )
            for value in range(low, high + 1)
        ]
        blocks.append(actions(buttons, f"{PulseId.DM_BUTTONS}{index}"))
    answer = button(
        "Answer", PulseId.OPEN_FORM, value=button_value(dm.run_id, None, None, dm.token)
    )
    blocks.append(actions([answer], PulseId.FORM))
    return Rendered(dm.fallback(), blocks)


# ---------------------------------------------------------------------------- lists and Home

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def pulse_list(pulses: list[Pulse]) -> list[dict[str, Any]]:
    if not pulses:
        return [section("No pulses yet. Design one with `/pulse new`.")]
    lines = []
    for pulse in pulses:
        when = (
            f"weekly on {WEEKDAYS[pulse.weekday or 0]}s at {pulse.local_time}"
            if pulse.schedule == "weekly"
            else "one-off"
        )
        state = " · *paused*" if pulse.paused else ""
        who = pulse.audience_kind.replace("_", " ")
        lines.append(
            f"• *{escape(pulse.name)}*: {when}, to {escape(who)}"
            + (f" ({escape(pulse.audience_value)})" if pulse.audience_value else "")
            + f", {'anonymous' if pulse.anonymous else 'attributed'}{state}"
        )
    return [section("\n".join(lines))]


def home_section(pulses: list[tuple[Pulse, bool]]) -> list[dict[str, Any]]:
    """The pulses a member receives, each with a way to stop or resume it."""
    blocks: list[dict[str, Any]] = [
        divider(),
        header("Your pulses"),
    ]
    if not pulses:
        return [*blocks, section("_No pulse is sent to you yet._")]
    for pulse, stopped in pulses[:10]:
        kind = "anonymous" if pulse.anonymous else "attributed: your name is shown"
        state = " · _you asked not to receive it_" if stopped else ""
        accessory = (
            button("Send me this again", PulseId.OPT_IN, value=str(pulse.id))
            if stopped
            else button("Stop sending me this", PulseId.OPT_OUT, value=str(pulse.id))
        )
        blocks.append(section(f"*{escape(pulse.name)}* ({kind}){state}", accessory))
    return blocks


def my_pulses(mine: list[tuple[str, bool]]) -> dict[str, Any]:
    """``/pulse`` for a member: their open pulses and whether they answered."""
    lines = [
        f"• *{escape(name)}*: {'answered' if done else 'waiting in your DMs'}"
        for name, done in mine
    ]
    return section("\n".join(lines) or "No pulse is open for you now. They arrive by DM.")


def sent_now(name: str, opened: OpenedRun) -> str:
    """What ``/pulse send-now`` did, in numbers that add up to its audience."""
    text = (
        f"Sent the {escape(name)} pulse to {opened.queued} "
        f"{'person' if opened.queued == 1 else 'people'} now; "
        f"{opened.outside_working_hours} of them are outside working hours."
    )
    missed = opened.invited - opened.queued
    if missed:
        text += (
            f" {missed} of the {opened.invited} in its audience won't get it: they turned "
            "pulses off, paused copbot's messages or can't be reached."
        )
    return text


# -------------------------------------------------------------------------------- results

THEME_BUTTONS = 3


def results_blocks(results: RunResults) -> list[dict[str, Any]]:
    rate = results.response_rate
    head = (
        f"*Pulse {escape(results.pulse_name)}*: {results.respondents} of {results.invited} answered"
        + (f" ({rate:.0%})" if rate is not None else "")
    )
    if results.withheld:
        notice = escape(results.notice or "Results are withheld.")
        return [section(truncate(f"{head}\n{notice}", 3000))]
    lines = [head]
    for question in results.questions:
        lines.append(f"*{question.index + 1}. {escape(question.text)}*")
        if question.withheld:
            lines.append("_Too few answers to show._")
            continue
        if question.distribution:
            lines.append(" · ".join(f"{escape(label)}: {n}" for label, n in question.distribution))
        if question.mean is not None:
            mean = f"Average {question.mean:.2f}"
            if question.change is not None:
                mean += f" ({question.change:+.2f} since last time)"
            lines.append(mean)
        if question.phrases:
            lines.append("Often said: " + ", ".join(escape(p) for p, _ in question.phrases))
    for name, group in results.breakdowns.items():
        rows = group.respondents.rows()
        if rows:
            named = escape(name.replace("_", " "))  # staff_group -> "By staff group"
            lines.append(f"*By {named}:* " + ", ".join(f"{escape(g)} {n}" for g, n in rows))
    lines.append(f"_Groups under {results.anonymity_min} people are never shown on their own._")
    return [section(truncate("\n".join(lines), 3000))]


@renders(PulseResults)
def results_message(message: PulseResults) -> Rendered:
    """The results, the themes in what people wrote, and for the lead what to do next."""
    blocks = results_blocks(message.results)
    if message.themes:
        lines = "\n".join(f"• {escape(point)}" for point in message.themes)
        note = f"\n_{escape(message.themes_notice)}_" if message.themes_notice else ""
        blocks.append(section(truncate(f"*Themes in what people wrote*\n{lines}{note}", 3000)))
    if message.for_lead:
        blocks.append(lead_actions(message.results))
    return Rendered(message.fallback(), blocks)


def lead_actions(results: RunResults) -> dict[str, Any]:
    """Under the lead's copy: close the loop, or open a challenge from a theme in one step."""
    elements = [button("What we are doing about it", PulseId.RESPOND, value=str(results.run_id))]
    for index, theme in enumerate(themes(results)[:THEME_BUTTONS]):
        label = truncate(f"Open a challenge: {theme}", 75)
        elements.append(
            button(label, f"{PulseId.THEME_CHALLENGE}:{index}", value=f"{results.run_id}:{index}")
        )
    return actions(elements)


@renders(LoopClosed)
def loop_closed(message: LoopClosed) -> Rendered:
    return Rendered(message.fallback(), [section(message.fallback())])
