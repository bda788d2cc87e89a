""" "Download my data" and "what copbot keeps about me": the member's own rows, as
``LINKS`` says, and how often others mention them (never others' words)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from bot.rights.links import LINKS, MENTIONS, table_named
from bot.text import counted
from storage import CapturedMessage, ExchangeInterest, Idea, Member, Reflection, Support, utcnow


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def mentions(session: Session, user_id: str) -> dict[str, int]:
    """How often others mention the person (``<@U…>``), without their words."""
    found = {}
    for what, model, text_column, author in MENTIONS:
        body, by = getattr(model, text_column), getattr(model, author)
        count = session.scalar(
            select(func.count())
            .select_from(model)
            .where(body.contains(f"<@{user_id}", autoescape=True), or_(by.is_(None), by != user_id))
        )
        if count:
            found[what] = count
    return found


def own_rows(session: Session, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """The person's own rows, table by table, with only the columns ``LINKS`` exports."""
    found: dict[str, list[dict[str, Any]]] = {}
    for link in LINKS:
        if not link.export:
            continue
        table = table_named(link.table)
        columns = [table.c[name] for name in link.columns]
        rows = session.execute(select(*columns).where(table.c[link.column] == user_id)).mappings()
        shown = [{k: _plain(v) for k, v in row.items()} for row in rows]
        if shown:
            found[link.key] = shown
    return found


def export(session: Session, team_id: str, user_id: str) -> str:
    """The person's own data, as JSON, for "Download my data"."""
    data = {
        "about": (
            "What copbot holds that is yours, table by table. Other people's words and "
            "choices are not here, even where they name you: mentions are only counted. "
            "Anonymous pulse answers are not here either: nothing links them to you."
        ),
        "user_id": user_id,
        "team_id": team_id,
        "exported_at": utcnow().isoformat(),
        "tables": own_rows(session, user_id),
        "mentions": mentions(session, user_id),
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
        f"*Exchanges*: "
        f"{counted(count(ExchangeInterest, ExchangeInterest.user_id == user_id), 'sign-up')}, "
        "your matches and any feedback you gave.",
        f"*Learning*: {count(CapturedMessage, CapturedMessage.user_id == user_id)} of your "
        "messages kept from captured channels, "
        f"{counted(count(Reflection, Reflection.user_id == user_id), 'reflection')}.",
        "*Settings*: your nudge choices, and a log of what leads and admins did.",
    ]
    return Summary(tuple(lines))
