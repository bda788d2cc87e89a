"""What a failed Slack call means for delivery: fatal, the destination's fault, the
message's, rate limited, never sent, or unknown (Slack may have acted)."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.error import URLError

from bot.platform.messenger import Refused

log = logging.getLogger(__name__)

# fmt: off
# Errors about the app itself, not one message: stop delivering and say so.
# (account_inactive is here: Slack uses it for a token of a deleted user or workspace.)
FATAL_ERRORS = frozenset((
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "no_permission", "missing_scope", "not_allowed_token_type", "org_login_required",
    "ekm_access_denied", "team_access_not_granted",
))
# The destination will not take messages: the message is undeliverable, and for a DM so
# is the member until someone says otherwise.
DESTINATION_ERRORS = frozenset((
    "user_not_found", "cannot_dm_bot", "channel_not_found", "not_in_channel", "is_archived",
    "user_disabled", "messages_tab_disabled",
))
# This message can never be sent as it is; the member is not at fault.
MESSAGE_ERRORS = frozenset((
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "no_text",
    "too_many_attachments", "invalid_attachments", "invalid_metadata_format",
    "invalid_metadata_schema", "metadata_too_large", "metadata_must_be_sent_from_app",
    "invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset",
    "invalid_form_data", "restricted_action", "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
))
# fmt: on


class DeliveryHalted(RuntimeError):
    """Slack refused the app itself (for example ``invalid_auth``): no message can go out,
    so delivery stops loudly instead of marking every member undeliverable."""


@dataclass(frozen=True)
class Failure:
    """A failed call, classified.

    ``kind``: ``ratelimited`` (wait ``retry_after``, then try again), ``fatal`` (stop the
    worker), ``destination`` or ``message`` (never retried), ``unsent`` (the request never
    reached Slack; plain retry) or ``unknown`` (Slack may have acted; check before retrying).
    """

    kind: str
    code: str
    retry_after: float = 0.0
    status: int | None = None


def classify(error: BaseException) -> Failure:
    """Sort an exception from a ``Messenger`` into what the deliverer should do about it."""
    if isinstance(error, Refused):
        code, status = error.code, error.status
        if status == 429 or code == "ratelimited":
            return Failure("ratelimited", code, _wait(error.retry_after), status)
        if code in FATAL_ERRORS:
            return Failure("fatal", code, status=status)
        if code in DESTINATION_ERRORS:
            return Failure("destination", code, status=status)
        if code in MESSAGE_ERRORS:
            return Failure("message", code, status=status)
        return Failure("unknown", code, status=status)
    if isinstance(error, URLError):
        # urllib raises URLError only while connecting and sending the request: Slack
        # never processed it. Errors while reading the answer come unwrapped.
        return Failure("unsent", _describe(error.reason))
    if isinstance(error, socket.gaierror | ConnectionRefusedError):
        return Failure("unsent", _describe(error))
    return Failure("unknown", _describe(error))


def is_outage(failure: Failure) -> bool:
    """Slack did not answer, or answered with a server error: Slack is failing, not the
    message (a 4xx or a Slack error code is an answer)."""
    if failure.kind == "unsent":
        return True
    return failure.kind == "unknown" and (failure.status is None or failure.status >= 500)


def _describe(error: object) -> str:
    name = type(error).__name__
    text = str(error)
    return f"{name}: {text}"[:200] if text else name


def _wait(retry_after: float | None) -> float:
    """Seconds to wait on a 429: ``Retry-After`` (1 s if none), at least 1, at most 15 min."""
    return min(max(1.0 if retry_after is None else retry_after, 1.0), 900.0)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed: 2, 4, 8, 16... s, at most 5 min."""
    return timedelta(seconds=min(2.0 * 2 ** max(attempts - 1, 0), 300.0))
