"""Storage: SQLModel tables, the engine and sessions, Alembic migrations.

Knows nothing of Slack or of ``bot``.
"""

from storage.db import Database, insert_or_ignore, utcnow
from storage.models import (
    AuditEntry,
    Challenge,
    Idea,
    IdeaDraft,
    IdeaStatus,
    IdeaSubscriber,
    IdeaTerm,
    Member,
    NudgePreference,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    Pulse,
    PulseAnswer,
    PulseParticipation,
    PulseRun,
    Support,
    Workspace,
)

__all__ = [
    "AuditEntry",
    "Challenge",
    "Database",
    "Idea",
    "IdeaDraft",
    "IdeaStatus",
    "IdeaSubscriber",
    "IdeaTerm",
    "Member",
    "NudgePreference",
    "Organisation",
    "OutboxMessage",
    "OutboxStatus",
    "ProcessedEvent",
    "Pulse",
    "PulseAnswer",
    "PulseParticipation",
    "PulseRun",
    "Support",
    "Workspace",
    "insert_or_ignore",
    "utcnow",
]
