"""Ideas' modals, and what their submissions say: capture, similar ideas, a lead's
decision and a new challenge."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.defaults import CHALLENGE_TAGS, IMPROVEMENT_THEMES, STAFF_GROUPS
from bot.ideas.actions import ChallengeForm, DecisionForm, IdeaForm
from bot.ideas.insights import STATUS_LABELS, status_label
from bot.ideas.messages import supporters
from bot.ideas.rules import SETTABLE, IdeaFields
from bot.text import escape
from handlers.common import form_values
from handlers.ideas.ids import IdeaId
from handlers.kit import actions, button, input_block, modal, option, plain_text, section
from storage import Challenge, Idea

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
        input_block(IdeaId.TITLE, "Title", title, hint="One line: what would you change?"),
        input_block(
            IdeaId.DESCRIPTION,
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
        blocks.append(input_block(IdeaId.CHALLENGE, "Challenge", element, optional=True))
    themes: dict[str, Any] = {
        "type": "multi_static_select",
        "options": [option(theme) for theme in IMPROVEMENT_THEMES],
    }
    if prefill.themes:
        themes["initial_options"] = [option(theme) for theme in prefill.themes]
    blocks.append(input_block(IdeaId.THEMES, "Themes", themes, optional=True))
    anonymous = {
        "text": plain_text(ANONYMOUS),
        "value": IdeaId.ANONYMOUS,
        "description": plain_text("Your name is shown nowhere. You still get updates."),
    }
    checkbox: dict[str, Any] = {"type": "checkboxes", "options": [anonymous]}
    if prefill.anonymous:
        checkbox["initial_options"] = [anonymous]
    blocks.append(input_block(IdeaId.ANONYMOUS, ANONYMOUS, checkbox, optional=True))
    return modal(IdeaId.CAPTURE, "Share an idea", "Share", blocks, json.dumps(source or {}))


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
            "Support that one instead", f"{IdeaId.SUPPORT_INSTEAD}_{idea.id}", value=str(idea.id)
        )
        blocks.append(section(_idea_line(idea), instead))
    anyway = button("Post mine anyway", IdeaId.POST_ANYWAY, value=str(draft_id), primary=True)
    blocks.append(actions([anyway]))
    return modal(IdeaId.SIMILAR, "Similar ideas", "Post mine anyway", blocks, str(draft_id))


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
        input_block(IdeaId.STATUS, "Status", status_select),
        input_block(
            IdeaId.RATIONALE,
            "Rationale",
            {"type": "plain_text_input", "multiline": True, "max_length": 3000},
            hint="Why: the author and supporters will read this.",
        ),
        input_block(IdeaId.OWNER, "Owner", owner, optional=True, hint="Needed for In progress."),
        input_block(
            IdeaId.NEXT_REVIEW, "Next review", review, optional=True, hint="Needed for In progress."
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
                IdeaId.MERGE_INTO,
                "Merge into another idea",
                {"type": "static_select", "options": options[:100]},
                optional=True,
                hint="Supporters and updates move to the idea you choose.",
            )
        )
    return modal(IdeaId.DECIDE, "Manage idea", "Save", blocks, str(idea.id))


def challenge_modal(
    today: date, *, title: str = "", description: str = "", channel_id: str | None = None
) -> dict[str, Any]:
    """The new-challenge form, optionally prefilled (a pulse theme opens it that way)."""
    return modal(
        IdeaId.NEW_CHALLENGE,
        "New challenge",
        "Create",
        [
            input_block(
                IdeaId.TITLE,
                "Question",
                {"type": "plain_text_input", "max_length": 150, **_initial(title)},
                hint="Ask the community one clear question.",
            ),
            input_block(
                IdeaId.DESCRIPTION,
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
                IdeaId.TAGS,
                "Tags",
                {"type": "multi_static_select", "options": [option(t) for t in CHALLENGE_TAGS]},
                optional=True,
            ),
            input_block(
                IdeaId.CHANNEL,
                "Channel",
                {
                    "type": "conversations_select",
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                    **({"initial_conversation": channel_id} if channel_id else {}),
                },
            ),
            input_block(
                IdeaId.OPENS, "Opens", {"type": "datepicker", "initial_date": today.isoformat()}
            ),
            input_block(IdeaId.CLOSES, "Closes", {"type": "datepicker"}),
            input_block(
                IdeaId.TARGET_GROUPS,
                "Target groups",
                {"type": "multi_static_select", "options": [option(g) for g in STAFF_GROUPS]},
                optional=True,
                hint="Staff groups you especially want to hear from.",
            ),
        ],
    )


def _initial(value: str) -> dict[str, str]:
    return {"initial_value": value} if value else {}


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def idea_form(view: dict[str, Any]) -> IdeaForm:
    """The capture modal as submitted; its private metadata says where the idea came from."""
    values = form_values(view)
    source = json.loads(view.get("private_metadata") or "{}")
    return IdeaForm(
        title=values.get(IdeaId.TITLE),
        description=values.get(IdeaId.DESCRIPTION),
        themes=values.get(IdeaId.THEMES),
        challenge_id=int(values[IdeaId.CHALLENGE]) if values.get(IdeaId.CHALLENGE) else None,
        anonymous=bool(values.get(IdeaId.ANONYMOUS)),
        source_permalink=source.get("source_permalink"),
        credited_author=source.get("credited_author"),
    )


def decision_form(view: dict[str, Any]) -> DecisionForm:
    """The Manage modal as submitted; its private metadata is the idea's ID."""
    values = form_values(view)
    owner = values.get(IdeaId.OWNER)
    return DecisionForm(
        idea_id=view.get("private_metadata"),
        status=values.get(IdeaId.STATUS),
        rationale=values.get(IdeaId.RATIONALE),
        owner_id=owner if isinstance(owner, str) else None,
        next_review=_day(values.get(IdeaId.NEXT_REVIEW)),
        merge_into=values.get(IdeaId.MERGE_INTO),
    )


def challenge_form(view: dict[str, Any]) -> ChallengeForm:
    values = form_values(view)
    return ChallengeForm(
        title=values.get(IdeaId.TITLE),
        description=values.get(IdeaId.DESCRIPTION),
        tags=values.get(IdeaId.TAGS),
        channel_id=values.get(IdeaId.CHANNEL),
        opens=_day(values.get(IdeaId.OPENS)),
        closes=_day(values.get(IdeaId.CLOSES)),
        target_groups=values.get(IdeaId.TARGET_GROUPS),
    )
