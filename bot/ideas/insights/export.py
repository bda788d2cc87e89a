"""The ideas as a CSV for a spreadsheet (a lead's export, a closed challenge's list)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, tzinfo

from sqlalchemy import and_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.ideas.insights.lists import ANONYMOUS, status_label
from bot.text import spreadsheet_safe
from storage import Idea, Member

EXPORT_COLUMNS = (
    "ID",
    "Title",
    "Description",
    "Themes",
    "Status",
    "Rationale",
    "Owner",
    "Supporters",
    "Created",
    "Decided",
    "Permalink",
    "Author",
)
# Spreadsheets run a cell starting with these as a formula (OWASP's CSV injection list).


# -------------------------------------------------------------------------- export


def _name(display_name: str | None, real_name: str | None, user_id: str | None) -> str:
    return display_name or real_name or user_id or ""


def export_rows(
    session: Session, team_id: str, challenge_id: int | None = None, *, tz: tzinfo = UTC
) -> list[dict[str, str]]:
    """One dict per idea, keyed by ``EXPORT_COLUMNS``, oldest first.

    Anonymous ideas say "Anonymous" and nothing else about their author. Dates are ISO
    dates in ``tz`` (UTC unless the caller passes the community's zone).
    """
    owner = aliased(Member)
    author = aliased(Member)
    query = (
        select(
            Idea.id,
            Idea.title,
            Idea.description,
            Idea.themes,
            Idea.status,
            Idea.rationale,
            Idea.owner_id,
            owner.display_name,
            owner.real_name,
            Idea.supporter_count,
            Idea.created_at,
            Idea.decided_at,
            Idea.permalink,
            Idea.is_anonymous,
            Idea.author_id,
            author.display_name,
            author.real_name,
        )
        .outerjoin(owner, and_(owner.team_id == team_id, owner.slack_user_id == Idea.owner_id))
        .outerjoin(
            author,
            and_(
                author.team_id == team_id,
                author.slack_user_id == Idea.author_id,
                ~col(Idea.is_anonymous),
            ),
        )
        .where(Idea.team_id == team_id)
        .order_by(col(Idea.id))
    )
    if challenge_id is not None:
        query = query.where(Idea.challenge_id == challenge_id)
    rows: list[dict[str, str]] = []
    for (
        idea_id,
        title,
        description,
        themes,
        status,
        rationale,
        owner_id,
        owner_display,
        owner_real,
        supporters,
        created_at,
        decided_at,
        permalink,
        is_anonymous,
        author_id,
        author_display,
        author_real,
    ) in session.exec(query):
        values = (
            str(idea_id),
            title,
            description,
            "; ".join(themes or ()),
            status_label(status),
            rationale or "",
            _name(owner_display, owner_real, owner_id),
            str(supporters),
            created_at.astimezone(tz).date().isoformat(),
            decided_at.astimezone(tz).date().isoformat() if decided_at else "",
            permalink or "",
            ANONYMOUS if is_anonymous else _name(author_display, author_real, author_id),
        )
        rows.append(dict(zip(EXPORT_COLUMNS, values, strict=True)))
    return rows


def export_csv(
    session: Session, team_id: str, challenge_id: int | None = None, *, tz: tzinfo = UTC
) -> str:
    """The export as CSV text for a spreadsheet: quoted where needed, formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(session, team_id, challenge_id, tz=tz):
        writer.writerow([spreadsheet_safe(row[column]) for column in EXPORT_COLUMNS])
    return buffer.getvalue()
