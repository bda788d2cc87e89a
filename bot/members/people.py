"""A person as copbot knows them: found, created on first contact or from a Slack
profile, refreshed when the profile is a day old, and named in messages (as text, never
a mention)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from bot.config import Settings
from bot.members.forgotten import forgotten, unsuppress
from bot.roles import Actor, role_of
from bot.slack import SlackPort, SlackProfile
from bot.workspaces import ensure_workspace
from storage import Database, Member, insert_or_ignore, utcnow

log = logging.getLogger("copbot.members")

PROFILE_MAX_AGE = timedelta(days=1)


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


def refresh_profile(db: Database, team_id: str, user_id: str, slack: SlackPort) -> None:
    """Fetch a known member's profile again (off the ack path: names, time zone, admin),
    with no session open while Slack answers.

    Skipped when it is already fresh: a second request from a stranger can ask for a
    refresh just after the first one landed, and Slack need not be asked twice."""
    with db.session() as session:
        member = find(session, team_id, user_id)
        if member is None or not needs_refresh(member):
            return
    profile = slack.user_info(user_id)
    if profile is None:
        return
    # One UPDATE, not a loaded row: the person may have been erased ("forget me") while
    # Slack was answering, and then there is nothing to refresh.
    with db.session() as session:
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


def name_of(session: Session, team_id: str, user_id: str | None) -> str | None:
    """How copbot writes a person's name in messages: as text, never as a mention."""
    if not user_id:
        return None
    member = find(session, team_id, user_id)
    if member is None:
        return "a colleague"
    return member.real_name or member.display_name or "a colleague"
