"""Block Kit for what the exchange service sends itself: the lead's review, the group
DM introduction, and its follow-ups. People are named by mention only in the DMs they
are in, or in the lead's own review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.blocks import button, section
from bot.text import escape

APPROVE = "exchange_approve"
SWAP = "exchange_swap"
RERUN = "exchange_rerun"
DATE_SET = "exchange_date_set"
DONE = "exchange_done"
CANCEL = "exchange_cancel"
FEEDBACK = "exchange_feedback"
REVIEW_LINES = 30
STATUS_LINES = {
    "introduced": "",
    "date_set": "*A date is set.* Press Done once the exchange has happened.",
    "done": "*Done.* Thank you: look out for a short feedback request.",
    "cancelled": "*This match can't go ahead.* The lead has been told.",
}


def people(members: Sequence[str]) -> str:
    names = [f"<@{m}>" for m in members]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def review_blocks(
    programme: str,
    round_number: int,
    round_id: int,
    matches: Sequence[tuple[Sequence[str], float, Sequence[str]]],
    carried_over: Sequence[str],
    unmatchable: dict[str, str],
    figures: str,
    approved_by: str | None = None,
    certificate: str = "",
) -> list[dict[str, Any]]:
    """The proposal as the lead sees it: every match with its score and reasons."""
    if certificate:
        figures = f"{figures}\n{certificate}"
    head = f"*Proposed matches for {escape(programme)}, round {round_number}*\n{figures}"
    if approved_by:
        head = (
            f"*Matches for {escape(programme)}, round {round_number}: approved by "
            f"<@{approved_by}>.* Introductions are on their way.\n{figures}"
        )
    blocks = [section(head)]
    lines = [
        f"• {people(members)} ({score:.1f}): {escape('; '.join(reasons))}"
        for members, score, reasons in matches[:REVIEW_LINES]
    ]
    if len(matches) > REVIEW_LINES:
        lines.append(f"…and {len(matches) - REVIEW_LINES} more matches.")
    for start in range(0, len(lines), 10):
        blocks.append(section("\n".join(lines[start : start + 10])))
    extra = [f"• {people([u])} goes first next round (no fit this time)" for u in carried_over]
    extra += [f"• {people([u])}: {escape(reason)}" for u, reason in sorted(unmatchable.items())]
    if extra:
        blocks.append(section("*Not matched this round*\n" + "\n".join(extra[:20])))
    if not approved_by:
        value = str(round_id)
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button("Approve", APPROVE, value, "primary"),
                    button("Swap", SWAP, value),
                    button("Re-run", RERUN, value),
                ],
            }
        )
    return blocks


def certificate_line(found: Mapping[str, Any] | None) -> str:
    """One line telling the lead how close the round is to the best possible, from the
    certificate stored with the round (empty for rounds stored without one)."""
    if not found:
        return ""
    kind = found.get("kind", "pairs")
    score, bound = float(found.get("score", 0.0)), float(found.get("bound", 0.0))
    gap = max(0.0, (bound - score) / bound) if bound > 0 else 0.0
    considered = int(found.get("candidate_pairs", 0))
    if kind == "mentoring":
        return (
            f"Certified: the best mentoring assignment of the {considered:,} candidate pairs "
            f"considered (score {score:,.1f})"
        )
    if kind == "sets":
        reference = found.get("reference")
        line = (
            f"Sets: score {score:,.1f}; a simple ceiling (everyone with their best partners) "
            f"is {bound:,.1f}"
        )
        if reference is not None:
            line += f"; the best of several random restarts scored {float(reference):,.1f}"
        return line
    best = (
        "the best possible pairing"
        if found.get("complete")
        else f"the best pairing of the {considered:,} candidate pairs considered"
    )
    return f"Certified: within {gap:.2%} of {best} (score {score:,.1f}, bound {bound:,.1f})"


def intro_text(programme: str, members: Sequence[str]) -> str:
    return f"You've been matched for {programme}: {', '.join(f'<@{m}>' for m in members)}"


def intro_blocks(
    match_id: int,
    programme: str,
    format: str,
    members: Sequence[str],
    reasons: Sequence[str],
    next_step: str,
    status: str = "introduced",
) -> list[dict[str, Any]]:
    why = "\n".join(f"• {escape(reason)}" for reason in reasons)
    blocks = [
        section(
            f"*You've been matched for {escape(programme)}* ({escape(format.lower())}): "
            f"{people(members)}.\n*Why you were matched*\n{why}\n*Next step:* {escape(next_step)}"
        )
    ]
    if STATUS_LINES.get(status):
        blocks.append(section(STATUS_LINES[status]))
    value = str(match_id)
    if status == "introduced":
        elements = [
            button("We've set a date", DATE_SET, value, "primary"),
            button("Done", DONE, value),
            button("Can't go ahead", CANCEL, value),
        ]
    elif status == "date_set":
        elements = [
            button("Done", DONE, value, "primary"),
            button("Can't go ahead", CANCEL, value),
        ]
    else:
        elements = []
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def feedback_request(match_id: int, programme: str) -> tuple[str, list[dict[str, Any]]]:
    text = f"How did your {programme} exchange go?"
    return text, [
        section(
            f"*How did your {escape(programme)} exchange go?* Three quick questions: a rating, "
            "what you learned, and whether you'd recommend it. What you learned may be shared "
            "in the community's learning digest, without your name."
        ),
        {"type": "actions", "elements": [button("Give feedback", FEEDBACK, str(match_id))]},
    ]
