"""How privacy rights and the audit log look in Slack."""

from __future__ import annotations

from typing import Any

from bot.text import escape
from handlers.kit import button, notice, plain_text, section
from handlers.privacy.ids import PrivacyId
from storage import AuditEntry


def rights_blocks(lines: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        section("*What copbot keeps about you*\n" + "\n".join(f"• {line}" for line in lines)),
        {
            "type": "actions",
            "elements": [
                button("Download my data", PrivacyId.DOWNLOAD),
                button("Forget me", PrivacyId.FORGET),
            ],
        },
    ]


def rights_modal(lines: tuple[str, ...]) -> dict[str, Any]:
    """What copbot keeps, as a modal from App Home."""
    view = notice("Your data", "\n".join(f"• {line}" for line in lines))
    view["blocks"] = rights_blocks(lines)
    return view


def forget_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": PrivacyId.FORGET_CONFIRM,
        "title": plain_text("Forget me"),
        "submit": plain_text("Forget me"),
        "close": plain_text("Cancel"),
        "blocks": [
            section(
                "*This can't be undone.* copbot will delete your profile, settings, sign-ups, "
                "matches, feedback, captured messages and reflections, and remove your name "
                "and words from everything else, in Slack too: your ideas stay for those who "
                "supported them, without your name or words, and your supports still count. "
                "Anonymous pulse answers were never linked to you and stay as they are."
            )
        ],
    }


def home_section(audit: list[AuditEntry] | None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "header", "text": plain_text("Your data")},
        section("See what copbot keeps about you, download it, or ask copbot to forget you."),
        {
            "type": "actions",
            "elements": [
                button("What copbot keeps", PrivacyId.SHOW),
                button("Download my data", PrivacyId.DOWNLOAD),
                button("Forget me", PrivacyId.FORGET),
            ],
        },
    ]
    if audit is not None:
        lines = [
            f"• {entry.at:%-d %b %H:%M} {escape(entry.actor_id or 'copbot')}: "
            f"{escape(entry.action)} {escape(entry.target, limit=60)}"
            for entry in audit
        ]
        blocks += [
            {"type": "header", "text": plain_text("Audit log (admins)")},
            section(
                "\n".join(lines) or "_Nothing yet._",
                button("Download audit log", PrivacyId.AUDIT_CSV),
            ),
        ]
    return blocks
