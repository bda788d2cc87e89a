"""How nudges look in Slack: a member's settings in App Home and its modal, the nudges
themselves, and ``/copbot schedule`` for leads."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.nudges.actions import NudgeSettings, Schedule
from bot.nudges.messages import ChallengeNudge, IdeasAwaitingReview
from bot.nudges.rules import KINDS
from bot.platform.rendering import Rendered, renders
from bot.text import escape
from handlers.common import form_values
from handlers.kit import button, input_block, plain_text, section
from handlers.nudges.ids import NudgeId
from storage import NudgePreference


def _kind_option(key: str) -> dict[str, Any]:
    return {"text": plain_text(KINDS[key].label), "value": key}


def home_section(preference: NudgePreference, now: datetime) -> list[dict[str, Any]]:
    quiet = f"{preference.quiet_start:%H:%M}–{preference.quiet_end:%H:%M}"
    if preference.quiet_weekends:
        quiet += " and weekends"
    lines = [
        f"*Quiet hours:* {quiet} (your time)",
        f"*Reminders:* up to {preference.weekly_budget} a week",
    ]
    kinds = [KINDS[key].label for key in preference.opted_out if key in KINDS]
    if kinds:
        lines.append("*Not sent:* " + ", ".join(kinds))
    snoozed = preference.snoozed_until is not None and preference.snoozed_until > now
    if snoozed and preference.snoozed_until is not None:
        lines.append(f"*Snoozed until* {preference.snoozed_until:%A %d %B}")
    if preference.undeliverable_since is not None:
        lines.append("_copbot couldn't reach you by DM; it will try again when you use it._")
    return [
        {"type": "divider"},
        {"type": "header", "text": plain_text("Your nudges")},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "\n".join(lines)},
            "accessory": button("Nudge settings", NudgeId.EDIT),
        },
        {
            "type": "actions",
            "elements": [
                button("Resume nudges", NudgeId.RESUME)
                if snoozed
                else button("Snooze for a week", NudgeId.SNOOZE)
            ],
        },
    ]


def settings_modal(preference: NudgePreference) -> dict[str, Any]:
    weekends = {"text": plain_text("Quiet at weekends"), "value": "weekends"}
    weekend_box: dict[str, Any] = {"type": "checkboxes", "options": [weekends]}
    if preference.quiet_weekends:
        weekend_box["initial_options"] = [weekends]
    kinds: dict[str, Any] = {
        "type": "checkboxes",
        "options": [_kind_option(key) for key in KINDS],
    }
    chosen = [_kind_option(key) for key in preference.opted_out if key in KINDS]
    if chosen:
        kinds["initial_options"] = chosen

    return {
        "type": "modal",
        "callback_id": NudgeId.SETTINGS,
        "title": plain_text("Nudge settings"),
        "submit": plain_text("Save"),
        "close": plain_text("Cancel"),
        "blocks": [
            input_block(
                NudgeId.QUIET_START,
                "Quiet from",
                {"type": "timepicker", "initial_time": f"{preference.quiet_start:%H:%M}"},
            ),
            input_block(
                NudgeId.QUIET_END,
                "Quiet until",
                {"type": "timepicker", "initial_time": f"{preference.quiet_end:%H:%M}"},
            ),
            input_block(NudgeId.QUIET_WEEKENDS, "Weekends", weekend_box, optional=True),
            input_block(
                NudgeId.WEEKLY_BUDGET,
                "Reminders a week",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "0",
                    "max_value": "20",
                    "initial_value": str(preference.weekly_budget),
                },
                hint="Pulse checks you are asked to answer don't count.",
            ),
            input_block(NudgeId.OPTED_OUT, "Don't send me", kinds, optional=True),
        ],
    }


def settings_form(view: dict[str, Any]) -> NudgeSettings:
    """The settings form as submitted; a time or number that doesn't parse is refused on
    its field."""
    values = form_values(view)
    try:
        budget = int(values.get(NudgeId.WEEKLY_BUDGET) or "")
    except ValueError:
        raise UserError("Enter a whole number.", field=NudgeId.WEEKLY_BUDGET) from None
    return NudgeSettings(
        quiet_start=_time(values.get(NudgeId.QUIET_START), NudgeId.QUIET_START),
        quiet_end=_time(values.get(NudgeId.QUIET_END), NudgeId.QUIET_END),
        quiet_weekends=bool(values.get(NudgeId.QUIET_WEEKENDS)),
        weekly_budget=budget,
        opted_out=values.get(NudgeId.OPTED_OUT) or [],
    )


def _time(value: str | None, field: str) -> time:
    try:
        return time.fromisoformat(value or "")
    except ValueError:
        raise UserError("Choose a time.", field=field) from None


def schedule_blocks(schedule: Schedule) -> list[dict[str, Any]]:
    """For leads: what runs next and what waits to be sent."""
    upcoming, backlog, delivered = schedule.upcoming, schedule.backlog, schedule.delivered
    timezone = schedule.timezone
    zone = ZoneInfo(timezone)
    jobs = "\n".join(
        f"• {escape(name)}: {when.astimezone(zone):%a %d %b %H:%M}" if when else f"• {name}: paused"
        for name, when in upcoming
    )
    lines = [
        f"*Upcoming* (times in {timezone})",
        jobs or "_No jobs yet: they appear once a copbot process leads the scheduler._",
        f"*Outbox:* {backlog.get('pending_due', 0)} waiting to go now, "
        f"{backlog.get('pending_later', 0)} scheduled for later (quiet hours and dates), "
        f"{backlog.get('sending', 0)} being sent",
        "*Delivered by this process:* "
        + ", ".join(
            f"{delivered.get(key, 0)} {label}"
            for key, label in (
                ("sent", "sent"),
                ("retried", "retried"),
                ("undeliverable", "undeliverable"),
                ("rate_limit_waits", "rate-limit waits"),
            )
        ),
    ]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]


@renders(ChallengeNudge)
def challenge_nudge(message: ChallengeNudge) -> Rendered:
    return Rendered(message.fallback(), [section(message.fallback())])


@renders(IdeasAwaitingReview)
def ideas_awaiting_review(message: IdeasAwaitingReview) -> Rendered:
    return Rendered(message.fallback(), [section(message.fallback())])
