"""Every Slack ID learning uses: App Home's capture buttons, the digest preview's buttons,
the shortcut, the modals and their inputs. The values are what Home tabs, previews
already sent, open modals and the manifest (the shortcut) carry: never change one.

Two kinds of input are named by what they hold, not listed here: the digest editor's
``section_0``, ``section_1``... (``bot.learning.digest.edit`` reads them by position) and
the case study's, named after its fields (``bot.learning.casestudy.FIELDS``)."""

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

    # The message shortcut (manifest.json) and the case-study modal it opens.
    WRITE_CASE_STUDY = "write_case_study"
    CASE_STUDY_FORM = "case_study_form"
