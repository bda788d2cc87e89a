"""Every action, callback and block ID the exchange uses in Slack, in one place.

The values are what Slack sends back (and what open modals and sent messages in real
workspaces hold): never change one. A form's inputs use their block ID as their action
ID too, and as the name of the field a refusal points at (``UserError(field=...)``). The
re-run form's inputs are named after the matching weights (``rounds.WEIGHT_NAMES``).
"""

from __future__ import annotations

from enum import StrEnum


class ExchangeId(StrEnum):
    # Modals (callback IDs).
    PROGRAMME_FORM = "exchange_programme"
    SIGNUP_FORM = "exchange_signup"
    SWAP_FORM = "exchange_swap_form"
    RERUN_FORM = "exchange_rerun_form"
    FEEDBACK_FORM = "exchange_feedback_form"

    # Buttons in App Home.
    JOIN = "exchange_join"
    RUN_MATCHING = "exchange_run_matching"
    NEW_PROGRAMME = "exchange_new_programme"

    # Buttons on the lead's review.
    APPROVE = "exchange_approve"
    SWAP = "exchange_swap"
    RERUN = "exchange_rerun"

    # Buttons in a match's group DM, and on the feedback request.
    DATE_SET = "exchange_date_set"
    DONE = "exchange_done"
    CANCEL = "exchange_cancel"
    FEEDBACK = "exchange_feedback"

    # The programme form's inputs; choosing a FORMAT redraws the form.
    NAME = "name"
    FORMAT = "format"
    GROUP_SIZE = "group_size"
    CAPACITY = "capacity"
    DIFFER_BY = "differ_by"
    COOLDOWN = "cooldown"
    DEADLINE = "deadline"
    ROUNDS = "rounds"

    # The sign-up form's inputs; choosing a MODE (in person, virtual) redraws the form.
    STAFF_GROUP = "staff_group"
    ORGANISATION = "organisation"
    PROFESSIONAL = "professional"
    OTHER_INTERESTS = "other_interests"
    PERSONAL = "personal"
    OFFERS = "offers"
    WANTS = "wants"
    CAREER_STAGE = "career_stage"
    AVAILABILITY = "availability"
    MODE = "mode"
    LOCALITY = "locality"
    ROLE = "role"
    DO_NOT_PAIR = "do_not_pair"
    PAUSED = "paused"

    # The swap form's inputs.
    FIRST = "first"
    SECOND = "second"

    # The feedback form's inputs.
    RATING = "rating"
    LEARNED = "learned"
    RECOMMEND = "recommend"
