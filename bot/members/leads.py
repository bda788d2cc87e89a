"""Who leads, and where the role comes from (named in App Home, COPBOT_LEADS, a workspace
admin); naming them in App Home."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot import audit
from bot.config import Settings
from bot.errors import UserError
from bot.members.people import find, keep_member, needs_refresh
from bot.roles import Actor, Role
from bot.slack import SlackProfile
from storage import Member, utcnow


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


def profiles_to_fetch(session: Session, team_id: str, user_ids: set[str]) -> set[str]:
    """Of ``user_ids``, whoever has no member row or a stale profile: looked up in Slack
    before the transaction that names them, so no session waits for Slack."""
    known = {
        member.slack_user_id: member
        for member in session.exec(
            select(Member).where(Member.team_id == team_id, col(Member.slack_user_id).in_(user_ids))
        )
    }
    return {u for u in user_ids if u not in known or needs_refresh(known[u])}


def set_named_leads(
    session: Session,
    actor: Actor,
    user_ids: set[str],
    profiles: dict[str, SlackProfile | None],
) -> tuple[set[str], set[str]]:
    """Make exactly ``user_ids`` the leads named in App Home; returns (added, removed).
    ``profiles``: what Slack said of the people ``profiles_to_fetch`` named."""
    actor.require(Role.LEAD, "add or remove leads")
    current = {
        member.slack_user_id
        for member in session.exec(
            select(Member).where(Member.team_id == actor.team_id, col(Member.is_lead))
        )
    }
    added, removed = user_ids - current, current - user_ids
    for user_id in sorted(added):
        member = find(session, actor.team_id, user_id)
        if member is None or user_id in profiles:
            member = keep_member(session, actor.team_id, user_id, profiles.get(user_id), utcnow())
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
