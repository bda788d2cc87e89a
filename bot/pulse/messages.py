"""The member's pulse DM, built by pure functions so scheduled jobs, handlers and tests share it.

Buttons carry a JSON value: run ``r``, question ``q``, value ``v`` and, once the member has
answered, their answer token ``t``. The first DM carries no token (the outbox keeps what it
sends, so a token there would sit beside the member's user ID); the reply to the first
answer replaces the member's own message with one whose buttons carry the token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.blocks import section
from bot.errors import UserError
from bot.ids import MAX_ID
from bot.pulse.questions import NPS_0_10, RANGES, SCALE_1_5
from bot.text import escape, truncate

if TYPE_CHECKING:
    from bot.pulse.results import RunResults

ANSWER_ACTION = "pulse_answer"  # one-tap: a scale or 0-10 button
FORM_ACTION = "pulse_open_form"  # "Answer": the full form in a modal


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


def delivery_text(pulse_name: str, reminder: bool = False) -> str:
    """The notification text (what a phone's lock screen shows)."""
    if reminder:
        return f"A reminder: the {pulse_name} pulse closes soon. It takes seconds to answer."
    return f"The {pulse_name} pulse check is here: a few quick questions."


def delivery_blocks(
    *,
    run_id: int,
    pulse_name: str,
    questions: Sequence[Mapping[str, Any]],
    anonymous: bool,
    anonymity_min: int,
    closes_at: datetime,
    token: str | None = None,
    chosen: Mapping[int, int] | None = None,
    reminder: bool = False,
) -> list[dict[str, Any]]:
    """Scale and 0-10 questions as one-tap buttons; "Answer" opens the full form."""
    chosen = chosen or {}
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": escape(delivery_text(pulse_name, reminder))},
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": privacy_sentence(anonymous, anonymity_min)},
                {
                    "type": "mrkdwn",
                    "text": f"You can change your answers until it closes {_closes(closes_at)}.",
                },
            ],
        },
    ]
    for index, question in enumerate(questions):
        kind = question["kind"]
        blocks.append(
            {
                "type": "section",
                "block_id": f"pulse_q{index}",
                "text": {"type": "mrkdwn", "text": f"*{index + 1}.* {escape(question['text'])}"},
            }
        )
        if kind not in (SCALE_1_5, NPS_0_10):
            continue
        low, high = RANGES[kind]
        buttons = []
        for value in range(low, high + 1):
            button: dict[str, Any] = {
                "type": "button",
                "action_id": f"{ANSWER_ACTION}_{index}_{value}",
                "text": {"type": "plain_text", "text": str(value)},
                "value": button_value(run_id, index, value, token),
            }
            if chosen.get(index) == value:
                button["style"] = "primary"
            buttons.append(button)
        blocks.append({"type": "actions", "block_id": f"pulse_a{index}", "elements": buttons})
    blocks.append(
        {
            "type": "actions",
            "block_id": "pulse_form",
            "elements": [
                {
                    "type": "button",
                    "action_id": FORM_ACTION,
                    "text": {"type": "plain_text", "text": "Answer"},
                    "value": button_value(run_id, None, None, token),
                }
            ],
        }
    )
    return blocks


def results_blocks(results: RunResults) -> list[dict[str, Any]]:
    rate = results.response_rate
    head = (
        f"*Pulse {escape(results.pulse_name)}*: {results.respondents} of {results.invited} answered"
        + (f" ({rate:.0%})" if rate is not None else "")
    )
    if results.withheld:
        return [section(f"{head}\n{escape(results.notice or 'Results are withheld.')}")]
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
            lines.append(f"*By {escape(name)}:* " + ", ".join(f"{escape(g)} {n}" for g, n in rows))
    lines.append(f"_Groups under {results.anonymity_min} people are never shown on their own._")
    return [section(truncate("\n".join(lines), 3000))]
