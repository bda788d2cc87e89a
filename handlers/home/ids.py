"""Every Slack ID of App Home's own parts: its buttons, the profile, settings and leads
modals and their inputs. The values are what Home tabs already drawn and open modals
carry: never change one. An input's block ID is also its action ID and the name of the
field a refusal points at (``UserError(field=...)`` in ``bot.members`` and
``bot.workspaces``). Slack keeps callback and block IDs apart, so the leads modal and its
one input share "leads": Python makes the input's name an alias.

App Home's "Share an idea" button is the ideas feature's (``IdeaId``); each feature's
section has its own IDs."""

from __future__ import annotations

from enum import StrEnum


class HomeId(StrEnum):
    # Buttons.
    EDIT_PROFILE = "home_edit_profile"
    EDIT_SETTINGS = "home_edit_settings"
    MANAGE_LEADS = "home_manage_leads"

    # The profile modal and its inputs.
    PROFILE = "profile"
    STAFF_GROUP = "staff_group"
    ORGANISATION = "org"
    NEW_ORGANISATION = "new_org"
    ORGANISATION_TYPE = "org_type"

    # The community settings modal and its inputs; retention is kept per kind of record,
    # as "keep_" and the kind ("keep_messages", "keep_audit", "keep_outbox").
    SETTINGS = "settings"
    IDEAS_CHANNEL = "ideas_channel"
    DIGEST_CHANNEL = "digest_channel"
    HUB_CHANNEL = "hub_channel"
    TIMEZONE = "timezone"
    ANONYMITY_MIN = "anonymity_min"
    KEEP_MESSAGES = "keep_messages"
    KEEP_AUDIT = "keep_audit"
    KEEP_OUTBOX = "keep_outbox"

    # The leads modal and its one input.
    LEADS = "leads"
    LEADS_INPUT = "leads"
