"""Members: the workspace's people as Slack lists them.

The directory (``users.list``) is read into Member rows at first start and nightly, and
kept fresh by ``team_join`` and ``user_change``, so every audience reaches real people on
day one. A person copbot meets before the directory has them is created from what the
request carries, and their profile is fetched after the ack.

Someone who asked copbot to forget them (``bot.rights``) stays forgotten: the directory
and profile events skip them (``forgotten_person``, a keyed hash of team and user ID) until
they use copbot again themselves, which is a deliberate act of theirs (``first_contact``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select, update

from bot import audit
from bot.config import Settings
from bot.defaults import ORGANISATION_TYPES, STAFF_GROUPS
from bot.errors import UserError
from bot.keys import NoSecret, derive_key
from bot.roles import Actor, Role, role_of
from bot.slack import SlackPort, SlackProfile
from bot.workspaces import INSTALLS, ensure_workspace
from storage import (
    Database,
    ForgottenPerson,
    Member,
    Organisation,
    Workspace,
    insert_or_ignore,
    utcnow,
)

log = logging.getLogger("copbot.members")

PROFILE_MAX_AGE = timedelta(days=1)
# users.list is Tier 2 (20+ calls a minute): one page every 3 seconds stays inside it.
TIER2_PAUSE = 3.0
# A channel audience with people the directory lacks reads it again, at most this often.
RESYNC_AFTER = timedelta(minutes=1)
ORGANISATION_ADDED = "organisation.added"


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


def find(session: Session, team_id: str, user_id: str) -> Member | None:
    query = select(Member).where(Member.team_id == team_id, Member.slack_user_id == user_id)
    return session.exec(query).first()


def ensure_member(
    session: Session, team_id: str, user_id: str, slack: SlackPort, now: datetime | None = None
) -> Member | None:
    """The member for this Slack user, created or refreshed from ``users.info`` when due."""
    now = now or utcnow()
    member = find(session, team_id, user_id)
    if member and not needs_refresh(member, now):
        return member
    return keep_member(session, team_id, user_id, slack.user_info(user_id), now)


def keep_member(
    session: Session, team_id: str, user_id: str, profile: SlackProfile | None, now: datetime
) -> Member | None:
    """The member created or refreshed from ``profile`` (read from Slack beforehand, so
    no session waits for it). None for bots; if Slack could not answer (``profile`` is
    None), a new member is kept with what we know and fetched again on the next contact."""
    member = find(session, team_id, user_id)
    if profile and (profile.is_bot or profile.deleted):
        return member if member and not profile.is_bot else None
    if member is None:
        ensure_workspace(session, team_id)
        insert_or_ignore(session, Member(team_id=team_id, slack_user_id=user_id))
        member = find(session, team_id, user_id)
        assert member is not None
    if profile:
        apply_profile(member, profile, now)
    session.add(member)
    return member


def first_contact(
    session: Session,
    team_id: str,
    user_id: str,
    name: str = "",
    *,
    settings: Settings,
    deliberate: bool = True,
) -> tuple[Member | None, bool]:
    """The member for a person acting now, without asking Slack: an unknown person is
    created from what the request carried (``name``: the command's ``user_name`` or the
    interaction's ``user.name``). Returns (member, created).

    Someone who asked to be forgotten comes back only by a ``deliberate`` act of theirs
    (a command, an interaction, opening App Home): then they leave the suppression list
    and start afresh. Any other event from them (a message, a reaction, a profile
    change) creates nothing and returns (None, False).

    Their role until the profile arrives (``refresh_profile``, after the ack) is what the
    row says: "member", unless COPBOT_LEADS names them or the directory sync already
    recorded them as a workspace admin. That is safe: it can only under-grant (an admin
    the directory has not seen yet waits a moment for lead rights, never the reverse),
    every action checks the role on the server again, and when the profile arrives the
    member row is updated and the cached actor forgotten, so the next request sees it.
    """
    member = find(session, team_id, user_id)
    if member is not None:
        return member, False
    if not deliberate:
        if forgotten(session, settings, team_id, [user_id]):
            return None, False
    elif unsuppress(session, settings, team_id, user_id):
        log.info("a forgotten person used copbot again: they start afresh")
    ensure_workspace(session, team_id)
    insert_or_ignore(
        session,
        Member(team_id=team_id, slack_user_id=user_id, display_name=(name or "")[:200]),
    )
    member = find(session, team_id, user_id)
    assert member is not None
    return member, True


def needs_refresh(member: Member, now: datetime | None = None) -> bool:
    refreshed = member.profile_refreshed_at
    return refreshed is None or (now or utcnow()) - refreshed >= PROFILE_MAX_AGE


def refresh_profile(session: Session, team_id: str, user_id: str, slack: SlackPort) -> None:
    """Fetch a known member's profile again (off the ack path: names, time zone, admin).

    Skipped when it is already fresh: a second request from a stranger can ask for a
    refresh just after the first one landed, and Slack need not be asked twice."""
    member = find(session, team_id, user_id)
    if member is None or not needs_refresh(member):
        return
    profile = slack.user_info(user_id)
    if profile is None:
        return
    # One UPDATE, not a loaded row: the person may have been erased ("forget me") while
    # Slack was answering, and then there is nothing to refresh.
    session.exec(
        update(Member)
        .where(col(Member.team_id) == team_id, col(Member.slack_user_id) == user_id)
        .values(**_profile_values(profile))
        .execution_options(synchronize_session=False)
    )


def _profile_values(profile: SlackProfile, now: datetime | None = None) -> dict[str, object]:
    return {
        "display_name": profile.display_name[:200],
        "real_name": profile.real_name[:200],
        "tz": profile.tz,
        "is_slack_admin": profile.is_admin and not (profile.deleted or profile.is_bot),
        # A bot met before its profile was known (an event from another app) is kept out
        # of audiences like a deactivated account.
        "deactivated": profile.deleted or profile.is_bot,
        "profile_refreshed_at": now or utcnow(),
    }


def apply_profile(member: Member, profile: SlackProfile, now: datetime | None = None) -> None:
    for name, value in _profile_values(profile, now).items():
        setattr(member, name, value)


def upsert_profile(
    session: Session,
    team_id: str,
    profile: SlackProfile,
    settings: Settings,
    skip: set[str] | None = None,
) -> Member | None:
    """A person from the directory or an event (``team_join``, ``user_change``): created
    or refreshed. Bots and Slackbot are never members; a deactivated account is kept
    (its history stays) but marked, so no audience includes it. Someone who asked to be
    forgotten is not created again (``skip``: those already known to be, for a page)."""
    member = find(session, team_id, profile.user_id)
    if member is None:
        if profile.deleted or profile.is_bot:
            return None
        if skip is None:
            skip = forgotten(session, settings, team_id, [profile.user_id])
        if profile.user_id in skip:
            return None
        ensure_workspace(session, team_id)
        insert_or_ignore(session, Member(team_id=team_id, slack_user_id=profile.user_id))
        member = find(session, team_id, profile.user_id)
        assert member is not None
    apply_profile(member, profile)
    session.add(member)
    return None if profile.is_bot else member


def actor_for(member: Member, settings: Settings) -> Actor:
    return Actor(
        team_id=member.team_id,
        user_id=member.slack_user_id,
        name=member.name,
        role=role_of(member, settings),
    )


def organisations(session: Session, team_id: str) -> list[Organisation]:
    query = select(Organisation).where(Organisation.team_id == team_id).order_by(Organisation.name)
    return list(session.exec(query))


def organisation_named(session: Session, team_id: str, name: str) -> Organisation | None:
    query = select(Organisation).where(
        Organisation.team_id == team_id, func.lower(Organisation.name) == name.strip().lower()
    )
    return session.exec(query).first()


def add_organisation(
    session: Session, team_id: str, name: str, org_type: str, added_by: str | None = None
) -> Organisation:
    """Add to the community's list (members may add their own, ``added_by``), or return the
    existing one."""
    name = " ".join(name.split())
    if not 2 <= len(name) <= 200:
        raise UserError("An organisation's name needs 2 to 200 characters.", field="new_org")
    existing = organisation_named(session, team_id, name)
    if existing:
        return existing
    if org_type not in ORGANISATION_TYPES:
        raise UserError("Choose what kind of organisation it is.", field="org_type")
    organisation = Organisation(team_id=team_id, name=name, org_type=org_type)
    session.add(organisation)
    session.flush()
    if added_by:  # a member's own: "forget me" finds it here (bot.rights)
        audit.record(
            session,
            team_id=team_id,
            actor_id=added_by,
            action=ORGANISATION_ADDED,
            target=f"organisation:{organisation.id}",
        )
    return organisation


def update_profile(
    session: Session,
    member: Member,
    *,
    staff_group: str | None,
    organisation_id: int | None = None,
    new_organisation: str | None = None,
    new_organisation_type: str | None = None,
) -> Member:
    if staff_group is not None and staff_group not in STAFF_GROUPS:
        raise UserError("Choose your staff group from the list.", field="staff_group")
    if new_organisation and organisation_id:
        raise UserError(
            "Choose your organisation from the list or add a new one, not both.",
            field="new_org",
        )
    if new_organisation:
        organisation = add_organisation(
            session,
            member.team_id,
            new_organisation,
            new_organisation_type or "",
            added_by=member.slack_user_id,
        )
        organisation_id = organisation.id
    elif organisation_id is not None:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None or organisation.team_id != member.team_id:
            raise UserError("That organisation is not in this community's list.", field="org")
    member.staff_group = staff_group
    member.organisation_id = organisation_id
    session.add(member)
    return member


@dataclass(frozen=True)
class Lead:
    user_id: str
    name: str
    source: str  # "named in App Home", "COPBOT_LEADS", "workspace admin"

    @property
    def removable(self) -> bool:
        return self.source == "named in App Home"


def leads(session: Session, team_id: str, settings: Settings) -> list[Lead]:
    """Everyone who leads, with where the role comes from."""
    query = select(Member).where(
        Member.team_id == team_id,
        col(Member.is_lead)
        | col(Member.is_slack_admin)
        | col(Member.slack_user_id).in_(settings.leads),
    )
    found: dict[str, Lead] = {}
    for member in session.exec(query):
        if member.is_slack_admin:
            source = "workspace admin"
        elif member.slack_user_id in settings.leads:
            source = "COPBOT_LEADS"
        else:
            source = "named in App Home"
        found[member.slack_user_id] = Lead(member.slack_user_id, member.name, source)
    for user_id in settings.leads - found.keys():
        found[user_id] = Lead(user_id, user_id, "COPBOT_LEADS")
    return sorted(found.values(), key=lambda lead: lead.name.lower())


def set_named_leads(
    session: Session,
    actor: Actor,
    user_ids: set[str],
    slack: SlackPort,
) -> tuple[set[str], set[str]]:
    """Make exactly ``user_ids`` the leads named in App Home; returns (added, removed)."""
    actor.require(Role.LEAD, "add or remove leads")
    current = {
        member.slack_user_id
        for member in session.exec(
            select(Member).where(Member.team_id == actor.team_id, col(Member.is_lead))
        )
    }
    added, removed = user_ids - current, current - user_ids
    for user_id in sorted(added):
        member = ensure_member(session, actor.team_id, user_id, slack)
        if member is None:
            raise UserError("Bots can't be leads. Choose people.", field="leads")
        member.is_lead = True
        session.add(member)
    for user_id in sorted(removed):
        member = find(session, actor.team_id, user_id)
        if member:
            member.is_lead = False
            session.add(member)
    if added or removed:
        audit.record(
            session,
            team_id=actor.team_id,
            actor_id=actor.user_id,
            action="leads.update",
            target="leads",
            before={"leads": sorted(current)},
            after={"leads": sorted(user_ids)},
        )
    return added, removed


def name_of(session: Session, team_id: str, user_id: str | None) -> str | None:
    """How copbot writes a person's name in messages: as text, never as a mention."""
    if not user_id:
        return None
    member = find(session, team_id, user_id)
    if member is None:
        return "a colleague"
    return member.real_name or member.display_name or "a colleague"


def sync_profiles(database: Database, team_id: str, slack: SlackPort) -> int:
    """Refresh every known member's cached profile (names, time zones, admin) from
    ``users.list``, a page at a time, each page in its own transaction, creating nobody.
    Returns how many were updated. (``sync_directory`` also adds the people copbot has
    not met.)"""
    return _read_directory(database, team_id, slack, None, create=False, pause=0.0)


def sync_directory(
    database: Database,
    team_id: str,
    slack: SlackPort,
    settings: Settings,
    *,
    pause: float = TIER2_PAUSE,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Read the whole directory (``users.list``, a page every ``pause`` seconds, Tier 2's
    pace) into Member rows: new people are created, known ones refreshed, deactivated ones
    marked; bots, Slackbot and people who asked to be forgotten are skipped. Each page is
    its own transaction; the workspace's ``directory_synced_at`` is set once the last page
    is in. Returns how many people were created or refreshed."""
    count = _read_directory(
        database, team_id, slack, settings, create=True, pause=pause, sleep=sleep
    )
    with database.session() as session:
        workspace = ensure_workspace(session, team_id)
        workspace.directory_synced_at = utcnow()
        session.add(workspace)
    log.info("directory sync: %s people in %s", count, team_id)
    return count


def _read_directory(
    database: Database,
    team_id: str,
    slack: SlackPort,
    settings: Settings | None,
    *,
    create: bool,
    pause: float,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    updated, cursor, first = 0, None, True
    while True:
        if not first and pause > 0:
            sleep(pause)
        first = False
        profiles, cursor = slack.list_users(cursor)
        by_id = {profile.user_id: profile for profile in profiles if not profile.is_bot}
        with database.session() as session:
            if create:
                assert settings is not None
                skip = forgotten(session, settings, team_id, by_id)
                for profile in by_id.values():
                    found = upsert_profile(session, team_id, profile, settings, skip)
                    updated += found is not None
            else:
                query = select(Member).where(
                    Member.team_id == team_id, col(Member.slack_user_id).in_(sorted(by_id))
                )
                for member in session.exec(query):
                    apply_profile(member, by_id[member.slack_user_id])
                    session.add(member)
                    updated += 1
        if not cursor:
            return updated


_reading: dict[str, threading.Lock] = {}
_reading_guard = threading.Lock()


def read_directory_if_needed(
    database: Database,
    team_id: str,
    slack: SlackPort,
    settings: Settings,
    channel_members: Iterable[str] = (),
    *,
    pause: float = TIER2_PAUSE,
) -> bool:
    """Read the directory when an audience needs it: never read yet (a fresh install), or
    ``channel_members`` names people it lacks and it was not read within ``RESYNC_AFTER``
    (people are created in bulk from ``users.list``, never one ``users.info`` each).

    This asks Slack, so call it before the transaction that uses the audience. One read
    per workspace at a time in this process: a caller arriving meanwhile waits for it.
    True if the directory has been read.
    """
    if INSTALLS.uninstalled(team_id):
        return False
    missing = _unknown(database, team_id, channel_members)
    if missing:  # a forgotten person in the channel is not a reason to read it again
        with database.session() as session:
            missing -= forgotten(session, settings, team_id, missing)
    with _reading_guard:
        lock = _reading.setdefault(team_id, threading.Lock())
    with lock:
        with database.session() as session:
            workspace = session.get(Workspace, team_id)
            synced = workspace.directory_synced_at if workspace else None
        if synced is not None and not (missing and synced < utcnow() - RESYNC_AFTER):
            return True
        try:
            sync_directory(database, team_id, slack, settings, pause=pause)
        except Exception:
            log.exception("directory sync of %s failed; it is tried again later", team_id)
            return False
        return True


def _unknown(database: Database, team_id: str, user_ids: Iterable[str]) -> set[str]:
    """Which of ``user_ids`` have no member row (looked up 500 at a time)."""
    wanted = sorted(set(user_ids))
    known: set[str] = set()
    with database.session() as session:
        for start in range(0, len(wanted), 500):
            query = select(Member.slack_user_id).where(
                Member.team_id == team_id,
                col(Member.slack_user_id).in_(wanted[start : start + 500]),
            )
            known.update(session.exec(query))
    return set(wanted) - known
