"""Every Slack ID Ideas uses: actions (buttons), callbacks (modals, shortcuts) and blocks.

The values are what cards already posted, modals still open and the manifest carry:
never change one. Slack keeps action, callback and block IDs apart, so two things may
share a value: the Manage button and the Manage modal ("idea_manage"), the challenge
input and a challenge post's buttons ("challenge"). Python makes the second name an
alias of the first; each is named for what it is.
"""

from __future__ import annotations

from enum import StrEnum


class IdeaId(StrEnum):
    # Shortcuts (manifest.json) and App Home's button: each opens the capture modal.
    SHARE_IDEA = "share_idea"  # global shortcut
    SAVE_AS_IDEA = "save_as_idea"  # message shortcut
    HOME_SHARE_IDEA = "home_share_idea"  # App Home's "Share an idea"

    # Modals (callback IDs).
    CAPTURE = "idea_new"  # the capture modal
    SIMILAR = "idea_similar"  # ideas like yours, before posting
    DECIDE = "idea_manage"  # the Manage modal: a lead's decision or merge
    NEW_CHALLENGE = "challenge_new"

    # Buttons (action IDs).
    SUPPORT = "idea_support"
    UNSUPPORT = "idea_unsupport"
    DISCUSS = "idea_discuss"
    MANAGE = "idea_manage"  # the card's Manage button: opens DECIDE (same value, see above)
    POST_ANYWAY = "idea_post_anyway"  # post a waiting draft: similar ideas, a kept draft
    SUPPORT_INSTEAD = "idea_support_instead"  # + "_<idea id>": one per similar idea
    FROM_MESSAGE = "idea_from_message"  # the :bulb: offer's "Turn into an idea"
    DECLINE_CREDIT = "idea_decline_credit"
    CHALLENGE_SHARE = "challenge_share"
    CHALLENGE_CLOSE = "challenge_close"

    # Blocks: a card's buttons ("idea_<id>", "challenge_<id>") and the forms' inputs
    # (an input's action ID is its block ID, so submitted values key by these).
    CARD = "idea"
    TITLE = "title"
    DESCRIPTION = "description"
    CHALLENGE = "challenge"
    THEMES = "themes"
    ANONYMOUS = "anonymous"
    STATUS = "status"
    RATIONALE = "rationale"
    OWNER = "owner"
    NEXT_REVIEW = "next_review"
    MERGE_INTO = "merge_into"
    TAGS = "tags"
    CHANNEL = "channel"
    OPENS = "opens"
    CLOSES = "closes"
    TARGET_GROUPS = "target_groups"
    CHALLENGE_CARD = "challenge"  # a challenge post's buttons (the CHALLENGE input's value)
