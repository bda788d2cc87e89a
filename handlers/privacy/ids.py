"""Every Slack ID of the privacy rights and the audit log. The values are what Home tabs
already drawn, answers already sent and open modals carry: never change one."""

from __future__ import annotations

from enum import StrEnum


class PrivacyId(StrEnum):
    # Buttons in App Home and in the /copbot privacy answer.
    SHOW = "privacy_show"
    DOWNLOAD = "privacy_download"
    FORGET = "privacy_forget"
    AUDIT_CSV = "audit_download"  # admins only

    # The "forget me" confirmation modal (callback ID).
    FORGET_CONFIRM = "privacy_forget_confirm"
