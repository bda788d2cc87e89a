"""Answers whatever no feature claimed: kindly, and never with an error status."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from handlers.common import ack_only, ack_then, ephemeral, notice_modal

ANYTHING = re.compile(".*")


def register(app: App) -> None:
    app.command(ANYTHING)(unknown_command)
    app.action(ANYTHING)(ack_then(ack_only, explain_stale_action))
    app.view_submission(ANYTHING)(unknown_view)
    app.view_closed(ANYTHING)(ack_only)
    app.shortcut(ANYTHING)(ack_then(ack_only, explain_stale_action))
    app.options(ANYTHING)(no_options)
    app.event(ANYTHING)(ack_only)


def unknown_command(ack: Ack, command: dict[str, Any]) -> None:
    ack(
        ephemeral(
            f"Sorry, `{command.get('command', '')}` isn't something I can do yet. "
            "Type `/copbot help` to see what I can do."
        )
    )


def unknown_view(ack: Ack) -> None:
    ack(
        response_action="update",
        view=notice_modal(
            "Out of date", "Sorry, this form is out of date and was not saved. Please start again."
        ),
    )


def explain_stale_action(body: dict[str, Any], respond: Respond | None) -> None:
    if respond is not None and body.get("response_url"):
        respond(
            text="Sorry, that button no longer does anything. "
            "Type `/copbot help` to see what I can do.",
            response_type="ephemeral",
            replace_original=False,
        )


def no_options(ack: Ack) -> None:
    ack(options=[])
