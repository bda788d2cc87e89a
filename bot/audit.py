"""The audit log: every lead and admin action, with who, what, when, before and after."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from storage import AuditEntry


def record(
    session: Session,
    *,
    team_id: str,
    actor_id: str | None,
    action: str,
    target: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        team_id=team_id, actor_id=actor_id, action=action, target=target, before=before, after=after
    )
    session.add(entry)
    return entry


def recent(session: Session, team_id: str, limit: int = 20) -> list[AuditEntry]:
    query = (
        select(AuditEntry)
        .where(AuditEntry.team_id == team_id)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))
