"""Block Kit for capturing and managing ideas: the modals and ephemeral answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.defaults import CHALLENGE_TAGS, IMPROVEMENT_THEMES, STAFF_GROUPS
from bot.ideas.cards import POST_ANYWAY, supporters
from bot.ideas.insights import (
    STATUS_LABELS,
    Breakdown,
    Engagement,
    IdeaHit,
    IdeaItem,
    TrendingIdea,
    WaitingIdeas,
    status_label,
)
from bot.ideas.service import SETTABLE, IdeaFields
from bot.text import escape, truncate
from handlers.integrity import seal
from handlers.kit import button, input_block, option, plain_text, section
from storage import Challenge, Idea, IdeaStatus

NEW = "idea_new"
SIMILAR = "idea_similar"
MANAGE = "idea_manage"
SUPPORT_INSTEAD = "idea_support_instead"
FROM_MESSAGE = "idea_from_message"
DECLINE_CREDIT = "idea_decline_credit"
ANONYMOUS = "Post anonymously"


def capture_modal(
    prefill: IdeaFields | None, challenges: list[Challenge], *, source: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The one capture modal every path lands in (command, shortcuts, :bulb:, App Home)."""
    prefill = prefill or IdeaFields(title="")
    title: dict[str, Any] = {"type": "plain_text_input", "max_length": 150}
    if prefill.title:
        title["initial_value"] = prefill.title[:150]
    description: dict[str, Any] = {"type": "plain_text_input", "multiline": True}
    description["max_length"] = 3000
    if prefill.description:
        description["initial_value"] = prefill.description[:3000]
    blocks = [
        input_block("title", "Title", title, hint="One line: what would you change?"),
        input_block(
            "description",
            "Description",
            description,
            optional=True,
            hint="What problem does it solve, and for whom? No patient details, please.",
        ),
    ]
    if challenges:
        options = [option(c.title, str(c.id)) for c in challenges][:100]
        element: dict[str, Any] = {"type": "static_select", "options": options}
        chosen = next((o for o in options if o["value"] == str(prefill.challenge_id)), None)
        if chosen:
            element["initial_option"] = chosen
        blocks.append(input_block("challenge", "Challenge", element, optional=True))
    themes: dict[str, Any] = {
        "type": "multi_static_select",
        "options": [option(theme) for theme in IMPROVEMENT_THEMES],
    }
    if prefill.themes:
        themes["initial_options"] = [option(theme) for theme in prefill.themes]
    blocks.append(input_block("themes", "Themes", themes, optional=True))
    anonymous = {
        "text": plain_text(ANONYMOUS),
        "value": "anonymous",
        "description": plain_text("Your name is shown nowhere. You still get updates."),
    }
    checkbox: dict[str, Any] = {"type": "checkboxes", "options": [anonymous]}
    if prefill.anonymous:
        checkbox["initial_options"] = [anonymous]
    blocks.append(input_block("anonymous", ANONYMOUS, checkbox, optional=True))
    return {
        "type": "modal",
        "callback_id": NEW,
        "title": plain_text("Share an idea"),
        "submit": plain_text("Share"),
        "close": plain_text("Cancel"),
        "private_metadata": seal(NEW, json.dumps(source or {})),
        "blocks": blocks,
    }


def _idea_line(idea: Idea) -> str:
    title = f"<{idea.permalink}|{escape(idea.title)}>" if idea.permalink else escape(idea.title)
    return f"*{title}*\n{status_label(idea.status)} · {supporters(idea.supporter_count)}"


def similar_modal(draft_id: int, ideas: list[Idea]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        section(
            "*Ideas like yours are already here.* Supporting one adds your voice to it; "
            "or post yours anyway."
        )
    ]
    for idea in ideas:
        instead = button(
            "Support that one instead", f"{SUPPORT_INSTEAD}_{idea.id}", value=str(idea.id)
        )
        blocks.append(section(_idea_line(idea), instead))
    anyway = button("Post mine anyway", POST_ANYWAY, value=str(draft_id), primary=True)
    blocks.append({"type": "actions", "elements": [anyway]})
    return {
        "type": "modal",
        "callback_id": SIMILAR,
        "title": plain_text("Similar ideas"),
        "submit": plain_text("Post mine anyway"),
        "close": plain_text("Cancel"),
        "private_metadata": seal(SIMILAR, str(draft_id)),
        "blocks": blocks,
    }


def manage_modal(idea: Idea, merge_candidates: list[Idea]) -> dict[str, Any]:
    statuses = [option(STATUS_LABELS[status], status.value) for status in SETTABLE]
    status_select: dict[str, Any] = {"type": "static_select", "options": statuses}
    current = next((o for o in statuses if o["value"] == idea.status), None)
    if current:
        status_select["initial_option"] = current
    owner: dict[str, Any] = {"type": "users_select"}
    if idea.owner_id:
        owner["initial_user"] = idea.owner_id
    review: dict[str, Any] = {"type": "datepicker"}
    if idea.next_review:
        review["initial_date"] = idea.next_review.isoformat()
    blocks = [
        section(f"*{escape(idea.title)}*\nNow: {status_label(idea.status)}"),
        input_block("status", "Status", status_select),
        input_block(
            "rationale",
            "Rationale",
            {"type": "plain_text_input", "multiline": True, "max_length": 3000},
            hint="Why: the author and supporters will read this.",
        ),
        input_block("owner", "Owner", owner, optional=True, hint="Needed for In progress."),
        input_block(
            "next_review", "Next review", review, optional=True, hint="Needed for In progress."
        ),
    ]
    titles = [other.title for other in merge_candidates]
    options = [
        option(
            f"{other.title} (#{other.id})" if titles.count(other.title) > 1 else other.title,
            str(other.id),
        )
        for other in merge_candidates
    ]
    if options:
        blocks.append(
            input_block(
                "merge_into",
                "Merge into another idea",
                {"type": "static_select", "options": options[:100]},
                optional=True,
                hint="Supporters and updates move to the idea you choose.",
            )
        )
    return {
        "type": "modal",
        "callback_id": MANAGE,
        "title": plain_text("Manage idea"),
        "submit": plain_text("Save"),
        "close": plain_text("Cancel"),
        "private_metadata": seal(MANAGE, str(idea.id)),
        "blocks": blocks,
    }


CHALLENGE = "challenge_new"


def challenge_modal(
    today: date, *, title: str = "", description: str = "", channel_id: str | None = None
) -> dict[str, Any]:
    """The new-challenge form, optionally prefilled (a pulse theme opens it that way)."""
    return {
        "type": "modal",
        "callback_id": CHALLENGE,
        "title": plain_text("New challenge"),
        "submit": plain_text("Create"),
        "close": plain_text("Cancel"),
        "blocks": [
            input_block(
                "title",
                "Question",
                {"type": "plain_text_input", "max_length": 150, **_initial(title)},
                hint="Ask the community one clear question.",
            ),
            input_block(
                "description",
                "Description",
                {
                    "type": "plain_text_input",
                    "multiline": True,
                    "max_length": 3000,
                    **_initial(description),
                },
                optional=True,
            ),
            input_block(
                "tags",
                "Tags",
                {"type": "multi_static_select", "options": [option(t) for t in CHALLENGE_TAGS]},
                optional=True,
            ),
            input_block(
                "channel",
                "Channel",
                {
                    "type": "conversations_select",
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                    **({"initial_conversation": channel_id} if channel_id else {}),
                },
            ),
            input_block(
                "opens", "Opens", {"type": "datepicker", "initial_date": today.isoformat()}
            ),
            input_block("closes", "Closes", {"type": "datepicker"}),
            input_block(
                "target_groups",
                "Target groups",
                {"type": "multi_static_select", "options": [option(g) for g in STAFF_GROUPS]},
                optional=True,
                hint="Staff groups you especially want to hear from.",
            ),
        ],
    }


def _initial(value: str) -> dict[str, str]:
    return {"initial_value": value} if value else {}


def _item_line(item: IdeaItem) -> str:
    title = f"<{item.permalink}|{escape(item.title)}>" if item.permalink else escape(item.title)
    return f"• {title}: {item.status_label}, {supporters(item.supporter_count)}"


def item_lines(items: Sequence[IdeaItem], empty: str) -> str:
    return "\n".join(_item_line(item) for item in items) or empty


def search_reply(words: str, hits: list[IdeaHit]) -> tuple[str, list[dict[str, Any]]]:
    if not hits:
        text = f"No ideas match “{escape(words)}”. Try other words, or share yours with `/idea`."
        return text, [section(text)]
    lines = [
        _item_line(hit) + (f" · _{escape(hit.challenge_title)}_" if hit.challenge_title else "")
        for hit in hits
    ]
    text = f"*Ideas matching “{escape(words)}”*\n" + "\n".join(lines)
    return f"Ideas matching “{escape(words)}”", [section(truncate(text, 3000))]


def mine_reply(own: list[IdeaItem], supported: list[IdeaItem]) -> list[dict[str, Any]]:
    return [
        section("*Your ideas*\n" + item_lines(own, "_None yet: share one with `/idea`._")),
        section("*Ideas you support*\n" + item_lines(supported, "_None yet._")),
    ]


def _breakdown(breakdown: Breakdown) -> str:
    if breakdown.suppressed:
        return "_too few people to show_"
    return ", ".join(f"{escape(label)} {people}" for label, people in breakdown.rows()) or "_none_"


def stats_blocks(figures: Engagement) -> list[dict[str, Any]]:
    share = figures.share_decided_within_30_days
    median = figures.median_days_to_decision
    lines = [
        f"*Ideas:* {figures.ideas} · *contributors:* {figures.contributors} · "
        f"*supporters:* {figures.supporters} ({figures.supports} supports)",
        "*By status:* "
        + ", ".join(
            f"{STATUS_LABELS[IdeaStatus(status)]} {count}"
            for status, count in figures.ideas_by_status.items()
            if count
        ),
        f"*Median days to first decision:* {median:.1f}"
        if median is not None
        else "*Median days to first decision:* no decisions yet",
        "*Decided within 30 days:* "
        + (f"{share:.0%} of ideas at least 30 days old" if share is not None else "not yet known"),
        f"*Waiting for review over 14 days:* {figures.waiting_over_14_days}",
        f"*Voices by staff group:* {_breakdown(figures.voices_by_staff_group)}",
        f"*Voices by organisation type:* {_breakdown(figures.voices_by_organisation_type)}",
        f"_Groups under {figures.anonymity_min} people are folded into Other; anonymous "
        "ideas never count in a group._",
    ]
    return [section(truncate("\n".join(lines), 3000))]


def home_blocks(
    own: list[IdeaItem],
    supported: list[IdeaItem],
    trending: list[TrendingIdea],
    waiting: WaitingIdeas | None,
    figures: Engagement | None,
) -> list[dict[str, Any]]:
    """The ideas part of App Home: mine, supported, the week's most supported; for leads,
    what waits for review and the engagement figures."""
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "header", "text": plain_text("Ideas")},
        section("*Your ideas*\n" + item_lines(own, "_None yet._")),
        section("*Ideas you support*\n" + item_lines(supported, "_None yet._")),
        section(
            "*Most supported this week*\n"
            + (
                "\n".join(
                    _item_line(item) + f" (+{item.supports_this_week} this week)"
                    for item in trending
                )
                or "_No support this week yet._"
            )
        ),
    ]
    if waiting is not None:
        blocks.append(
            section(
                f"*Waiting for review over {waiting.days} days:* {waiting.total}\n"
                + item_lines(list(waiting.ideas), "_Nothing waiting. Well done._")
            )
        )
    if figures is not None:
        blocks += stats_blocks(figures)
    return blocks
