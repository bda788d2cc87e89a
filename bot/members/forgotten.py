"""Who asked copbot to forget them: keyed hashes (HMAC) of team and user ID under a key
derived from the deployment secret, so the list names nobody without it. The directory
and profile events skip them until they use copbot again (``people.first_contact``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.keys import NoSecret, derive_key
from storage import ForgottenPerson, insert_or_ignore

log = logging.getLogger("copbot.members")

FORGOTTEN_SALT = b"copbot forgotten people"


def _list_key(settings: Settings) -> bytes | None:
    try:
        return derive_key(settings, FORGOTTEN_SALT, b"suppression list")
    except NoSecret:
        return None


def _entry(key: bytes, team_id: str, user_id: str) -> str:
    return hmac.new(key, f"{team_id}\0{user_id}".encode(), hashlib.sha256).hexdigest()


def forgotten_key(settings: Settings, team_id: str, user_id: str) -> str | None:
    """The suppression list's entry for a person: HMAC-SHA256 of (team, user ID) under a
    key derived from the deployment secret, so the list names nobody without that secret.
    None when the deployment has no secret (``copbot doctor`` names that)."""
    key = _list_key(settings)
    return None if key is None else _entry(key, team_id, user_id)


def suppress(session: Session, settings: Settings, team_id: str, user_id: str) -> bool:
    """Keep the person out of the directory from now on ("forget me"). False if the
    deployment has no secret to key the list with."""
    key = forgotten_key(settings, team_id, user_id)
    if key is None:
        log.warning("forget me: no deployment secret, so the directory may add them again")
        return False
    insert_or_ignore(session, ForgottenPerson(key=key))
    return True


def forgotten(
    session: Session, settings: Settings, team_id: str, user_ids: Iterable[str]
) -> set[str]:
    """Which of ``user_ids`` asked to be forgotten (looked up 500 at a time)."""
    key = _list_key(settings)
    if key is None:
        return set()
    keyed = {_entry(key, team_id, user_id): user_id for user_id in set(user_ids)}
    keys, found = sorted(keyed), set()
    for start in range(0, len(keys), 500):
        query = select(ForgottenPerson.key).where(
            col(ForgottenPerson.key).in_(keys[start : start + 500])
        )
        found.update(keyed[key] for key in session.exec(query))
    return found


def unsuppress(session: Session, settings: Settings, team_id: str, user_id: str) -> bool:
    """They used copbot again: off the list. True if they were on it."""
    key = forgotten_key(settings, team_id, user_id)
    if key is None:
        return False
    row = session.get(ForgottenPerson, key)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
