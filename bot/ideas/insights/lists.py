"""Ideas as lists show them: search, a person's own and supported ideas, the week's most
supported, and what waits for a lead; with the status labels every view uses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_
from sqlmodel import Session, col, select

from bot.similarity import terms
from storage import Challenge, Idea, IdeaStatus, IdeaTerm, Support

STATUS_LABELS: dict[str, str] = {
    IdeaStatus.NEW: "New",
    IdeaStatus.UNDER_REVIEW: "Under review",
    IdeaStatus.IN_PROGRESS: "In progress",
    IdeaStatus.IMPLEMENTED: "Implemented",
    IdeaStatus.NOT_TAKEN_FORWARD: "Not taken forward",
    IdeaStatus.MERGED: "Merged",
}
AWAITING_REVIEW = (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW)
OTHER_GROUPS = "Other (small groups)"
NOT_GIVEN = "Not given"
ANONYMOUS = "Anonymous"
DECISION_WINDOW_DAYS = 30
REVIEW_WAIT_DAYS = 14


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


# --------------------------------------------------------------------------- ideas


@dataclass(frozen=True)
class IdeaItem:
    """One idea as lists show it: enough for a line of text and a link, nothing private."""

    id: int
    title: str
    status: str
    supporter_count: int
    permalink: str | None
    created_at: datetime
    merged_into_id: int | None

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass(frozen=True)
class IdeaHit(IdeaItem):
    """A search result: the idea, its challenge, and why it ranked where it did."""

    challenge_title: str | None
    matched_terms: int
    score: float


@dataclass(frozen=True)
class TrendingIdea(IdeaItem):
    supports_this_week: int


@dataclass(frozen=True)
class WaitingIdeas:
    """The oldest ideas still waiting for a lead, and how many wait in all."""

    ideas: tuple[IdeaItem, ...]
    total: int
    days: int


def _item_columns() -> tuple[Any, ...]:
    return (
        col(Idea.id),
        col(Idea.title),
        col(Idea.status),
        col(Idea.supporter_count),
        col(Idea.permalink),
        col(Idea.created_at),
        col(Idea.merged_into_id),
    )


def _item(row: Sequence[Any]) -> IdeaItem:
    return IdeaItem(*row[:7])


def search(session: Session, team_id: str, words: str, limit: int = 10) -> list[IdeaHit]:
    """Ideas sharing words with the query, best first.

    Ranking: ideas that are not merged before merged ones, then ideas matching more of the
    query's terms, then the sum of weight × idf (idf = log(N / df): rare words count
    more). An empty or stopword-only query finds nothing; the handler says why.
    """
    wanted = sorted(set(terms(words)))
    if not wanted or limit <= 0:
        return []
    total_ideas = session.exec(
        select(func.count()).select_from(Idea).where(Idea.team_id == team_id)
    ).one()
    df_rows = session.exec(
        select(IdeaTerm.term, func.count())
        .where(IdeaTerm.team_id == team_id, col(IdeaTerm.term).in_(wanted))
        .group_by(IdeaTerm.term)
    ).all()
    idf = {term: math.log(max(total_ideas, df) / df) for term, df in df_rows if df}
    if not idf:
        return []
    weight_idf = case(
        *((IdeaTerm.term == term, literal(value)) for term, value in idf.items()), else_=0.0
    )
    matched = func.count().label("matched")
    score = func.sum(col(IdeaTerm.weight) * weight_idf).label("score")
    # Merged ideas are few: flag them by id while aggregating, so only the winners are
    # joined to ``idea`` (joining every candidate costs more than the aggregate itself).
    merged_ids = select(Idea.id).where(Idea.team_id == team_id, Idea.status == IdeaStatus.MERGED)
    merged = case((col(IdeaTerm.idea_id).in_(merged_ids), 1), else_=0).label("merged")
    ranking = (merged, matched.desc(), score.desc(), col(IdeaTerm.idea_id).desc())
    best = (
        select(col(IdeaTerm.idea_id).label("idea_id"), matched, score, merged)
        .where(IdeaTerm.team_id == team_id, col(IdeaTerm.term).in_(list(idf)))
        .group_by(IdeaTerm.idea_id)
        .order_by(*ranking)
        .limit(limit)
        .subquery()
    )
    query = (
        select(*_item_columns(), Challenge.title, best.c.matched, best.c.score)
        .join(best, best.c.idea_id == Idea.id)
        .outerjoin(Challenge, Challenge.id == Idea.challenge_id)
        .order_by(best.c.merged, best.c.matched.desc(), best.c.score.desc(), col(Idea.id).desc())
    )
    return [
        IdeaHit(*row[:7], challenge_title=row[7], matched_terms=int(row[8]), score=float(row[9]))
        for row in session.exec(query)
    ]


def ideas_by(session: Session, team_id: str, user_id: str, limit: int = 10) -> list[IdeaItem]:
    """The person's own ideas, anonymous ones included (only they see this list)."""
    query = (
        select(*_item_columns())
        .where(
            Idea.team_id == team_id,
            or_(Idea.author_id == user_id, Idea.submitted_by == user_id),
        )
        .order_by(col(Idea.created_at).desc(), col(Idea.id).desc())
        .limit(limit)
    )
    return [_item(row) for row in session.exec(query)]


def ideas_supported_by(
    session: Session, team_id: str, user_id: str, limit: int = 10
) -> list[IdeaItem]:
    """Ideas the person supports, most recently supported first."""
    query = (
        select(*_item_columns())
        .join(Support, Support.idea_id == Idea.id)
        .where(Support.user_id == user_id, Idea.team_id == team_id)
        .order_by(col(Support.created_at).desc(), col(Support.id).desc())
        .limit(limit)
    )
    return [_item(row) for row in session.exec(query)]


def most_supported_this_week(
    session: Session, team_id: str, now: datetime, limit: int = 5
) -> list[TrendingIdea]:
    """Ideas ranked by supports given in the last 7 days; merged ideas are left out."""
    recent = (
        select(col(Support.idea_id).label("idea_id"), func.count().label("supports"))
        .where(Support.created_at > now - timedelta(days=7), Support.created_at <= now)
        .group_by(Support.idea_id)
        .subquery()
    )
    query = (
        select(*_item_columns(), recent.c.supports)
        .join(recent, recent.c.idea_id == Idea.id)
        .where(Idea.team_id == team_id, Idea.status != IdeaStatus.MERGED)
        .order_by(recent.c.supports.desc(), col(Idea.supporter_count).desc(), col(Idea.id).desc())
        .limit(limit)
    )
    return [TrendingIdea(*row[:7], supports_this_week=int(row[7])) for row in session.exec(query)]


def _waiting_filter(team_id: str, now: datetime, days: int) -> ColumnElement[bool]:
    return and_(
        Idea.team_id == team_id,
        col(Idea.status).in_(AWAITING_REVIEW),
        Idea.created_at < now - timedelta(days=days),
    )


def waiting_for_review(
    session: Session, team_id: str, now: datetime, days: int = REVIEW_WAIT_DAYS, limit: int = 10
) -> WaitingIdeas:
    """New or under-review ideas older than ``days``: the "black hole" leads must empty."""
    where = _waiting_filter(team_id, now, days)
    total = session.exec(select(func.count()).select_from(Idea).where(where)).one()
    # One ordered, limited index range per status, merged here: a single query over both
    # statuses cannot read ix_idea_team_status_created in created_at order.
    oldest: list[IdeaItem] = []
    for status in AWAITING_REVIEW:
        query = (
            select(*_item_columns())
            .where(where, Idea.status == status)
            .order_by(col(Idea.created_at), col(Idea.id))
            .limit(limit)
        )
        oldest.extend(_item(row) for row in session.exec(query))
    oldest.sort(key=lambda idea: (idea.created_at, idea.id))
    return WaitingIdeas(tuple(oldest[:limit]), int(total), days)
