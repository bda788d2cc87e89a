"""State that travels through Slack comes back as copbot sent it, or not at all.

A modal's ``private_metadata`` is sent to Slack and comes back in the person's
submission, where anyone holding the signing secret's signature on *their own* request
could edit it. copbot seals it: an HMAC over the view's ``callback_id`` and the value,
keyed by the signing secret and the workspace, so a value cannot be edited, moved to
another kind of form or carried to another workspace. A middleware opens the seal of
every modal before any listener reads it; a broken seal changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from contextvars import ContextVar
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

log = logging.getLogger(__name__)

# The key for this request's workspace, set by the middleware before any listener runs
# (work after the ack copies the request's context, so it sees the same key).
_key: ContextVar[bytes | None] = ContextVar("copbot_seal_key", default=None)
SIGNATURE_LENGTH = 22  # 128 bits, base64url without padding
EXPIRED = (
    "This form could not be checked, so nothing was changed. "
    "Please close it and open it again from copbot."
)


REFUSED = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Nothing was changed"},
    "close": {"type": "plain_text", "text": "Close"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": EXPIRED}}],
}


class BrokenSeal(Exception):
    pass


def key_for(secret: str, team_id: str) -> bytes:
    label = f"copbot private_metadata {team_id}".encode()
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


def _signature(key: bytes, callback_id: str, value: str) -> str:
    mac = hmac.new(key, f"{callback_id}\n{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:SIGNATURE_LENGTH]


def seal(callback_id: str, value: str) -> str:
    """``value`` as private_metadata for a modal with this ``callback_id`` ("" stays "":
    a form that carries nothing has nothing to protect)."""
    if not value:
        return ""
    key = _key.get()
    if key is None:
        raise RuntimeError("a modal can only be built while answering a Slack request")
    return f"{_signature(key, callback_id, value)}.{value}"


def unseal(key: bytes, callback_id: str, sealed: str) -> str:
    if not sealed:
        return ""
    signature, dot, value = sealed.partition(".")
    if not dot or not hmac.compare_digest(signature, _signature(key, callback_id, value)):
        raise BrokenSeal(callback_id)
    return value


def register(app: App) -> None:
    app.middleware(open_seals)


def open_seals(context: BoltContext, body: dict[str, Any], next: Any) -> BoltResponse | None:
    """Set this workspace's key, then replace a modal's sealed private_metadata with the
    value copbot put there. A form whose seal is broken is not handed to any listener."""
    settings = context["deps"].settings
    secret = settings.slack_signing_secret or settings.slack_app_token or ""
    key = key_for(secret, context.team_id or "")
    _key.set(key)
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "modal":
        try:
            view["private_metadata"] = unseal(
                key, str(view.get("callback_id") or ""), str(view.get("private_metadata") or "")
            )
        except BrokenSeal:
            log.warning("refused a %s whose private_metadata was not copbot's", body.get("type"))
            if body.get("type") == "view_submission":
                return BoltResponse(status=200, body={"response_action": "update", "view": REFUSED})
            return BoltResponse(status=400, body="this form was changed on its way back")
    return next()
