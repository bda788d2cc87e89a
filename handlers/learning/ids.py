"""Every Slack ID learning uses: App Home's capture buttons, the digest preview's buttons,
the shortcut, the modals and their inputs. The values are what Home tabs, previews
already sent, open modals and the manifest (the shortcut) carry: never change one.

The case study's inputs are named after its fields (``bot.learning.casestudy.FIELDS``),
not listed here. The digest editor's are numbered from ``DIGEST_SECTION``: ``section_0``,
``section_1``... (a refusal of them all shows under ``section_0``)."""

from __future__ import annotations

from enum import StrEnum


class LearningId(StrEnum):
    # App Home: capture a channel, stop capturing one, keep my messages out or let them in.
    CAPTURE_ADD = "capture_add"
    CAPTURE_STOP = "capture_stop"
    EXCLUDE_ME = "capture_exclude_me"
    INCLUDE_ME = "capture_include_me"

    # The capture modal (callback ID) and its channel input.
    CAPTURE_FORM = "capture_form"
    CHANNEL = "channel"

    # The lead's digest preview: its buttons, and the editor modal.
    DIGEST_PUBLISH = "digest_publish"
    DIGEST_EDIT = "digest_edit"
    DIGEST_EDIT_FORM = "digest_edit_form"
    DIGEST_SECTION = "section"  # + "_<n>": one input per section, in order

    # The message shortcut (manifest.json) and the case-study modal it opens.
    WRITE_CASE_STUDY = "write_case_study"
    CASE_STUDY_FORM = "case_study_form"
