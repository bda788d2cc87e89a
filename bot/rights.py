"""Privacy rights for every member: what copbot keeps about me, my data as a file, and
"forget me".

Erasure works in two passes. First the rows that are only about the person go (profile,
preferences, drafts, sign-ups, captured messages, reflections, reminder bookkeeping).
Then every text and JSON column of every table is searched for their Slack user ID,
which is replaced by a tombstone: their ideas and supports stay, so counts stay true,
but nothing points to them. Anonymous pulse answers are untouched: nothing links them.
Searching every column, not a list of known ones, is what makes erasure complete as
tables are added.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, func, or_, select, update
from sqlmodel import Session, SQLModel

from bot import audit
from storage import (
    CapturedMessage,
    CaptureOptOut,
    ExchangeInterest,
    Idea,
    IdeaDraft,
    IdeaSubscriber,
    Member,
    NudgePreference,
    OutboxMessage,
    ProcessedEvent,
    PulseParticipation,
    Reflection,
    Support,
    utcnow,
)

# Rows that exist only for the person: deleted outright.
PERSONAL = (
    (Member, Member.slack_user_id),
    (NudgePreference, NudgePreference.user_id),
    (IdeaDraft, IdeaDraft.user_id),
    (IdeaSubscriber, IdeaSubscriber.user_id),
    (PulseParticipation, PulseParticipation.user_id),
    (ExchangeInterest, ExchangeInterest.user_id),
    (CapturedMessage, CapturedMessage.user_id),
    (CaptureOptOut, CaptureOptOut.user_id),
    (Reflection, Reflection.user_id),
    (OutboxMessage, OutboxMessage.user_id),
)


def _columns(table: Table) -> Iterator[Any]:
    """Columns that can hold a user ID: strings and JSON."""
    for column in table.columns:
        kind = getattr(column.type, "impl_instance", column.type)  # through TypeDecorators
        if isinstance(kind, String | Text | JSON):
            yield column


def _as_text(column: Any) -> Any:
    return cast(column, Text) if isinstance(column.type, JSON) else column


def _mentions(table: Table, user_id: str) -> Any:
    pattern = f"%{user_id}%"
    return or_(*(_as_text(c).like(pattern) for c in _columns(table)))


def tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "apscheduler_jobs"]


def linked_rows(session: Session, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row, in every table, that holds the person's user ID anywhere."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table in tables():
        if not list(_columns(table)):
            continue
        rows = session.execute(select(table).where(_mentions(table, user_id))).mappings().all()
        if rows:
            found[table.name] = [dict(row) for row in rows]
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export(session: Session, team_id: str, user_id: str) -> str:
    """Everything linked to the person, as JSON, for "Download my data"."""
    data = {
        "about": (
            "Everything copbot holds that is linked to your Slack user ID, table by table. "
            "Anonymous pulse answers are not here: nothing links them to you."
        ),
        "user_id": user_id,
        "team_id": team_id,
        "exported_at": utcnow().isoformat(),
        "tables": {
            name: [{k: _plain(v) for k, v in row.items()} for row in rows]
            for name, rows in linked_rows(session, user_id).items()
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Summary:
    lines: tuple[str, ...]


def summary(session: Session, team_id: str, user_id: str) -> Summary:
    """What copbot keeps about the person, in plain words."""

    def count(model: Any, *where: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    profile = session.scalars(
        select(Member).where(Member.team_id == team_id, Member.slack_user_id == user_id)
    ).first()
    lines = [
        "*Your profile*: your name and time zone from Slack"
        + (f", staff group {profile.staff_group}" if profile and profile.staff_group else "")
        + (", your organisation" if profile and profile.organisation_id else "")
        + ".",
        f"*Ideas*: {count(Idea, Idea.author_id == user_id)} you wrote, "
        f"{count(Support, Support.user_id == user_id)} you support.",
        "*Pulse checks*: whether you have answered each open pulse, only to send one "
        "reminder. What you answered in an anonymous pulse is stored with no link to you, "
        "so it can't be shown, exported or deleted as yours.",
        f"*Exchanges*: {count(ExchangeInterest, ExchangeInterest.user_id == user_id)} "
        "sign-ups, your matches and any feedback you gave.",
        f"*Learning*: {count(CapturedMessage, CapturedMessage.user_id == user_id)} of your "
        f"messages kept from captured channels, {count(Reflection, Reflection.user_id == user_id)} "
        "reflections.",
        "*Settings*: your nudge choices, and a log of what leads and admins did.",
    ]
    return Summary(tuple(lines))


def forget(session: Session, team_id: str, user_id: str) -> str:
    """Erase the person; returns the tombstone that now stands where their ID was."""
    if not user_id or len(user_id) < 3:
        raise ValueError("a user ID is needed")
    tombstone = f"gone-{secrets.token_hex(6)}"
    for model, column in PERSONAL:
        session.exec(delete(model).where(column == user_id))  # type: ignore[call-overload]
    session.exec(
        delete(ProcessedEvent).where(ProcessedEvent.key.like(f"%{user_id}%"))  # type: ignore[attr-defined,call-overload]
    )
    session.exec(
        update(Idea).where(Idea.author_id == user_id).values(is_anonymous=True)  # type: ignore[call-overload]
    )
    for table in tables():
        _scrub(session, table, user_id, tombstone)
    audit.record(
        session, team_id=team_id, actor_id=tombstone, action="member.forgotten", target=tombstone
    )
    return tombstone


def _scrub(session: Session, table: Table, user_id: str, tombstone: str) -> None:
    columns = list(_columns(table))
    if not columns:
        return
    rows = session.execute(select(table).where(_mentions(table, user_id))).mappings().all()
    keys = list(table.primary_key.columns)
    for row in rows:
        changes = {}
        for column in columns:
            value = row[column.name]
            if value is None:
                continue
            if isinstance(column.type, JSON):
                text = json.dumps(value)
                if user_id in text:
                    changes[column.name] = json.loads(text.replace(user_id, tombstone))
            elif user_id in value:
                changes[column.name] = value.replace(user_id, tombstone)
        if changes:
            where = [key == row[key.name] for key in keys]
            session.execute(update(table).where(*where).values(**changes))
