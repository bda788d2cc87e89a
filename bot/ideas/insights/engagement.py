"""Engagement figures for leads: ideas, contributors and supporters, decisions and their
pace, and whose voices are heard, with groups under the anonymity minimum folded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, literal, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.ideas.insights.lists import (
    AWAITING_REVIEW,
    DECISION_WINDOW_DAYS,
    NOT_GIVEN,
    OTHER_GROUPS,
    REVIEW_WAIT_DAYS,
)
from storage import Idea, IdeaStatus, Member, Organisation, Support

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
    # by the rules from the support rows), not by counting a million rows again.
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
