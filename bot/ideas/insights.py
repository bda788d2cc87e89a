"""The read side of Ideas: search, my lists, engagement figures and CSV exports.

Plain functions over a Session returning frozen dataclasses, so App Home, slash commands,
challenge summaries and the bench share them. Built for one workspace holding 100,000
ideas and 1,000,000 supports: every figure is an SQL aggregate over an index, and no
function loads all ideas or supports into Python (the export, which is the whole table by
definition, streams the columns it needs).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, literal, or_, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.similarity import terms
from bot.text import spreadsheet_safe
from storage import Challenge, Idea, IdeaStatus, IdeaTerm, Member, Organisation, Support

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


# ---------------------------------------------------------------------- engagement


@dataclass(frozen=True)
class GroupCount:
    label: str
    people: int
    detail: Breakdown | None = None  # organisation types: the organisations within


@dataclass(frozen=True)
class Breakdown:
    """People per group, safe to show: every group shown has at least the anonymity
    minimum; smaller groups are folded into ``other`` ("Other (small groups)"), which is
    itself either 0 or at least the minimum so no small group can be worked out by
    subtraction. ``suppressed`` means even all groups together are too few to show."""

    groups: tuple[GroupCount, ...] = ()
    other: int = 0
    suppressed: bool = False

    def rows(self) -> list[tuple[str, int]]:
        """(label, people) to display, "Other (small groups)" last."""
        shown = [(group.label, group.people) for group in self.groups]
        return [*shown, (OTHER_GROUPS, self.other)] if self.other else shown


@dataclass(frozen=True)
class Engagement:
    """The figures leads see in App Home and ``/idea stats``.

    Totals count everyone, anonymous authors included. The breakdowns ("diversity of
    voices") count people only through what they did in the open: posting an idea
    anonymously never changes any breakdown.
    """

    ideas: int
    ideas_by_status: Mapping[str, int]
    contributors: int  # distinct people who posted or submitted ideas
    supporters: int  # distinct people who support an idea
    supports: int  # supporters summed over ideas that were not merged (merges copy them)
    voices: int  # distinct people who posted or supported
    voices_by_staff_group: Breakdown
    voices_by_organisation_type: Breakdown  # shown types carry their organisations
    anonymity_min: int
    median_days_to_decision: float | None
    decided_ideas: int
    ideas_30_days_old: int  # created at least 30 days ago
    decided_within_30_days: int  # of those, decided within 30 days of being posted
    waiting_over_14_days: int

    @property
    def share_decided_within_30_days(self) -> float | None:
        if not self.ideas_30_days_old:
            return None
        return self.decided_within_30_days / self.ideas_30_days_old


def fold_small_groups(counts: Mapping[str, int], anonymity_min: int) -> Breakdown:
    """Show groups of at least ``anonymity_min`` people; fold the rest into Other.

    Complementary suppression: when Other would hold fewer than ``anonymity_min`` people
    (so a hidden group could be derived from the total), the next smallest shown groups
    join it until it is large enough. When all groups together are too few, nothing is
    shown and the breakdown says so.
    """
    present = {label: people for label, people in counts.items() if people > 0}
    total = sum(present.values())
    if not present:
        return Breakdown()
    if total < anonymity_min:
        return Breakdown(suppressed=True)
    ordered = sorted(present.items(), key=lambda item: (-item[1], item[0]))
    shown = [item for item in ordered if item[1] >= anonymity_min]
    other = total - sum(people for _, people in shown)
    while 0 < other < anonymity_min:
        other += shown.pop()[1]
    return Breakdown(tuple(GroupCount(label, people) for label, people in shown), other)


def _days_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    if dialect == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return (extract("epoch", end) - extract("epoch", start)) / 86400.0


def _median_days_to_decision(session: Session, team_id: str, decided: int) -> float | None:
    """The median in SQL: sort the durations, read the middle one or two."""
    if not decided:
        return None
    days = _days_between(session.get_bind().dialect.name, Idea.created_at, Idea.decided_at)
    query = (
        select(days.label("days"))
        .where(Idea.team_id == team_id, col(Idea.decided_at).is_not(None))
        .order_by(days)
        .offset((decided - 1) // 2)
        .limit(1 if decided % 2 else 2)
    )
    middle = [float(value) for value in session.exec(query)]
    return sum(middle) / len(middle)


def _voices(session: Session, team_id: str) -> list[Any]:
    """People grouped by (staff group, organisation type, organisation, flags), counted.

    Every person is one row of the inner query with three flags: ``public`` (did
    something in the open: a named idea or a support), ``contributor`` and ``supporter``.
    The outer query counts them per profile, so Python only sees a few hundred rows.
    """
    named = case((col(Idea.is_anonymous), 0), else_=1)
    one, zero = literal(1), literal(0)
    # Supporters: the distinct people in ix_support_user_id, each kept if one of their
    # supports is in this team. Grouping a million (support, idea) rows by person instead
    # takes three times as long on SQLite.
    supporting = select(col(Support.user_id).label("user_id")).distinct().subquery()
    theirs = aliased(Support)
    supports_here = (
        select(theirs.id)
        .join(Idea, Idea.id == theirs.idea_id)
        .where(theirs.user_id == supporting.c.user_id, Idea.team_id == team_id)
        .exists()
    )
    acts = union_all(
        select(col(Idea.author_id).label("user_id"), named, one, zero).where(
            Idea.team_id == team_id, col(Idea.author_id).is_not(None)
        ),
        select(col(Idea.submitted_by), named, one, zero).where(
            Idea.team_id == team_id, col(Idea.submitted_by).is_not(None)
        ),
        select(supporting.c.user_id, one, zero, one).where(supports_here),
    ).subquery()
    user_id, public, contributor, supporter = acts.c
    people = (
        select(
            user_id.label("user_id"),
            func.max(public).label("public"),
            func.max(contributor).label("contributor"),
            func.max(supporter).label("supporter"),
        )
        .group_by(user_id)
        .subquery()
    )
    query = (
        select(
            Member.staff_group,
            Organisation.org_type,
            Organisation.name,
            people.c.public,
            people.c.contributor,
            people.c.supporter,
            func.count(),
        )
        .select_from(people)
        .outerjoin(
            Member,
            and_(Member.team_id == team_id, Member.slack_user_id == people.c.user_id),
        )
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .group_by(
            Member.staff_group,
            Organisation.org_type,
            Organisation.name,
            people.c.public,
            people.c.contributor,
            people.c.supporter,
        )
    )
    return list(session.exec(query))


def _breakdowns(rows: Iterable[Any], anonymity_min: int) -> tuple[Breakdown, Breakdown]:
    by_group: dict[str, int] = {}
    by_type: dict[str, int] = {}
    by_organisation: dict[str, dict[str, int]] = {}
    for staff_group, org_type, org_name, public, _, _, people in rows:
        if not public:
            continue
        group, kind = staff_group or NOT_GIVEN, org_type or NOT_GIVEN
        by_group[group] = by_group.get(group, 0) + people
        by_type[kind] = by_type.get(kind, 0) + people
        if org_name:
            within = by_organisation.setdefault(kind, {})
            within[org_name] = within.get(org_name, 0) + people
    types = fold_small_groups(by_type, anonymity_min)
    # Organisations are shown only inside a shown type, folded against that type's count,
    # so subtracting shown organisations from their type never reveals a small one.
    detailed = tuple(
        GroupCount(
            group.label,
            group.people,
            fold_small_groups(by_organisation[group.label], anonymity_min)
            if group.label in by_organisation
            else None,
        )
        for group in types.groups
    )
    return fold_small_groups(by_group, anonymity_min), Breakdown(
        detailed, types.other, types.suppressed
    )


def engagement(session: Session, team_id: str, anonymity_min: int, now: datetime) -> Engagement:
    """Every engagement figure, from a handful of aggregate queries."""
    dialect = session.get_bind().dialect.name
    window = timedelta(days=DECISION_WINDOW_DAYS)
    old_enough = Idea.created_at <= now - window
    decided_in_time = and_(
        old_enough,
        col(Idea.decided_at).is_not(None),
        _days_between(dialect, Idea.created_at, Idea.decided_at) <= DECISION_WINDOW_DAYS,
    )
    waiting = and_(
        col(Idea.status).in_(AWAITING_REVIEW),
        Idea.created_at < now - timedelta(days=REVIEW_WAIT_DAYS),
    )
    # One pass over the team's ideas. Supports are summed from the cards' own counts (kept
    # by the service from the support rows), not by counting a million rows again.
    per_status = session.exec(
        select(
            Idea.status,
            func.count(),
            func.count(Idea.decided_at),
            func.sum(case((old_enough, 1), else_=0)),
            func.sum(case((decided_in_time, 1), else_=0)),
            func.sum(case((waiting, 1), else_=0)),
            func.sum(Idea.supporter_count),
        )
        .where(Idea.team_id == team_id)
        .group_by(Idea.status)
    ).all()
    by_status = {str(status): 0 for status in IdeaStatus}
    decided = old = in_time = waiting_long = supports = 0
    for (
        status,
        count,
        decided_count,
        old_count,
        in_time_count,
        waiting_count,
        backing,
    ) in per_status:
        by_status[status] = int(count)
        decided += int(decided_count)
        old += int(old_count or 0)
        in_time += int(in_time_count or 0)
        waiting_long += int(waiting_count or 0)
        if status != IdeaStatus.MERGED:  # a merge copies its supports to the survivor
            supports += int(backing or 0)
    voices = _voices(session, team_id)
    by_staff_group, by_organisation_type = _breakdowns(voices, anonymity_min)
    return Engagement(
        ideas=sum(by_status.values()),
        ideas_by_status=by_status,
        contributors=sum(row[6] for row in voices if row[4]),
        supporters=sum(row[6] for row in voices if row[5]),
        supports=supports,
        voices=sum(row[6] for row in voices),
        voices_by_staff_group=by_staff_group,
        voices_by_organisation_type=by_organisation_type,
        anonymity_min=anonymity_min,
        median_days_to_decision=_median_days_to_decision(session, team_id, decided),
        decided_ideas=decided,
        ideas_30_days_old=old,
        decided_within_30_days=in_time,
        waiting_over_14_days=waiting_long,
    )


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


__all__ = [
    "ANONYMOUS",
    "EXPORT_COLUMNS",
    "OTHER_GROUPS",
    "STATUS_LABELS",
    "Breakdown",
    "Engagement",
    "GroupCount",
    "IdeaHit",
    "IdeaItem",
    "TrendingIdea",
    "WaitingIdeas",
    "engagement",
    "export_csv",
    "export_rows",
    "fold_small_groups",
    "ideas_by",
    "ideas_supported_by",
    "most_supported_this_week",
    "search",
    "waiting_for_review",
]
