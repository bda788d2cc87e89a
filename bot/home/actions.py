"""App Home's use cases: read everything a member's Home shows in one transaction, and
save the profile, the community settings and the leads edited from it.

Home reads every feature's figures; it is no feature itself, so these imports are not
cross-feature ones (``.importlinter``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot import audit, dedupe, members, workspaces
from bot.config import Settings
from bot.errors import UserError
from bot.exchange import rounds as exchange_rounds
from bot.exchange import rules as exchange_rules
from bot.exchange import stats as exchange_stats
from bot.exchange.stats import Figures
from bot.ideas import insights
from bot.ideas.insights import Engagement, IdeaItem, TrendingIdea, WaitingIdeas
from bot.learning import capture
from bot.members import Lead
from bot.nudges import send as nudges
from bot.pulse import design as pulses
from bot.roles import Actor, Role
from bot.slack import SlackPort
from bot.workspaces import CommunitySettings
from storage import (
    AuditEntry,
    Database,
    ExchangeProgramme,
    Member,
    NudgePreference,
    Organisation,
    Pulse,
    utcnow,
)


@dataclass(frozen=True)
class Home:
    """Everything one member's Home tab shows, read at ``now``; the lead's and admin's
    parts are None for others."""

    member: Member
    organisation: Organisation | None
    is_lead: bool
    community: CommunitySettings
    leads: list[Lead]
    now: datetime
    own_ideas: list[IdeaItem]
    supported_ideas: list[IdeaItem]
    trending_ideas: list[TrendingIdea]
    waiting_ideas: WaitingIdeas | None
    engagement: Engagement | None
    pulses: list[tuple[Pulse, bool]]
    exchanges_open: list[ExchangeProgramme]
    exchanges_joined: set[int]
    matches: list[tuple[str, list[str], str]]
    programmes: list[tuple[ExchangeProgramme, Figures]] | None
    captured_channels: list[str]
    capture_excluded: bool
    nudges: NudgePreference
    audit: list[AuditEntry] | None


def home(db: Database, settings: Settings, who: Actor) -> Home:
    with db.session() as session:
        return _read(session, settings, who)


def home_on_open(db: Database, settings: Settings, who: Actor, event_id: str) -> Home | None:
    """The Home for an ``app_home_opened`` event; None for a redelivery already handled."""
    with db.session() as session:
        if not dedupe.claim(session, event_id, who.team_id):
            return None
        return _read(session, settings, who)


def _read(session: Session, settings: Settings, who: Actor) -> Home:
    member = members.find(session, who.team_id, who.user_id)
    if member is None:
        raise UserError("I couldn't find your profile. Please try again.")
    fresh = members.actor_for(member, settings)  # the role as it is now, not as cached
    lead, now = fresh.is_lead, utcnow()
    community = workspaces.community_settings(session, who.team_id, settings)
    team, user = who.team_id, who.user_id
    return Home(
        member=member,
        organisation=(
            session.get(Organisation, member.organisation_id) if member.organisation_id else None
        ),
        is_lead=lead,
        community=community,
        leads=members.leads(session, team, settings) if lead else [],
        now=now,
        own_ideas=insights.ideas_by(session, team, user, limit=5),
        supported_ideas=insights.ideas_supported_by(session, team, user, limit=5),
        trending_ideas=insights.most_supported_this_week(session, team, now, limit=5),
        waiting_ideas=insights.waiting_for_review(session, team, now, limit=5) if lead else None,
        engagement=(
            insights.engagement(session, team, community.anonymity_min, now) if lead else None
        ),
        pulses=pulses.pulses_for(session, team, user),
        exchanges_open=exchange_rules.open_for_signup(session, team, now),
        exchanges_joined=exchange_rules.signed_up_to(session, team, user),
        matches=exchange_rounds.matches_of(session, team, user, limit=5),
        programmes=[
            (programme, exchange_stats.figures(session, team, programme.id, now))
            for programme in exchange_rules.programmes(session, team)[:8]
        ]
        if lead
        else None,
        captured_channels=capture.channels(session, team),
        capture_excluded=capture.is_excluded(session, team, user),
        nudges=nudges.preferences(session, team, user),
        audit=audit.recent(session, team, limit=10) if fresh.role >= Role.ADMIN else None,
    )


@dataclass(frozen=True)
class ProfileForm:
    """What the member chose in the profile modal."""

    staff_group: str | None
    organisation_id: int | None
    new_organisation: str | None
    new_organisation_type: str | None


def profile(db: Database, who: Actor) -> tuple[Member, list[Organisation]]:
    """The member and the organisations they may choose from."""
    with db.session() as session:
        member = members.find(session, who.team_id, who.user_id)
        assert member is not None
        return member, members.organisations(session, who.team_id)


def save_profile(db: Database, who: Actor, form: ProfileForm) -> None:
    with db.session() as session:
        member = members.find(session, who.team_id, who.user_id)
        assert member is not None
        members.update_profile(
            session,
            member,
            staff_group=form.staff_group,
            organisation_id=form.organisation_id,
            new_organisation=form.new_organisation,
            new_organisation_type=form.new_organisation_type,
        )


@dataclass(frozen=True)
class CommunityForm:
    """What a lead chose in the community settings modal."""

    ideas_channel: str | None
    digest_channel: str | None
    hub_channel: str | None
    timezone: str
    anonymity_min: int
    keep: Mapping[str, str | int | None]


def community(db: Database, settings: Settings, who: Actor) -> CommunitySettings:
    with db.session() as session:
        return workspaces.community_settings(session, who.team_id, settings)


def save_community(db: Database, settings: Settings, who: Actor, form: CommunityForm) -> None:
    with db.session() as session:
        workspaces.update_settings(
            session,
            who,
            settings,
            ideas_channel=form.ideas_channel,
            digest_channel=form.digest_channel,
            hub_channel=form.hub_channel,
            timezone=form.timezone,
            anonymity_min=form.anonymity_min,
            keep=form.keep,
        )


def leads(db: Database, settings: Settings, who: Actor) -> list[Lead]:
    with db.session() as session:
        return members.leads(session, who.team_id, settings)


def save_leads(
    db: Database, slack: SlackPort, who: Actor, chosen: set[str]
) -> tuple[set[str], set[str]]:
    """Make exactly ``chosen`` the named leads; returns (added, removed). New leads'
    profiles are read from Slack first, with no session open."""
    who.require(Role.LEAD, "add or remove leads")  # before anyone is looked up in Slack
    with db.session() as session:
        unknown = members.profiles_to_fetch(session, who.team_id, chosen)
    profiles = {user_id: slack.user_info(user_id) for user_id in sorted(unknown)}
    with db.session() as session:
        return members.set_named_leads(session, who, chosen, profiles)
