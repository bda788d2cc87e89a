"""Every Slack ID the nudge settings use: App Home's buttons, the settings modal and its
inputs. The values are what Home tabs already drawn and open modals carry: never change
one. An input's block ID is also its action ID and the name of the field a refusal
points at (``UserError(field=...)`` in ``bot.nudges.send``)."""

from __future__ import annotations

from enum import StrEnum


class NudgeId(StrEnum):
    # Buttons in App Home.
    EDIT = "nudges_edit"
    SNOOZE = "nudges_snooze"
    RESUME = "nudges_resume"

    # The settings modal (callback ID) and its inputs (block IDs).
    SETTINGS = "nudge_settings"
    QUIET_START = "quiet_start"
    QUIET_END = "quiet_end"
    QUIET_WEEKENDS = "quiet_weekends"
    WEEKLY_BUDGET = "weekly_budget"
    OPTED_OUT = "opted_out"
