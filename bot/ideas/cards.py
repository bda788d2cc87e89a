"""Messages copbot posts about ideas: the idea card and the "you said, we did" DM.

Pure functions from data to Block Kit, so a handler, a scheduled job or the sandbox
sends the same thing. Everything people typed is escaped; names are shown as text,
not mentions, so a card never pings anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.blocks import button, section
from bot.ideas.insights import STATUS_LABELS, status_label
from bot.text import counted, escape, plain, truncate
from storage import Challenge, Idea, IdeaStatus

if TYPE_CHECKING:
    from bot.ideas.challenges import Summary

STATUS_ICONS = {
    IdeaStatus.NEW: "🆕",
    IdeaStatus.UNDER_REVIEW: "🔎",
    IdeaStatus.IN_PROGRESS: "🚧",
    IdeaStatus.IMPLEMENTED: "✅",
    IdeaStatus.NOT_TAKEN_FORWARD: "⏹️",
    IdeaStatus.MERGED: "🔀",
}

SUPPORT, UNSUPPORT, DISCUSS, MANAGE = (
    "idea_support",
    "idea_unsupport",
    "idea_discuss",
    "idea_manage",
)
POST_ANYWAY = "idea_post_anyway"  # post a waiting draft: the similar-ideas step, a kept draft


@dataclass(frozen=True)
class CardContext:
    """What a card shows besides the idea itself, looked up by the caller."""

    author: str | None  # None for anonymous ideas
    submitted_by: str | None = None  # when someone else shared the author's words
    owner: str | None = None
    challenge: str | None = None
    merged_into: Idea | None = None


def supporters(count: int) -> str:
    """ "1 supporter", "N supporters" (the card's count, as DESIGN.md names it)."""
    return counted(count, "supporter")


def _link(url: str | None, text: str) -> str:
    return f"<{url}|{escape(text)}>" if url else escape(text)


def idea_card(idea: Idea, context: CardContext) -> tuple[str, list[dict[str, Any]]]:
    """The card in the ideas channel: (fallback text, blocks)."""
    status = IdeaStatus(idea.status)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(truncate(idea.title, 150))}}
    ]
    if idea.description:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": escape(idea.description, limit=2900)},
            }
        )
    fields = [
        f"*Status:* {STATUS_ICONS[status]} {STATUS_LABELS[status]}",
        f"*Support:* {supporters(idea.supporter_count)}",
    ]
    if idea.themes:
        fields.append("*Themes:* " + escape(", ".join(idea.themes)))
    if context.challenge:
        fields.append("*Challenge:* " + escape(context.challenge))
    blocks.append(
        {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in fields]}
    )
    if idea.rationale:
        decision = f"*Latest decision:* {escape(idea.rationale, limit=2500)}"
        if context.owner:
            decision += f"\n*Owner:* {escape(context.owner)}"
        if idea.next_review:
            decision += f"\n*Next review:* {idea.next_review.isoformat()}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": decision}})
    if context.merged_into is not None:
        target = context.merged_into
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Merged into:* "
                    + _link(target.permalink, target.title)
                    + ". Support and discussion continue there.",
                },
            }
        )
    byline = f"By {escape(context.author)}" if context.author else "Anonymous"
    if context.author and context.submitted_by and context.submitted_by != context.author:
        byline += f", shared by {escape(context.submitted_by)}"
    if idea.source_permalink:
        byline += f" · <{idea.source_permalink}|original message>"
    byline += f" · idea #{idea.id} · {idea.created_at:%d %b %Y}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": byline}]})
    value = str(idea.id)
    if status is IdeaStatus.MERGED:
        buttons = [button("Discuss", DISCUSS, value)]
    else:
        buttons = [
            button("Support", SUPPORT, value, style="primary"),
            button("Unsupport", UNSUPPORT, value),
            button("Discuss", DISCUSS, value),
            button("Manage", MANAGE, value),
        ]
    blocks.append({"type": "actions", "block_id": f"idea_{idea.id}", "elements": buttons})
    fallback = (
        f"Idea: {escape(idea.title)} ({STATUS_LABELS[status]}, {supporters(idea.supporter_count)})"
    )
    return fallback, blocks


def status_dm(
    idea: Idea, *, owner: str | None, next_review: date | None
) -> tuple[str, list[dict[str, Any]]]:
    """ "You said, we did": what was decided about an idea someone cares about, and why."""
    label = status_label(idea.status)
    title = _link(idea.permalink, idea.title)
    lines = [f"*You said, we did.* The idea {title} is now *{label}*."]
    if idea.rationale:
        lines.append("> " + escape(idea.rationale, limit=2500).replace("\n", "\n> "))
    if owner:
        lines.append(f"Owner: {escape(owner)}")
    if next_review:
        lines.append(f"Next review: {next_review.isoformat()}")
    text = "\n".join(lines)
    return f"Update on “{escape(idea.title)}”: now {label}", [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    ]


def merged_dm(source: Idea, target: Idea) -> tuple[str, list[dict[str, Any]]]:
    text = (
        f"*You said, we did.* The idea {_link(source.permalink, source.title)} was merged into "
        f"{_link(target.permalink, target.title)}, which now has "
        f"{supporters(target.supporter_count)}. Your support and updates carry over to it."
    )
    if source.rationale:
        text += "\n> " + escape(source.rationale, limit=2500).replace("\n", "\n> ")
    return f"“{escape(source.title)}” was merged into “{escape(target.title)}”", [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    ]


def kept_draft_dm(draft_id: int, title: str) -> tuple[str, list[dict[str, Any]]]:
    """The idea whose card Slack refused, kept for the person to post again in one tap."""
    text = (
        f"Slack didn't take the card for your idea *{escape(title)}*, so it isn't posted yet. "
        "I've kept it for you."
    )
    post = button("Post it now", POST_ANYWAY, value=str(draft_id), style="primary")
    return text, [section(text), {"type": "actions", "elements": [post]}]


CHALLENGE_SHARE, CHALLENGE_CLOSE = "challenge_share", "challenge_close"


def _local_day(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%A %d %B %Y}"


def challenge_announcement(
    challenge: Challenge, *, timezone: str, reminder: bool = False, ideas_so_far: int = 0
) -> tuple[str, list[dict[str, Any]]]:
    """The challenge as posted in its channel (and, a day before it closes, the reminder)."""
    last_day = _local_day(challenge.closes_at - timedelta(seconds=1), timezone)
    heading = ("Closing soon: " if reminder else "Challenge: ") + challenge.title
    lines = [escape(challenge.description)] if challenge.description else []
    if challenge.tags:
        lines.append("*Tags:* " + escape(", ".join(challenge.tags)))
    if challenge.target_groups:
        lines.append(
            "*We especially want to hear from:* " + escape(", ".join(challenge.target_groups))
        )
    lines.append(f"*Open until:* the end of {last_day}")
    if reminder:
        lines.append(f"*So far:* {ideas_so_far} ideas. Add yours before it closes.")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(truncate(heading, 150))}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        {
            "type": "actions",
            "block_id": f"challenge_{challenge.id}",
            "elements": [
                button(
                    "Share an idea for this challenge",
                    CHALLENGE_SHARE,
                    str(challenge.id),
                    "primary",
                ),
                button("Close now", CHALLENGE_CLOSE, str(challenge.id)),
            ],
        },
    ]
    return escape(heading), blocks


def challenge_summary(challenge: Challenge, summary: Summary) -> tuple[str, list[dict[str, Any]]]:
    """What the challenge gathered, for the channel; voices only for groups big enough."""
    lines = [
        f"*{summary.ideas}* {'idea' if summary.ideas == 1 else 'ideas'} from "
        f"*{summary.contributors}* {'person' if summary.contributors == 1 else 'people'}, "
        f"with *{summary.supporters}* {'supporter' if summary.supporters == 1 else 'supporters'}.",
    ]
    if summary.top:
        lines.append("*Most supported:*")
        lines += [
            f"{n}. {_link(link, title)} ({supporters(count)})"
            for n, (title, count, link) in enumerate(summary.top, start=1)
        ]
    if summary.themes:
        lines.append("*Themes:* " + ", ".join(f"{escape(t)} ({n})" for t, n in summary.themes))
    for label, groups in (
        ("Voices by staff group", summary.by_staff_group),
        ("Voices by organisation", summary.by_organisation),
    ):
        shown = ", ".join(f"{escape(name)} ({n})" for name, n in groups)
        lines.append(f"*{label}:* {shown or 'too few people in each group to show'}")
    lines.append("The lead has the full list for the design-group workshop.")
    heading = f"Challenge closed: {challenge.title}"
    return escape(heading), [
        {"type": "header", "text": {"type": "plain_text", "text": plain(truncate(heading, 150))}},
        {"type": "section", "text": {"type": "mrkdwn", "text": truncate("\n".join(lines), 3000)}},
    ]
