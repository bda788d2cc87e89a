"""Retention: captured messages, the audit log and sent outbox rows are kept for a
limited time, per workspace (leads choose in App Home), then deleted by a daily job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from bot import dedupe
from storage import (
    AuditEntry,
    CapturedMessage,
    LearningMark,
    OutboxMessage,
    OutboxStatus,
    Workspace,
    utcnow,
)

DEFAULTS = {"messages": 90, "audit": 730, "outbox": 30}
LIMITS = (1, 3650)
FINISHED = (OutboxStatus.SENT, OutboxStatus.UNDELIVERABLE, OutboxStatus.CANCELLED)


@dataclass(frozen=True)
class Retention:
    messages: int
    audit: int
    outbox: int


def of(workspace: Workspace | None) -> Retention:
    return Retention(
        messages=(workspace and workspace.keep_messages_days) or DEFAULTS["messages"],
        audit=(workspace and workspace.keep_audit_days) or DEFAULTS["audit"],
        outbox=(workspace and workspace.keep_outbox_days) or DEFAULTS["outbox"],
    )


@dataclass
class Deleted:
    messages: int = 0
    audit: int = 0
    outbox: int = 0


def enforce(session: Session, now: datetime | None = None) -> Deleted:
    """Delete what every workspace keeps past its limits (defaults where unset)."""
    now = now or utcnow()
    deleted = Deleted()
    dedupe.forget_signatures(session, now)
    workspaces = {w.team_id: w for w in session.exec(select(Workspace))}
    teams = set(workspaces) | set(session.exec(select(CapturedMessage.team_id).distinct()))
    for team_id in sorted(teams):
        keep = of(workspaces.get(team_id))
        deleted.messages += _delete(
            session,
            delete(CapturedMessage).where(
                CapturedMessage.team_id == team_id,
                col(CapturedMessage.captured_at) < now - timedelta(days=keep.messages),
            ),
        )
        _delete(  # marks whose message never came (an excluded member's, say)
            session,
            delete(LearningMark).where(
                LearningMark.team_id == team_id,
                col(LearningMark.marked_at) < now - timedelta(days=keep.messages),
            ),
        )
        deleted.audit += _delete(
            session,
            delete(AuditEntry).where(
                AuditEntry.team_id == team_id,
                col(AuditEntry.at) < now - timedelta(days=keep.audit),
            ),
        )
        deleted.outbox += _delete(
            session,
            delete(OutboxMessage).where(
                OutboxMessage.team_id == team_id,
                col(OutboxMessage.status).in_(FINISHED),
                col(OutboxMessage.created_at) < now - timedelta(days=keep.outbox),
            ),
        )
    return deleted


def _delete(session: Session, statement: object) -> int:
    return int(session.exec(statement).rowcount or 0)  # type: ignore[call-overload]
