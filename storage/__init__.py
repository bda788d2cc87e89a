"""Storage: SQLModel tables, the engine and sessions, Alembic migrations.

Knows nothing of Slack or of ``bot``.
"""

from storage.db import Database, insert_or_ignore, utcnow
from storage.models import AuditEntry, Member, Organisation, ProcessedEvent, Workspace

__all__ = [
    "AuditEntry",
    "Database",
    "Member",
    "Organisation",
    "ProcessedEvent",
    "Workspace",
    "insert_or_ignore",
    "utcnow",
]
