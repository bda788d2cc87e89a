"""Every Slack ID pulses use: actions, modal callbacks and blocks.

The values are what Slack sends back, in payloads of messages and modals already open in
workspaces: never change one. Some are prefixes that a number follows (noted).
"""

from __future__ import annotations

from enum import StrEnum


class PulseId(StrEnum):
    # The member's DM.
    ANSWER = "pulse_answer"  # one-tap button: prefix of pulse_answer_<question>_<value>
    OPEN_FORM = "pulse_open_form"  # "Answer": the full form in a modal
    DM_QUESTION = "pulse_q"  # prefix: a question's section, pulse_q<question>
    DM_BUTTONS = "pulse_a"  # prefix: its row of one-tap buttons, pulse_a<question>
    # The full answer form: its callback, which is also the block of the DM's "Answer"
    # button, and its inputs, q<question>.
    FORM = "pulse_form"
    FORM_QUESTION = "q"  # prefix

    # The designer: its callback and inputs (block and action IDs alike).
    DESIGNER = "pulse_new"
    NAME = "name"
    AUDIENCE = "audience"  # choosing redraws the designer
    CHANNEL = "channel"
    STAFF_GROUP = "staff_group"
    ORGANISATION = "organisation"
    QUESTIONS = "questions"
    OWN_QUESTIONS = "own_questions"
    SCHEDULE = "schedule"  # choosing redraws the designer
    WEEKDAY = "weekday"
    LOCAL_TIME = "local_time"
    OPEN_DAYS = "open_days"
    RESULTS_CHANNEL = "results_channel"
    ANONYMOUS = "anonymous"
    COMMENT_MIN = "comment_min"

    # Results, for the lead: close the loop (the button, the form and its input), or open
    # a challenge from a theme (prefix of pulse_challenge:<theme>).
    RESPOND = "pulse_respond"
    RESPONSE = "pulse_response"
    RESPONSE_TEXT = "response"
    THEME_CHALLENGE = "pulse_challenge"

    # App Home: stop or resume receiving one pulse.
    OPT_OUT = "pulse_opt_out"
    OPT_IN = "pulse_opt_in"


# The designer's inputs that redraw it when chosen (``dispatch_action``).
DESIGNER_CHOICES = (PulseId.AUDIENCE, PulseId.SCHEDULE)
