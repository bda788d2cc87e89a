"""Block Kit for exchanges: the programme form, the sign-up form, the lead's swap and
re-run forms, feedback, and what members see of their matches."""

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
from bot.exchange.actions import SignupForm
from bot.exchange.service import (
    MENTORING_FORMATS,
    MODES,
    ROLES,
    SET_FORMATS,
    WEEKDAYS,
    WEIGHT_NAMES,
)
from bot.exchange.stats import Figures
from bot.text import escape
from handlers.kit import button, input_block, modal, option, plain_text, section, static_select
from storage import ExchangeProgramme

PROGRAMME = "exchange_programme"
SIGNUP = "exchange_signup"
SWAP_FORM = "exchange_swap_form"
RERUN_FORM = "exchange_rerun_form"
FEEDBACK_FORM = "exchange_feedback_form"
JOIN = "exchange_join"
RUN_MATCHING = "exchange_run_matching"
NEW_PROGRAMME = "exchange_new_programme"
PROGRAMME_CHOICE = "format"  # the programme form's Format redraws it
SIGNUP_CHOICE = "mode"  # the sign-up's Format (in person, virtual) redraws it
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
                "group_size",
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
                "capacity",
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
        PROGRAMME,
        "New exchange",
        "Create",
        [
            input_block(
                "name",
                "Name",
                {"type": "plain_text_input", "max_length": 40},
                hint="One word, so people can type /exchange join <name>.",
            ),
            input_block(
                "format",
                "Format",
                static_select([option(f) for f in EXCHANGE_FORMATS], format),
                dispatch=True,
            ),
            *shaped,
            input_block(
                "differ_by",
                "Must differ by",
                {"type": "checkboxes", "options": differ, "initial_options": [differ[0]]},
                optional=True,
            ),
            input_block(
                "cooldown",
                "No repeat pairs within (months)",
                {"type": "number_input", "is_decimal_allowed": False, "initial_value": "12"},
                optional=True,
            ),
            input_block(
                "deadline",
                "Sign-up deadline",
                {"type": "datepicker", "initial_date": (today + timedelta(days=14)).isoformat()},
            ),
            input_block(
                "rounds",
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
            "staff_group",
            "Staff group",
            static_select([option(g) for g in STAFF_GROUPS], staff_group),
        ),
        input_block(
            "organisation",
            "Organisation",
            static_select([option(o) for o in organisations][:100], org)
            if organisations
            else _text(org, max_length=200),
        ),
        input_block(
            "professional",
            "Professional interests",
            _multi(IMPROVEMENT_THEMES, known_themes),
            optional=True,
            hint="Give at least one interest here, below, or under personal interests: "
            "it is how a good partner is found.",
        ),
        input_block(
            "other_interests",
            "Other professional interests",
            _text(", ".join(other)),
            optional=True,
            hint="Separate with commas.",
        ),
        input_block(
            "personal",
            "Personal interests",
            _multi(PERSONAL_INTERESTS, p.personal_interests if p else ()),
            optional=True,
        ),
        input_block(
            "offers",
            "I can offer",
            _text(", ".join(p.offers) if p else ""),
            optional=True,
            hint="Skills or experience you could share, separated with commas.",
        ),
        input_block(
            "wants",
            "I want to learn",
            _text(", ".join(p.wants) if p else ""),
            optional=True,
        ),
        input_block(
            "career_stage",
            "Career stage",
            static_select(
                [option(s) for s in CAREER_STAGES],
                CAREER_STAGES[p.career_stage - 1] if p and p.career_stage else None,
            ),
            optional=True,
        ),
        input_block(
            "availability",
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
            "mode",
            "Format",
            static_select([option(label, code) for code, label in MODES.items()], mode),
            dispatch=True,
        ),
    ]
    if mode != "virtual":
        blocks.append(
            input_block(
                "locality",
                "Place",
                _text(p.locality if p else "", max_length=100),
                optional=True,
                hint="Your place or neighbourhood, e.g. Hereford. In-person matches stay local.",
            )
        )
    if programme.format in MENTORING_FORMATS:
        blocks.append(
            input_block(
                "role",
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
            "do_not_pair",
            "People I should not be paired with",
            avoid,
            optional=True,
            hint="Only the matcher reads this; nobody is told.",
        ),
        input_block("paused", "Pause", pause_box, optional=True),
    ]
    return modal(
        SIGNUP,
        "Join an exchange",
        "Save" if p else "Join",
        blocks,
        str(programme.id),
    )


def swap_modal(round_id: int) -> dict[str, Any]:
    return modal(
        SWAP_FORM,
        "Swap two people",
        "Swap",
        [
            section("Choose two people in different matches; they change places."),
            input_block("first", "Person", {"type": "users_select"}),
            input_block("second", "Other person", {"type": "users_select"}),
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
    return modal(RERUN_FORM, "Re-run matching", "Re-run", blocks, str(round_id))


def feedback_modal(match_id: int, programme: str) -> dict[str, Any]:
    return modal(
        FEEDBACK_FORM,
        "Exchange feedback",
        "Send",
        [
            section(f"How did your *{escape(programme)}* exchange go?"),
            input_block(
                "rating",
                "Rating",
                static_select([option(f"{n} of 5", str(n)) for n in range(5, 0, -1)]),
            ),
            input_block(
                "learned",
                "What I learned",
                _text(multiline=True, max_length=3000),
                optional=True,
                hint="May appear in the community's learning digest, without your name.",
            ),
            input_block(
                "recommend",
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


def my_matches(lines: list[str], open_now: list[ExchangeProgramme]) -> list[dict[str, Any]]:
    text = "*Your exchange matches*\n" + ("\n".join(lines) or "_No matches yet._")
    if open_now:
        names = ", ".join(f"`{escape(p.name)}`" for p in open_now)
        text += f"\nOpen for sign-up: {names}. Join with `/exchange join <name>`."
    return [section(text)]


def home_section(
    open_now: Sequence[ExchangeProgramme],
    signed_up: set[int],
    lines: list[str],
    lead_programmes: Sequence[tuple[ExchangeProgramme, Figures]] | None,
) -> list[dict[str, Any]]:
    """Exchanges open to join, the member's matches, and for leads each programme with
    its sign-ups and a way to run matching."""
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "header", "text": plain_text("Exchanges")},
    ]
    for programme in open_now[:5]:
        closes = programme.signup_deadline
        joined = (programme.id or 0) in signed_up
        blocks.append(
            section(
                f"*{escape(programme.name)}* · {escape(programme.format)} · sign-ups close "
                f"{closes:%-d %b}" + (" · _you're signed up_" if joined else ""),
                button("Edit my sign-up" if joined else "Join", JOIN, value=str(programme.id)),
            )
        )
    blocks.append(section("*Your matches*\n" + ("\n".join(lines) or "_None yet._")))
    if lead_programmes is not None:
        for programme, found in lead_programmes[:8]:
            state = "finished" if programme.closed_at else f"round {programme.round_number}"
            across = (
                f" · {found.cross_organisation:.0%} across organisations"
                if found.cross_organisation is not None
                else ""
            )
            blocks.append(
                section(
                    f"*{escape(programme.name)}* ({state}): {found.sign_ups} signed up · "
                    f"{found.matches} matches · {found.completed} done{across}",
                    None
                    if programme.closed_at
                    else button("Run matching", RUN_MATCHING, value=str(programme.id)),
                )
            )
        blocks.append({"type": "actions", "elements": [button("New programme", NEW_PROGRAMME)]})
    return blocks


def exchange_lines(found: Sequence[tuple[str, list[str], str]]) -> list[str]:
    """A member's matches as lines: programme, who with, where it stands."""
    return [
        f"• *{escape(programme)}* with "
        + (", ".join(f"<@{u}>" for u in others) if others else "your set")
        + f": {status.replace('_', ' ')}"
        for programme, others, status in found
    ]
