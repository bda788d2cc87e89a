"""How Ideas looks in Slack: its domain messages (``bot/ideas/messages.py``) drawn as
Block Kit, and the private answers and App Home section built from its figures. The
modals are in ``modals.py``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

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
from bot.ideas.messages import (
    BulbOffer,
    ChallengeClosed,
    ChallengePost,
    CreditNotice,
    IdeaCard,
    KeptDraft,
    MergeDecided,
    StatusDecided,
    link,
    quoted,
    supporters,
)
from bot.platform.rendering import Rendered, renders
from bot.text import escape, plain, truncate
from handlers.ideas.ids import IdeaId
from handlers.kit import actions, button, context, divider, fields, header, section
from storage import IdeaStatus

STATUS_ICONS = {
    IdeaStatus.NEW: "🆕",
    IdeaStatus.UNDER_REVIEW: "🔎",
    IdeaStatus.IN_PROGRESS: "🚧",
    IdeaStatus.IMPLEMENTED: "✅",
    IdeaStatus.NOT_TAKEN_FORWARD: "⏹️",
    IdeaStatus.MERGED: "🔀",
}


# --------------------------------------------------------------------------- messages


@renders(IdeaCard)
def idea_card(card: IdeaCard) -> Rendered:
    """The card in the ideas channel."""
    status = IdeaStatus(card.status)
    blocks: list[dict[str, Any]] = [header(plain(truncate(card.title, 150)))]
    if card.description:
        blocks.append(section(escape(card.description, limit=2900)))
    shown = [
        f"*Status:* {STATUS_ICONS[status]} {STATUS_LABELS[status]}",
        f"*Support:* {supporters(card.supporter_count)}",
    ]
    if card.themes:
        shown.append("*Themes:* " + escape(", ".join(card.themes)))
    if card.challenge:
        shown.append("*Challenge:* " + escape(card.challenge))
    blocks.append(fields(*shown))
    if card.rationale:
        decision = f"*Latest decision:* {escape(card.rationale, limit=2500)}"
        if card.owner:
            decision += f"\n*Owner:* {escape(card.owner)}"
        if card.next_review:
            decision += f"\n*Next review:* {card.next_review.isoformat()}"
        blocks.append(section(decision))
    if card.merged_into is not None:
        target = card.merged_into
        blocks.append(
            section(
                "*Merged into:* "
                + link(target.permalink, target.title)
                + ". Support and discussion continue there."
            )
        )
    byline = f"By {escape(card.author)}" if card.author else "Anonymous"
    if card.author and card.submitted_by and card.submitted_by != card.author:
        byline += f", shared by {escape(card.submitted_by)}"
    if card.source_permalink:
        byline += f" · <{card.source_permalink}|original message>"
    byline += f" · idea #{card.idea_id} · {card.created_at:%d %b %Y}"
    blocks.append(context(byline))
    value = str(card.idea_id)
    buttons = [button("Discuss", IdeaId.DISCUSS, value=value)]
    if status is not IdeaStatus.MERGED:
        buttons = [
            button("Support", IdeaId.SUPPORT, value=value, primary=True),
            button("Unsupport", IdeaId.UNSUPPORT, value=value),
            *buttons,
            button("Manage", IdeaId.MANAGE, value=value),
        ]
    blocks.append(actions(buttons, block_id=f"{IdeaId.CARD}_{card.idea_id}"))
    return Rendered(card.fallback(), blocks)


@renders(StatusDecided)
def status_decided(dm: StatusDecided) -> Rendered:
    label = status_label(dm.status)
    lines = [f"*You said, we did.* The idea {link(dm.permalink, dm.title)} is now *{label}*."]
    if dm.rationale:
        lines.append(quoted(dm.rationale))
    if dm.owner:
        lines.append(f"Owner: {escape(dm.owner)}")
    if dm.next_review:
        lines.append(f"Next review: {dm.next_review.isoformat()}")
    return Rendered(dm.fallback(), [section("\n".join(lines))])


@renders(MergeDecided)
def merge_decided(dm: MergeDecided) -> Rendered:
    text = (
        f"*You said, we did.* The idea {link(dm.idea.permalink, dm.idea.title)} was merged "
        f"into {link(dm.into.permalink, dm.into.title)}, which now has "
        f"{supporters(dm.into_supporters)}. Your support and updates carry over to it."
    )
    if dm.rationale:
        text += "\n" + quoted(dm.rationale)
    return Rendered(dm.fallback(), [section(text)])


@renders(KeptDraft)
def kept_draft(dm: KeptDraft) -> Rendered:
    post = button("Post it now", IdeaId.POST_ANYWAY, value=str(dm.draft_id), primary=True)
    return Rendered(dm.fallback(), [section(dm.fallback()), actions([post])])


@renders(BulbOffer)
def bulb_offer(offer: BulbOffer) -> Rendered:
    where = json.dumps({"channel": offer.channel, "ts": offer.ts})
    turn = button("Turn into an idea", IdeaId.FROM_MESSAGE, value=where, primary=True)
    return Rendered(offer.fallback(), [section("💡 " + offer.fallback()), actions([turn])])


@renders(CreditNotice)
def credit_notice(notice: CreditNotice) -> Rendered:
    decline = button("Remove my name", IdeaId.DECLINE_CREDIT, value=str(notice.idea_id))
    return Rendered(notice.fallback(), [section(notice.fallback()), actions([decline])])


@renders(ChallengePost)
def challenge_post(post: ChallengePost) -> Rendered:
    lines = [escape(post.description)] if post.description else []
    if post.tags:
        lines.append("*Tags:* " + escape(", ".join(post.tags)))
    if post.target_groups:
        lines.append("*We especially want to hear from:* " + escape(", ".join(post.target_groups)))
    lines.append(f"*Open until:* the end of {post.last_day}")
    if post.reminder:
        lines.append(f"*So far:* {post.ideas_so_far} ideas. Add yours before it closes.")
    value = str(post.challenge_id)
    share = button(
        "Share an idea for this challenge", IdeaId.CHALLENGE_SHARE, value=value, primary=True
    )
    close = button("Close now", IdeaId.CHALLENGE_CLOSE, value=value)
    return Rendered(
        post.fallback(),
        [
            header(plain(truncate(post.heading, 150))),
            section("\n".join(lines)),
            actions([share, close], block_id=f"{IdeaId.CHALLENGE_CARD}_{post.challenge_id}"),
        ],
    )


@renders(ChallengeClosed)
def challenge_closed(closed: ChallengeClosed) -> Rendered:
    summary = closed.summary
    lines = [
        f"*{summary.ideas}* {'idea' if summary.ideas == 1 else 'ideas'} from "
        f"*{summary.contributors}* {'person' if summary.contributors == 1 else 'people'}, "
        f"with *{summary.supporters}* {'supporter' if summary.supporters == 1 else 'supporters'}.",
    ]
    if summary.top:
        lines.append("*Most supported:*")
        lines += [
            f"{n}. {link(url, title)} ({supporters(count)})"
            for n, (title, count, url) in enumerate(summary.top, start=1)
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
    return Rendered(
        closed.fallback(),
        [header(plain(truncate(closed.heading, 150))), section(truncate("\n".join(lines), 3000))],
    )


# --------------------------------------------------------------------------- answers


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
        divider(),
        header("Ideas"),
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
