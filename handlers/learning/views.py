"""How learning looks in Slack: capture settings in App Home, the digest preview and the
published digest, the digest editor, the case-study form and the case study in the hub,
``/digest usage`` and the hub search."""

from __future__ import annotations

import json
from typing import Any

from bot.learning.casestudy import FIELDS
from bot.learning.messages import (
    CaseStudyPost,
    DigestContent,
    DigestPreview,
    DigestPublishedNote,
    PublishedDigest,
)
from bot.learning.summariser import CaseStudyDraft
from bot.learning.usage import UsageLine
from bot.platform.rendering import Rendered, renders
from bot.text import escape, truncate
from handlers.common import ephemeral, form_values
from handlers.kit import button, input_block, modal, plain_text, section
from handlers.learning.ids import LearningId
from storage import CaseStudy, Digest


def capture_modal() -> dict[str, Any]:
    return modal(
        LearningId.CAPTURE_FORM,
        "Learning capture",
        "Turn on",
        [
            section(
                "copbot will keep this channel's messages for 90 days to write learning "
                "digests, and post a notice there saying so. Members can keep their own "
                "messages out."
            ),
            input_block(
                LearningId.CHANNEL,
                "Channel",
                {
                    "type": "conversations_select",
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                },
            ),
        ],
    )


def home_section(captured: list[str], excluded: bool, is_lead: bool) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "header", "text": plain_text("Learning")},
    ]
    where = ", ".join(f"<#{c}>" for c in captured) or "_no channels_"
    mine = (
        "Your messages are *kept out* of learning capture."
        if excluded
        else "Your messages in these channels can appear, without your name, in digests."
    )
    blocks.append(
        section(
            f"*Captured for digests:* {where}\n{mine}",
            button("Include my messages", LearningId.INCLUDE_ME)
            if excluded
            else button("Exclude my messages", LearningId.EXCLUDE_ME),
        )
    )
    if is_lead:
        for channel in captured[:10]:
            blocks.append(
                section(
                    f"<#{channel}>",
                    button("Stop capturing", LearningId.CAPTURE_STOP, value=channel),
                )
            )
        blocks.append(
            {"type": "actions", "elements": [button("Capture a channel", LearningId.CAPTURE_ADD)]}
        )
    return blocks


def digest_edit_modal(digest: Digest) -> dict[str, Any]:
    blocks = [
        input_block(
            f"{LearningId.DIGEST_SECTION}_{n}",
            section_["title"][:150],
            {
                "type": "plain_text_input",
                "multiline": True,
                "max_length": 3000,
                "initial_value": section_["text"][:3000],
            },
            optional=True,
            hint="Empty a section to leave it out.",
        )
        for n, section_ in enumerate(digest.sections)
    ]
    return modal(LearningId.DIGEST_EDIT_FORM, "Edit digest", "Save", blocks, str(digest.id))


def digest_edit_form(view: dict[str, Any]) -> list[str]:
    """The edited sections' texts, in order (an emptied one is "")."""
    values = form_values(view)
    texts, n = [], 0
    while f"{LearningId.DIGEST_SECTION}_{n}" in values:
        texts.append(values[f"{LearningId.DIGEST_SECTION}_{n}"] or "")
        n += 1
    return texts


def case_study_modal(draft: CaseStudyDraft, channel: str, ts: str) -> dict[str, Any]:
    head = "A draft from the thread: edit anything, then publish to the knowledge hub."
    if draft.notice:
        head += f"\n_{escape(draft.notice)}_"
    blocks: list[dict[str, Any]] = [section(head)]
    for name, label in FIELDS:
        value = (getattr(draft, name) or "")[: 150 if name == "title" else 3000]
        blocks.append(
            input_block(
                name,
                label,
                {
                    "type": "plain_text_input",
                    "multiline": name != "title",
                    "max_length": 150 if name == "title" else 3000,
                    **({"initial_value": value} if value else {}),
                },
                optional=name != "title",
            )
        )
    meta = json.dumps({"channel": channel, "ts": ts, "engine": draft.engine})
    return modal(LearningId.CASE_STUDY_FORM, "Case study", "Publish", blocks, meta)


def usage_blocks(lines: list[UsageLine]) -> list[dict[str, Any]]:
    """``/digest usage``: this month's language model calls, by model."""
    text = "\n".join(
        f"• *{escape(u.model)}*: {u.calls} calls ({u.failed} failed), "
        f"{u.tokens_in:,} tokens in, {u.tokens_out:,} out, {u.seconds:.1f} s"
        for u in lines
    )
    return [section("*This month*\n" + (text or "No calls yet."))]


def hub_reply(words: str, found: list[CaseStudy]) -> dict[str, Any]:
    """``/copbot hub <words>``: the case studies that match, linked where posted."""
    if not found:
        return ephemeral(f"No case studies match “{escape(words)}” yet.")
    lines = [
        f"• {f'<{s.permalink}|{escape(s.title)}>' if s.permalink else escape(s.title)}: "
        f"{escape(s.background or s.impact, limit=140)}"
        for s in found
    ]
    return ephemeral(
        f"Case studies matching “{words}”",
        [section(f"*Case studies matching “{escape(words)}”*\n" + "\n".join(lines))],
    )


# ------------------------------------------------------------------- digests and the hub


def _period(content: DigestContent) -> str:
    return f"{content.period_start:%-d %B} to {content.period_end:%-d %B %Y}"


def _digest(content: DigestContent, head: str) -> list[dict[str, Any]]:
    if content.notice:
        head += f"\n_{escape(content.notice)}_"
    return [
        section(head),
        *(
            section(truncate(f"*{escape(title)}*\n{text}", 3000))
            for title, text in content.sections
        ),
    ]


@renders(DigestPreview)
def digest_preview(message: DigestPreview) -> Rendered:
    head = f"*Learning digest, {_period(message.content)}*: a preview only you can see."
    value = str(message.digest_id)
    actions = [
        button("Publish", LearningId.DIGEST_PUBLISH, value=value, primary=True),
        button("Edit", LearningId.DIGEST_EDIT, value=value),
    ]
    blocks = [*_digest(message.content, head), {"type": "actions", "elements": actions}]
    return Rendered(message.fallback(), blocks)


@renders(PublishedDigest)
def published_digest(message: PublishedDigest) -> Rendered:
    head = f"*Learning digest, {_period(message.content)}*"
    return Rendered(message.fallback(), _digest(message.content, head))


@renders(DigestPublishedNote)
def published_note(message: DigestPublishedNote) -> Rendered:
    where = f"<#{message.channel}>" if message.channel else "the channel"
    published = published_digest(PublishedDigest(message.content)).blocks
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Published to {where}."}]}
    return Rendered(message.fallback(), [*published, note])


@renders(CaseStudyPost)
def case_study_post(message: CaseStudyPost) -> Rendered:
    parts = [f"*Case study: {escape(message.title)}*"]
    parts += [f"*{label}*\n{escape(text)}" for label, text in message.fields]
    if message.source_permalink:
        parts.append(f"<{message.source_permalink}|The conversation it came from>")
    return Rendered(message.fallback(), [section(truncate(part, 3000)) for part in parts])
