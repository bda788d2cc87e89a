"""Members: the workspace's people as Slack lists them.

The directory (``users.list``) is read into Member rows at first start and nightly, and
kept fresh by ``team_join`` and ``user_change``, so every audience reaches real people on
day one. A person copbot meets before the directory has them is created from what the
request carries, and their profile is fetched after the ack.

Someone who asked copbot to forget them (``bot.rights``) stays forgotten: the directory
and profile events skip them (``forgotten_person``, a keyed hash of team and user ID) until
they use copbot again themselves, which is a deliberate act of theirs (``first_contact``).

The package: ``people`` (finding, creating and refreshing a member; names), ``directory``
(reading ``users.list``), ``forgotten`` (the suppression list), ``organisations`` (the
community's list and a member's own profile) and ``leads``.
"""

from bot.members.directory import (
    RESYNC_AFTER,
    TIER2_PAUSE,
    read_directory_if_needed,
    sync_directory,
    sync_profiles,
)
from bot.members.forgotten import FORGOTTEN_SALT, forgotten, forgotten_key, suppress, unsuppress
from bot.members.leads import Lead, leads, profiles_to_fetch, set_named_leads
from bot.members.organisations import (
    ORGANISATION_ADDED,
    add_organisation,
    organisation_named,
    organisations,
    update_profile,
)
from bot.members.people import (
    PROFILE_MAX_AGE,
    actor_for,
    apply_profile,
    ensure_member,
    find,
    first_contact,
    keep_member,
    name_of,
    needs_refresh,
    refresh_profile,
    upsert_profile,
)

__all__ = [
    "FORGOTTEN_SALT",
    "ORGANISATION_ADDED",
    "PROFILE_MAX_AGE",
    "RESYNC_AFTER",
    "TIER2_PAUSE",
    "Lead",
    "actor_for",
    "add_organisation",
    "apply_profile",
    "ensure_member",
    "find",
    "first_contact",
    "forgotten",
    "forgotten_key",
    "keep_member",
    "leads",
    "name_of",
    "needs_refresh",
    "organisation_named",
    "organisations",
    "profiles_to_fetch",
    "read_directory_if_needed",
    "refresh_profile",
    "set_named_leads",
    "suppress",
    "sync_directory",
    "sync_profiles",
    "unsuppress",
    "update_profile",
    "upsert_profile",
]
