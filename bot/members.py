"""Members: created on first contact from their Slack profile, refreshed daily."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot import audit
from bot.config import Settings
from bot.defaults import ORGANISATION_TYPES, STAFF_GROUPS
from bot.errors import UserError
from bot.roles import Actor, Role, role_of
from bot.slack import SlackPort, SlackProfile
from bot.workspaces import ensure_workspace
from storage import Database, Member, Organisation, insert_or_ignore, utcnow

PROFILE_MAX_AGE = timedelta(days=1)


def find(session: Session, team_id: str, user_id: str) -> Member | None:
    query = select(Member).where(Member.team_id == team_id, Member.slack_user_id == user_id)
    return session.exec(query).first()


def ensure_member(
    session: Session,
    team_id: str,
    user_id: str,
    slack: SlackPort,
    now: datetime | None = None,
) -> Member | None:
    """The member for this Slack user, created or refreshed from ``users.info`` when due.

    Returns None for bots. If Slack cannot answer, a new member is kept with what we
    know and its profile is fetched again on the next contact.
    """
    now = now or utcnow()
    member = find(session, team_id, user_id)
    if member and not needs_refresh(member, now):
        return member
    profile = slack.user_info(user_id)
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


def needs_refresh(member: Member, now: datetime | None = None) -> bool:
    refreshed = member.profile_refreshed_at
    return refreshed is None or (now or utcnow()) - refreshed >= PROFILE_MAX_AGE


def refresh_profile(session: Session, team_id: str, user_id: str, slack: SlackPort) -> None:
    """Fetch a known member's profile again (off the ack path: names, time zone, admin)."""
    member = find(session, team_id, user_id)
    profile = slack.user_info(user_id)
    if member is not None and profile is not None and not profile.is_bot:
        apply_profile(member, profile)
        session.add(member)


def apply_profile(member: Member, profile: SlackProfile, now: datetime | None = None) -> None:
    member.display_name = profile.display_name[:200]
    member.real_name = profile.real_name[:200]
    member.tz = profile.tz
    member.is_slack_admin = profile.is_admin
    member.profile_refreshed_at = now or utcnow()


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


def add_organisation(session: Session, team_id: str, name: str, org_type: str) -> Organisation:
    """Add to the community's list (members may add their own), or return the existing one."""
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
            session, member.team_id, new_organisation, new_organisation_type or ""
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
    ``users.list``, a page at a time, each page in its own transaction. Members are still
    created only on first contact. Returns how many were updated."""
    updated, cursor = 0, None
    while True:
        profiles, cursor = slack.list_users(cursor)
        by_id = {profile.user_id: profile for profile in profiles if not profile.is_bot}
        with database.session() as session:
            query = select(Member).where(
                Member.team_id == team_id, col(Member.slack_user_id).in_(sorted(by_id))
            )
            for member in session.exec(query):
                apply_profile(member, by_id[member.slack_user_id])
                session.add(member)
                updated += 1
        if not cursor:
            return updated
