"""The exchange's forms in Slack: a new programme, the sign-up, the lead's swap and
re-run, and feedback; each drawn, and read back into typed answers for
``bot.exchange.actions`` (choosing a Format redraws the programme and sign-up forms)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from bot.defaults import (
    CAREER_STAGES,
    EXCHANGE_FORMATS,
    IMPROVEMENT_THEMES,
    PERSONAL_INTERESTS,
    STAFF_GROUPS,
)
from bot.exchange.actions import FeedbackAnswers, ProgrammeAnswers, SignupAnswers, SignupForm
from bot.exchange.rounds import WEIGHT_NAMES, parse_weights
from bot.exchange.rules import MENTORING_FORMATS, MODES, ROLES, SET_FORMATS, WEEKDAYS
from bot.text import escape
from handlers.common import form_values
from handlers.exchange.ids import ExchangeId as Id
from handlers.kit import input_block, modal, option, section, static_select

WEIGHT_LABELS = {
    "professional": "Shared professional interests",
    "personal": "Shared personal interests",
    "complementarity": "Can offer what the other wants to learn",
    "cross_organisation": "Different organisations",
    "cross_staff_group": "Different staff groups",
    "career_bridge": "Senior and early-career together",
    "availability": "Free on the same days",
}


def _multi(options: Sequence[str], initial: Sequence[str] = ()) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "multi_static_select",
        "options": [option(o) for o in options][:100],
    }
    chosen = [option(o) for o in initial if o in options]
    if chosen:
        element["initial_options"] = chosen
    return element


def _text(initial: str = "", *, multiline: bool = False, max_length: int = 500) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial
    return element


def programme_modal(today: date, format: str | None = None) -> dict[str, Any]:
    """A new programme; the group size is asked only for sets and the mentees per mentor
    only for mentoring and coaching (choosing a Format redraws the form)."""
    differ = [option("Organisation", "organisation"), option("Staff group", "staff_group")]
    shaped: list[dict[str, Any]] = []
    if format in SET_FORMATS:
        shaped.append(
            input_block(
                Id.GROUP_SIZE,
                "Group size",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "3",
                    "max_value": "8",
                    "initial_value": str(SET_FORMATS[format]),
                },
                optional=True,
                hint=f"3 to 8 people in each {format.lower()}; left empty, {SET_FORMATS[format]}.",
            )
        )
    if format in MENTORING_FORMATS:
        shaped.append(
            input_block(
                Id.CAPACITY,
                "Mentees per mentor",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                    "max_value": "10",
                    "initial_value": "2",
                },
                optional=True,
                hint="Left empty, 2.",
            )
        )
    return modal(
        Id.PROGRAMME_FORM,
        "New exchange",
        "Create",
        [
            input_block(
                Id.NAME,
                "Name",
                {"type": "plain_text_input", "max_length": 40},
                hint="One word, so people can type /exchange join <name>.",
            ),
            input_block(
                Id.FORMAT,
                "Format",
                static_select([option(f) for f in EXCHANGE_FORMATS], format),
                dispatch=True,
            ),
            *shaped,
            input_block(
                Id.DIFFER_BY,
                "Must differ by",
                {"type": "checkboxes", "options": differ, "initial_options": [differ[0]]},
                optional=True,
            ),
            input_block(
                Id.COOLDOWN,
                "No repeat pairs within (months)",
                {"type": "number_input", "is_decimal_allowed": False, "initial_value": "12"},
                optional=True,
            ),
            input_block(
                Id.DEADLINE,
                "Sign-up deadline",
                {"type": "datepicker", "initial_date": (today + timedelta(days=14)).isoformat()},
            ),
            input_block(
                Id.ROUNDS,
                "Rounds",
                static_select(
                    [option("One-off", "one_off"), option("Monthly", "monthly")], "one_off"
                ),
            ),
        ],
    )


def signup_modal(form: SignupForm) -> dict[str, Any]:
    """One form, prefilled from the member's profile or their earlier sign-up. The place
    is asked only for someone who could meet in person (choosing a Format redraws it)."""
    programme, member, organisations, p = (
        form.programme,
        form.member,
        form.organisations,
        form.previous,
    )
    mode = form.mode or (p.mode if p else None) or "either"
    staff_group = (p and p.staff_group) or (member and member.staff_group) or None
    org = (p and p.organisation) or form.organisation
    known_themes = [i for i in (p.professional_interests if p else []) if i in IMPROVEMENT_THEMES]
    other = [i for i in (p.professional_interests if p else []) if i not in IMPROVEMENT_THEMES]
    blocks = [
        section(
            f"*{escape(programme.name)}* · {escape(programme.format)}. Tell me a little about "
            "you so I can find a good match across organisations and professions. Only the "
            "leads running matching see this form's answers."
        ),
        input_block(
            Id.STAFF_GROUP,
            "Staff group",
            static_select([option(g) for g in STAFF_GROUPS], staff_group),
        ),
        input_block(
            Id.ORGANISATION,
            "Organisation",
            static_select([option(o) for o in organisations][:100], org)
            if organisations
            else _text(org, max_length=200),
        ),
        input_block(
            Id.PROFESSIONAL,
            "Professional interests",
            _multi(IMPROVEMENT_THEMES, known_themes),
            optional=True,
            hint="Give at least one interest here, below, or under personal interests: "
            "it is how a good partner is found.",
        ),
        input_block(
            Id.OTHER_INTERESTS,
            "Other professional interests",
            _text(", ".join(other)),
            optional=True,
            hint="Separate with commas.",
        ),
        input_block(
            Id.PERSONAL,
            "Personal interests",
            _multi(PERSONAL_INTERESTS, p.personal_interests if p else ()),
            optional=True,
        ),
        input_block(
            Id.OFFERS,
            "I can offer",
            _text(", ".join(p.offers) if p else ""),
            optional=True,
            hint="Skills or experience you could share, separated with commas.",
        ),
        input_block(
            Id.WANTS,
            "I want to learn",
            _text(", ".join(p.wants) if p else ""),
            optional=True,
        ),
        input_block(
            Id.CAREER_STAGE,
            "Career stage",
            static_select(
                [option(s) for s in CAREER_STAGES],
                CAREER_STAGES[p.career_stage - 1] if p and p.career_stage else None,
            ),
            optional=True,
        ),
        input_block(
            Id.AVAILABILITY,
            "Availability",
            {
                "type": "checkboxes",
                "options": [option(label, code) for code, label in WEEKDAYS.items()],
                **(
                    {
                        "initial_options": [
                            option(WEEKDAYS[c], c) for c in p.availability if c in WEEKDAYS
                        ]
                    }
                    if p and p.availability
                    else {}
                ),
            },
            optional=True,
            hint="Days you could usually be released. None ticked means any day.",
        ),
        input_block(
            Id.MODE,
            "Format",
            static_select([option(label, code) for code, label in MODES.items()], mode),
            dispatch=True,
        ),
    ]
    if mode != "virtual":
        blocks.append(
            input_block(
                Id.LOCALITY,
                "Place",
                _text(p.locality if p else "", max_length=100),
                optional=True,
                hint="Your place or neighbourhood, e.g. Hereford. In-person matches stay local.",
            )
        )
    if programme.format in MENTORING_FORMATS:
        blocks.append(
            input_block(
                Id.ROLE,
                "I would like to be",
                static_select(
                    [option(label, code) for code, label in ROLES.items()],
                    p.role if p else "either",
                ),
            )
        )
    avoid: dict[str, Any] = {"type": "multi_users_select"}
    if p and p.do_not_pair:
        avoid["initial_users"] = list(p.do_not_pair)
    pause = option("Pause me for now", "paused")
    pause_box: dict[str, Any] = {"type": "checkboxes", "options": [pause]}
    if p and p.paused:
        pause_box["initial_options"] = [pause]
    blocks += [
        input_block(
            Id.DO_NOT_PAIR,
            "People I should not be paired with",
            avoid,
            optional=True,
            hint="Only the matcher reads this; nobody is told.",
        ),
        input_block(Id.PAUSED, "Pause", pause_box, optional=True),
    ]
    return modal(
        Id.SIGNUP_FORM,
        "Join an exchange",
        "Save" if p else "Join",
        blocks,
        str(programme.id),
    )


def swap_modal(round_id: int) -> dict[str, Any]:
    return modal(
        Id.SWAP_FORM,
        "Swap two people",
        "Swap",
        [
            section("Choose two people in different matches; they change places."),
            input_block(Id.FIRST, "Person", {"type": "users_select"}),
            input_block(Id.SECOND, "Other person", {"type": "users_select"}),
        ],
        str(round_id),
    )


def rerun_modal(round_id: int, weights: dict[str, float]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        section("Weights from 0 (ignore) to 10. Matching runs again with a fresh shuffle.")
    ]
    for name in WEIGHT_NAMES:
        blocks.append(
            input_block(
                name,
                WEIGHT_LABELS.get(name, name),
                {
                    "type": "number_input",
                    "is_decimal_allowed": True,
                    "min_value": "0",
                    "max_value": "10",
                    "initial_value": f"{weights[name]:g}",
                },
                optional=True,
            )
        )
    return modal(Id.RERUN_FORM, "Re-run matching", "Re-run", blocks, str(round_id))


def feedback_modal(match_id: int, programme: str) -> dict[str, Any]:
    return modal(
        Id.FEEDBACK_FORM,
        "Exchange feedback",
        "Send",
        [
            section(f"How did your *{escape(programme)}* exchange go?"),
            input_block(
                Id.RATING,
                "Rating",
                static_select([option(f"{n} of 5", str(n)) for n in range(5, 0, -1)]),
            ),
            input_block(
                Id.LEARNED,
                "What I learned",
                _text(multiline=True, max_length=3000),
                optional=True,
                hint="May appear in the community's learning digest, without your name.",
            ),
            input_block(
                Id.RECOMMEND,
                "Would you recommend it?",
                {
                    "type": "radio_buttons",
                    "options": [option("Yes", "yes"), option("No", "no")],
                },
                optional=True,
            ),
        ],
        str(match_id),
    )


def programme_answers(view: dict[str, Any]) -> ProgrammeAnswers:
    values = form_values(view)
    deadline = values.get(Id.DEADLINE)
    return ProgrammeAnswers(
        name=values.get(Id.NAME),
        format=values.get(Id.FORMAT),
        group_size=values.get(Id.GROUP_SIZE),
        differ_by=values.get(Id.DIFFER_BY),
        cooldown_months=values.get(Id.COOLDOWN),
        deadline=date.fromisoformat(deadline) if deadline else None,
        recurring=values.get(Id.ROUNDS) == "monthly",
        mentor_capacity=values.get(Id.CAPACITY),
    )


def signup_answers(view: dict[str, Any]) -> SignupAnswers:
    values = form_values(view)
    return SignupAnswers(
        staff_group=values.get(Id.STAFF_GROUP),
        organisation=values.get(Id.ORGANISATION),
        locality=values.get(Id.LOCALITY),
        professional=values.get(Id.PROFESSIONAL),
        personal=values.get(Id.PERSONAL),
        other_interests=values.get(Id.OTHER_INTERESTS),
        offers=values.get(Id.OFFERS),
        wants=values.get(Id.WANTS),
        career_stage=values.get(Id.CAREER_STAGE),
        availability=values.get(Id.AVAILABILITY),
        mode=values.get(Id.MODE),
        role=values.get(Id.ROLE),
        do_not_pair=values.get(Id.DO_NOT_PAIR),
        paused=bool(values.get(Id.PAUSED)),
    )


def swap_answers(view: dict[str, Any]) -> tuple[str, str]:
    """The two people the lead chose to swap ("" for one not chosen)."""
    values = form_values(view)
    return values.get(Id.FIRST) or "", values.get(Id.SECOND) or ""


def rerun_weights(view: dict[str, Any]) -> dict[str, float]:
    """The weights typed in the re-run form (checked: numbers from 0 to 10)."""
    return parse_weights(form_values(view))


def feedback_answers(view: dict[str, Any]) -> FeedbackAnswers:
    values = form_values(view)
    return FeedbackAnswers(
        rating=values.get(Id.RATING),
        learned=values.get(Id.LEARNED),
        recommend=values.get(Id.RECOMMEND),
    )
