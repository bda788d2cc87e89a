"""How what the exchange says looks in Slack: the lead's review, a match's introduction
and its buttons, the feedback request (drawn from ``bot.exchange.messages``), and the
member's matches in /exchange and App Home. The forms are in ``forms``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.exchange.messages import FeedbackRequest, Introduction, Review, people
from bot.exchange.stats import Figures, figures_text
from bot.platform.rendering import Rendered, renders
from bot.text import escape, truncate
from handlers.exchange.ids import ExchangeId as Id
from handlers.kit import button, plain_text, section
from storage import ExchangeProgramme

REVIEW_LINES = 30
STATUS_LINES = {
    "introduced": "",
    "date_set": "*A date is set.* Press Done once the exchange has happened.",
    "done": "*Done.* Thank you: look out for a short feedback request.",
    "cancelled": "*This match can't go ahead.* The lead has been told.",
}


def my_matches(lines: list[str], open_now: list[ExchangeProgramme]) -> list[dict[str, Any]]:
    text = "*Your exchange matches*\n" + ("\n".join(lines) or "_No matches yet._")
    if open_now:
        names = ", ".join(f"`{escape(p.name)}`" for p in open_now)
        text += f"\nOpen for sign-up: {names}. Join with `/exchange join <name>`."
    return [section(text)]


def figures(title: str, found: Figures) -> list[dict[str, Any]]:
    """/exchange stats: a lead's programme figures."""
    return [section(figures_text(escape(title), found))]


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
                button("Edit my sign-up" if joined else "Join", Id.JOIN, value=str(programme.id)),
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
                    else button("Run matching", Id.RUN_MATCHING, value=str(programme.id)),
                )
            )
        blocks.append({"type": "actions", "elements": [button("New programme", Id.NEW_PROGRAMME)]})
    return blocks


def exchange_lines(found: Sequence[tuple[str, list[str], str]]) -> list[str]:
    """A member's matches as lines: programme, who with, where it stands."""
    return [
        f"• *{escape(programme)}* with "
        + (", ".join(f"<@{u}>" for u in others) if others else "your set")
        + f": {status.replace('_', ' ')}"
        for programme, others, status in found
    ]


def _long(markdown: str) -> dict[str, Any]:
    """A section whose text may run long (names, reasons): cut to Slack's 3,000 characters."""
    return section(truncate(markdown, 3000))


# ------------------------------------------------------------------- what copbot sends


@renders(Review)
def review(message: Review) -> Rendered:
    """The proposal as the lead sees it: every match with its score and reasons."""
    figures = message.figures
    if message.certificate:
        figures = f"{figures}\n{message.certificate}"
    programme, number = escape(message.programme), message.round_number
    head = f"*Proposed matches for {programme}, round {number}*\n{figures}"
    if message.approved_by:
        head = (
            f"*Matches for {programme}, round {number}: approved by "
            f"<@{message.approved_by}>.* Introductions are on their way.\n{figures}"
        )
    blocks = [_long(head)]
    matches, carried = message.matches, message.carried_over
    lines = [
        f"• {people(m.members)} ({m.score:.1f}): {escape('; '.join(m.reasons))}"
        for m in matches[:REVIEW_LINES]
    ]
    if len(matches) > REVIEW_LINES:
        lines.append(f"…and {len(matches) - REVIEW_LINES} more matches.")
    for start in range(0, len(lines), 10):
        blocks.append(_long("\n".join(lines[start : start + 10])))
    extra = [f"• {people([u])} goes first next round (no fit this time)" for u in carried]
    extra += [
        f"• {people([u])}: {escape(reason)}" for u, reason in sorted(message.unmatchable.items())
    ]
    if extra:
        blocks.append(_long("*Not matched this round*\n" + "\n".join(extra[:20])))
    if not message.approved_by:
        value = str(message.round_id)
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button("Approve", Id.APPROVE, value=value, primary=True),
                    button("Swap", Id.SWAP, value=value),
                    button("Re-run", Id.RERUN, value=value),
                ],
            }
        )
    return Rendered(message.fallback(), blocks)


@renders(Introduction)
def introduction(message: Introduction) -> Rendered:
    """Who, why and the next step; the buttons move the match on."""
    why = "\n".join(f"• {escape(reason)}" for reason in message.reasons)
    blocks = [
        _long(
            f"*You've been matched for {escape(message.programme)}* "
            f"({escape(message.format.lower())}): {people(message.members)}.\n"
            f"*Why you were matched*\n{why}\n*Next step:* {escape(message.next_step)}"
        )
    ]
    if STATUS_LINES.get(message.status):
        blocks.append(_long(STATUS_LINES[message.status]))
    value = str(message.match_id)
    if message.status == "introduced":
        elements = [
            button("We've set a date", Id.DATE_SET, value=value, primary=True),
            button("Done", Id.DONE, value=value),
            button("Can't go ahead", Id.CANCEL, value=value),
        ]
    elif message.status == "date_set":
        elements = [
            button("Done", Id.DONE, value=value, primary=True),
            button("Can't go ahead", Id.CANCEL, value=value),
        ]
    else:
        elements = []
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    return Rendered(message.fallback(), blocks)


@renders(FeedbackRequest)
def feedback_request(message: FeedbackRequest) -> Rendered:
    return Rendered(
        message.fallback(),
        [
            _long(
                f"*How did your {escape(message.programme)} exchange go?* Three quick "
                "questions: a rating, what you learned, and whether you'd recommend it. What "
                "you learned may be shared in the community's learning digest, without your "
                "name."
            ),
            {
                "type": "actions",
                "elements": [button("Give feedback", Id.FEEDBACK, value=str(message.match_id))],
            },
        ],
    )
