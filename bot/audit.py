"""The audit log: every lead and admin action, with who, what, when, before and after."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session, col, select

from bot.text import spreadsheet_safe
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


CSV_COLUMNS = ("at", "actor_id", "action", "target", "before", "after")


def export_csv(session: Session, team_id: str) -> str:
    """The whole audit log as CSV, oldest first; cells that a spreadsheet would run as a
    formula are defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = (
        select(AuditEntry)
        .where(AuditEntry.team_id == team_id)
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
    )
    for entry in session.exec(query):
        cells = [
            entry.actor_id or "",
            entry.action,
            entry.target,
            json.dumps(entry.before, ensure_ascii=False) if entry.before else "",
            json.dumps(entry.after, ensure_ascii=False) if entry.after else "",
        ]
        writer.writerow([entry.at.isoformat(), *map(spreadsheet_safe, cells)])
    return out.getvalue()
