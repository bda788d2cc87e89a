"""The community: workspaces (installations), organisations and members; who asked
to be forgotten; the events already handled; the audit log.

Times are aware UTC throughout (``storage.db.utcnow``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.db import utcnow


class Workspace(SQLModel, table=True):
    """One Slack workspace (installation). Unset settings fall back to the environment."""

    team_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    ideas_channel: str | None = Field(default=None, max_length=32)
    digest_channel: str | None = Field(default=None, max_length=32)
    hub_channel: str | None = Field(default=None, max_length=32)  # case studies
    # Retention in days; None means the default (bot.retention.DEFAULTS).
    keep_messages_days: int | None = None
    keep_audit_days: int | None = None
    keep_outbox_days: int | None = None
    timezone: str | None = Field(default=None, max_length=64)
    anonymity_min: int | None = None
    installed_at: datetime = Field(default_factory=utcnow)
    # The whole directory (users.list) was last read into Member rows; None: never.
    directory_synced_at: datetime | None = None
    # Slack told us the app was uninstalled or its bot token revoked; None: installed.
    uninstalled_at: datetime | None = None


class Organisation(SQLModel, table=True):
    """An organisation in the community's list; ``org_type`` is one of the field defaults."""

    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    name: str = Field(max_length=200)
    org_type: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class Member(SQLModel, table=True):
    """A person in the community, created on first contact from their Slack profile."""

    __table_args__ = (UniqueConstraint("team_id", "slack_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    slack_user_id: str = Field(max_length=32)
    display_name: str = Field(default="", max_length=200)
    real_name: str = Field(default="", max_length=200)
    tz: str | None = Field(default=None, max_length=64)
    staff_group: str | None = Field(default=None, max_length=100)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    is_slack_admin: bool = False
    is_lead: bool = False
    # Deactivated in Slack: kept for history, never in an audience.
    deactivated: bool = False
    profile_refreshed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def name(self) -> str:
        return self.display_name or self.real_name or self.slack_user_id


class ForgottenPerson(SQLModel, table=True):
    """Someone who asked copbot to forget them: a keyed hash (HMAC) of (team, user ID)
    under a key derived from the deployment secret, so the list names nobody without it.
    The directory sync and profile events skip them until they use copbot again."""

    __tablename__ = "forgotten_person"

    key: str = Field(primary_key=True, max_length=64)


class ProcessedEvent(SQLModel, table=True):
    """A delivery key (event_id, or channel+ts for message actions) already handled."""

    key: str = Field(primary_key=True, max_length=200)
    team_id: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, with the state before and after."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    actor_id: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=100)
    target: str = Field(default="", max_length=200)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    at: datetime = Field(default_factory=utcnow, index=True)
