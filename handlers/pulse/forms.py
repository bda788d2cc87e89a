"""The pulse modals and reading them back: the designer (redrawn as its audience and
schedule change), the full answer form, and the lead's close-the-loop form."""

from __future__ import annotations

import json
from typing import Any

from bot.defaults import STAFF_GROUPS
from bot.errors import UserError
from bot.pulse.actions import Design
from bot.pulse.questions import (
    FREE_TEXT,
    NPS_0_10,
    SCALE_1_5,
    STARTER_QUESTIONS,
    YES_NO,
    Answer,
)
from bot.text import escape, truncate
from handlers.common import form_values
from handlers.kit import input_block, modal, option, plain_text, section, static_select
from handlers.pulse.ids import PulseId
from handlers.pulse.views import WEEKDAYS
from storage import Organisation

AUDIENCES = (
    ("Everyone", "everyone"),
    ("Members of a channel", "channel"),
    ("A staff group", "staff_group"),
    ("An organisation", "organisation"),
)


def designer_modal(
    organisations: list[Organisation], audience: str = "everyone", schedule: str = "one_off"
) -> dict[str, Any]:
    """The pulse designer, asking only what applies: the channel, staff group or
    organisation for the audience chosen, the day only for a weekly pulse. Choosing an
    audience or a schedule redraws it (``dispatch_action``)."""
    audiences = [
        option(label, value)
        for label, value in AUDIENCES
        if value != "organisation" or organisations
    ]
    starters = [option(q["text"], str(n)) for n, q in enumerate(STARTER_QUESTIONS)]
    anonymous = {
        "text": plain_text("Anonymous"),
        "value": "anonymous",
        "description": plain_text("Answers are stored with no link to anyone."),
    }
    blocks = [
        input_block(
            PulseId.NAME,
            "Name",
            {"type": "plain_text_input", "max_length": 40},
            hint="One word, so it can be typed: /pulse results weekly",
        ),
        input_block(
            PulseId.AUDIENCE,
            "Audience",
            static_select(audiences, audience),
            dispatch=True,
        ),
    ]
    if audience == "channel":
        blocks.append(
            input_block(
                PulseId.CHANNEL,
                "Channel",
                {"type": "conversations_select", "filter": {"include": ["public", "private"]}},
                hint="Its members get the pulse.",
            )
        )
    elif audience == "staff_group":
        blocks.append(
            input_block(
                PulseId.STAFF_GROUP,
                "Staff group",
                static_select([option(group) for group in STAFF_GROUPS]),
            )
        )
    elif audience == "organisation" and organisations:
        blocks.append(
            input_block(
                PulseId.ORGANISATION,
                "Organisation",
                static_select([option(org.name) for org in organisations][:100]),
            )
        )
    blocks += [
        input_block(
            PulseId.QUESTIONS,
            "Questions",
            {"type": "checkboxes", "options": starters},
            optional=True,
            hint="From the starter bank, your own below, or both: one question at least, "
            "five at most.",
        ),
        input_block(
            PulseId.OWN_QUESTIONS,
            "Your own questions",
            {"type": "plain_text_input", "multiline": True},
            optional=True,
            hint="One a line. Start with 1-5:, 0-10: or yes/no: for a scale; others are free text.",
        ),
        input_block(
            PulseId.SCHEDULE,
            "Schedule",
            static_select([option("One-off", "one_off"), option("Weekly", "weekly")], schedule),
            dispatch=True,
        ),
    ]
    if schedule == "weekly":
        blocks.append(
            input_block(
                PulseId.WEEKDAY,
                "Day",
                static_select([option(day, str(n)) for n, day in enumerate(WEEKDAYS)], "0"),
            )
        )
    blocks += [
        input_block(
            PulseId.LOCAL_TIME,
            "Time",
            {"type": "timepicker", "initial_time": "09:30"},
            hint="In each member's own time zone.",
        ),
        input_block(
            PulseId.OPEN_DAYS,
            "Open for (days)",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": "14",
                "initial_value": "3",
            },
        ),
        input_block(
            PulseId.RESULTS_CHANNEL,
            "Results channel",
            {"type": "conversations_select", "filter": {"include": ["public", "private"]}},
            optional=True,
            hint="Results always go to you; also post them here (never below the minimum).",
        ),
        input_block(
            PulseId.ANONYMOUS,
            "Anonymous",
            {"type": "checkboxes", "options": [anonymous], "initial_options": [anonymous]},
            optional=True,
        ),
        input_block(
            PulseId.COMMENT_MIN,
            "Comment minimum",
            {"type": "number_input", "is_decimal_allowed": False, "min_value": "3"},
            optional=True,
            hint="Show written answers only when at least this many people wrote (e.g. 10). "
            "Never fewer than the anonymity minimum.",
        ),
    ]
    return modal(PulseId.DESIGNER, "New pulse", "Create", blocks)


def design_from(view: dict[str, Any]) -> Design:
    """The designer's answers, read back; a number that isn't one names its field."""
    values = form_values(view)
    audience = values.get(PulseId.AUDIENCE) or "everyone"
    value = {
        "channel": values.get(PulseId.CHANNEL),
        "staff_group": values.get(PulseId.STAFF_GROUP),
        "organisation": values.get(PulseId.ORGANISATION),
    }.get(audience)
    try:
        open_days = int(values.get(PulseId.OPEN_DAYS) or "3")
    except ValueError:
        raise UserError("Enter a whole number of days.", field=PulseId.OPEN_DAYS) from None
    try:
        comment_min = int(values[PulseId.COMMENT_MIN]) if values.get(PulseId.COMMENT_MIN) else None
    except ValueError:
        raise UserError("Enter a whole number of people.", field=PulseId.COMMENT_MIN) from None
    return Design(
        name=values.get(PulseId.NAME) or "",
        audience_kind=audience,
        audience_value=value,
        questions=questions_from(
            values.get(PulseId.QUESTIONS) or [], values.get(PulseId.OWN_QUESTIONS)
        ),
        schedule=values.get(PulseId.SCHEDULE) or "one_off",
        weekday=int(values[PulseId.WEEKDAY]) if values.get(PulseId.WEEKDAY) else None,
        local_time=values.get(PulseId.LOCAL_TIME),
        open_days=open_days,
        anonymous=bool(values.get(PulseId.ANONYMOUS)),
        results_channel=values.get(PulseId.RESULTS_CHANNEL),
        comment_min=comment_min,
    )


PREFIXES = {"1-5:": SCALE_1_5, "0-10:": NPS_0_10, "yes/no:": YES_NO}


def questions_from(chosen: list[str], own: str | None) -> list[dict[str, Any]]:
    """Starter questions picked by number, then the lead's own, one a line."""
    starters = [str(n) for n in range(len(STARTER_QUESTIONS))]
    if any(n not in starters for n in chosen):
        raise UserError("Choose questions from the list.", field=PulseId.QUESTIONS)
    questions = [dict(STARTER_QUESTIONS[int(n)]) for n in chosen]
    for line in (own or "").splitlines():
        line = line.strip()
        kind = next((k for prefix, k in PREFIXES.items() if line.lower().startswith(prefix)), None)
        text = line.split(":", 1)[1].strip() if kind else line
        if line:
            questions.append({"kind": kind or FREE_TEXT, "text": text})
    return questions


def answer_form(
    pulse_name: str, questions: list[dict[str, Any]], metadata: dict[str, Any]
) -> dict[str, Any]:
    """Every question in one modal; scale answers as radio buttons, text as text."""
    blocks = []
    for index, question in enumerate(questions):
        kind, label = question["kind"], truncate(question["text"], 2000)
        block_id = f"{PulseId.FORM_QUESTION}{index}"
        if kind == FREE_TEXT:
            element: dict[str, Any] = {
                "type": "plain_text_input",
                "multiline": True,
                "max_length": 3000,
            }
        elif kind == YES_NO:
            element = {"type": "radio_buttons", "options": [option("Yes", "1"), option("No", "0")]}
        elif kind in (SCALE_1_5, NPS_0_10):
            low, high = (1, 5) if kind == SCALE_1_5 else (0, 10)
            element = static_select([option(str(n), str(n)) for n in range(low, high + 1)])
        else:
            choices = question.get("options") or []
            element = static_select([option(text, str(n)) for n, text in enumerate(choices)])
        blocks.append(input_block(block_id, label[:2000], element, optional=True))
    title = truncate(f"Pulse: {pulse_name}", 24)
    return modal(PulseId.FORM, title, "Send", blocks, json.dumps(metadata))


def answers_from(view: dict[str, Any]) -> list[Answer]:
    """The full form's answers: a number for a scale or choice, else the text written."""
    answers = []
    for key, value in form_values(view).items():
        if not key.startswith(PulseId.FORM_QUESTION) or value in (None, ""):
            continue
        index = int(key.removeprefix(PulseId.FORM_QUESTION))
        if isinstance(value, str) and value.lstrip("-").isdigit():
            answers.append(Answer(question=index, value=int(value)))
        else:
            answers.append(Answer(question=index, text=str(value)))
    if not answers:
        raise UserError("Answer at least one question.")
    return answers


def response_modal(run_id: int, pulse_name: str) -> dict[str, Any]:
    blocks = [
        section(f"Everyone who answered the *{escape(pulse_name)}* pulse will get this by DM."),
        input_block(
            PulseId.RESPONSE_TEXT,
            "What we are doing about it",
            {"type": "plain_text_input", "multiline": True, "max_length": 2000},
        ),
    ]
    return modal(PulseId.RESPONSE, "Close the loop", "Send", blocks, str(run_id))
