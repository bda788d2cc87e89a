"""Keys derived from the deployment secret, which never enters the database.

The secret is the Slack signing secret (or the app-level token in Socket Mode). One
derivation (HKDF-SHA256), one salt per purpose: pulse ballots (``bot.pulse.ballots``) and
the forgotten-people list (``bot.members``).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Settings


class NoSecret(RuntimeError):
    """No deployment secret to derive a key from: a setup fault, not a member's."""


def derive_key(settings: Settings, salt: bytes, info: bytes) -> bytes:
    """A 32-byte key for one purpose (``salt``)."""
    secret = settings.slack_signing_secret or settings.slack_app_token
    if not secret:
        raise NoSecret("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) is needed for copbot's keys")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret.encode())
