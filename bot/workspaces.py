"""Workspace rows and the community settings leads edit in App Home."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot import audit
from bot.config import ANONYMITY_FLOOR, Settings
from bot.errors import UserError
from bot.retention import LIMITS, Retention
from bot.retention import of as retention_of
from bot.roles import Actor, Role
from storage import Workspace, insert_or_ignore


@dataclass(frozen=True)
class CommunitySettings:
    ideas_channel: str | None
    digest_channel: str | None
    timezone: str
    anonymity_min: int
    hub_channel: str | None = None  # where case studies go; the digest channel if unset
    retention: Retention = field(default_factory=lambda: retention_of(None))


def ensure_workspace(session: Session, team_id: str, name: str = "") -> Workspace:
    insert_or_ignore(session, Workspace(team_id=team_id, name=name))
    workspace = session.get(Workspace, team_id)
    assert workspace is not None
    return workspace


def community_settings(session: Session, team_id: str, settings: Settings) -> CommunitySettings:
    """What the leads chose in App Home, else the environment's defaults."""
    workspace = session.get(Workspace, team_id)
    return CommunitySettings(
        ideas_channel=(workspace and workspace.ideas_channel) or settings.copbot_ideas_channel,
        digest_channel=(workspace and workspace.digest_channel) or settings.copbot_digest_channel,
        timezone=(workspace and workspace.timezone) or settings.copbot_timezone,
        anonymity_min=(workspace and workspace.anonymity_min) or settings.copbot_anonymity_min,
        hub_channel=(workspace and workspace.hub_channel)
        or (workspace and workspace.digest_channel)
        or settings.copbot_digest_channel,
        retention=retention_of(workspace),
    )


def update_settings(
    session: Session,
    actor: Actor,
    settings: Settings,
    *,
    ideas_channel: str | None,
    digest_channel: str | None,
    timezone: str,
    anonymity_min: int,
    hub_channel: str | None = None,
    keep: Mapping[str, str | int | None] | None = None,
) -> CommunitySettings:
    actor.require(Role.LEAD, "change copbot's settings")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"“{timezone}” is not a time zone I know. Try one like Europe/London.",
            field="timezone",
        ) from None
    if anonymity_min < ANONYMITY_FLOOR:
        raise UserError(
            f"The anonymity minimum can't be below {ANONYMITY_FLOOR}: smaller groups "
            "could identify people.",
            field="anonymity_min",
        )
    before = community_settings(session, actor.team_id, settings)
    workspace = ensure_workspace(session, actor.team_id)
    workspace.ideas_channel = ideas_channel
    workspace.digest_channel = digest_channel
    workspace.hub_channel = hub_channel
    for name, days in _retention_days(keep or {}).items():
        setattr(workspace, f"keep_{name}_days", days)
    workspace.timezone = timezone
    workspace.anonymity_min = anonymity_min
    session.add(workspace)
    after = community_settings(session, actor.team_id, settings)
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="settings.update",
        target="community settings",
        before=asdict(before),
        after=asdict(after),
    )
    return after


def _retention_days(keep: Mapping[str, str | int | None]) -> dict[str, int | None]:
    """Days typed for each retention limit; empty means the default."""
    found: dict[str, int | None] = {}
    for name, raw in keep.items():
        if raw in (None, ""):
            found[name] = None
            continue
        try:
            days = int(str(raw))
        except ValueError:
            raise UserError("Enter a whole number of days.", field=f"keep_{name}") from None
        if not LIMITS[0] <= days <= LIMITS[1]:
            raise UserError(
                f"Choose between {LIMITS[0]} and {LIMITS[1]} days.", field=f"keep_{name}"
            )
        found[name] = days
    return found
