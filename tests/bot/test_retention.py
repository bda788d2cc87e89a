"""Retention: each workspace's limits (or the defaults) decide what the daily job deletes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import audit, retention, workspaces
from bot.config import Settings
from bot.errors import UserError
from bot.platform import outbox
from bot.roles import Actor, Role
from storage import AuditEntry, Database, OutboxMessage, OutboxStatus, utcnow

TEAM = "T0KEEP"
LEAD = Actor(TEAM, "U0LEAD001", "Lena", Role.LEAD)


@pytest.fixture
def session(database: Database):
    with database.session() as session:
        workspaces.ensure_workspace(session, TEAM)
        yield session


def _outbox(session: Session, key: str, status: OutboxStatus, age_days: int) -> None:
    outbox.enqueue(session, team_id=TEAM, key=key, kind="test", channel="U1", text="hi")
    row = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()
    row.status, row.created_at = status, utcnow() - timedelta(days=age_days)
    session.add(row)


def test_defaults_keep_audit_two_years_and_sent_messages_thirty_days(session: Session) -> None:
    for days in (10, 800):
        entry = audit.record(session, team_id=TEAM, actor_id="U0LEAD001", action="x")
        entry.at = utcnow() - timedelta(days=days)
    _outbox(session, "sent-old", OutboxStatus.SENT, 31)
    _outbox(session, "sent-new", OutboxStatus.SENT, 5)
    _outbox(session, "pending-old", OutboxStatus.PENDING, 31)  # never deleted unsent
    session.flush()
    deleted = retention.enforce(session)
    assert (deleted.audit, deleted.outbox) == (1, 1)
    assert len(session.exec(select(AuditEntry)).all()) == 1
    keys = sorted(row.key for row in session.exec(select(OutboxMessage)))
    assert keys == ["pending-old", "sent-new"]


def test_a_lead_shortens_the_audit_log_and_bad_values_change_nothing(session: Session) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(UserError, match="between 1 and 3650"):
        workspaces.update_settings(
            session,
            LEAD,
            settings,
            ideas_channel=None,
            digest_channel=None,
            timezone="Europe/London",
            anonymity_min=5,
            keep={"audit": "0"},
        )
    found = workspaces.update_settings(
        session,
        LEAD,
        settings,
        ideas_channel=None,
        digest_channel=None,
        timezone="Europe/London",
        anonymity_min=5,
        keep={"audit": "7", "messages": ""},
    )
    assert (found.retention.audit, found.retention.messages) == (7, 90)
    entry = audit.record(session, team_id=TEAM, actor_id="U0LEAD001", action="old")
    entry.at = utcnow() - timedelta(days=8)
    session.flush()
    assert retention.enforce(session).audit == 1
    assert [e.action for e in session.exec(select(AuditEntry))] == ["settings.update"]
