"""Programme figures for leads: taking part, matching across boundaries, follow-through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations

from sqlmodel import Session, col, func, select

from storage import (
    ExchangeFeedback,
    ExchangeInterest,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    ExchangeRound,
    Member,
    utcnow,
)

APPROVED = ("approved", "introduced", "date_set", "done", "cancelled")


@dataclass(frozen=True)
class Figures:
    sign_ups: int
    community: int
    matches: int
    completed: int
    cross_organisation: float | None
    cross_staff_group: float | None
    feedback_returned: int
    feedback_expected: int
    average_rating: float | None
    new_connections_this_quarter: int

    @property
    def taking_part(self) -> float | None:
        return self.sign_ups / self.community if self.community else None


def _profiles(session: Session, programme_ids: list[int]) -> dict[tuple[int, str], tuple[str, str]]:
    rows = session.exec(
        select(
            ExchangeInterest.programme_id,
            ExchangeInterest.user_id,
            ExchangeInterest.organisation,
            ExchangeInterest.staff_group,
        ).where(col(ExchangeInterest.programme_id).in_(programme_ids))
    )
    return {(p, u): (org, group) for p, u, org, group in rows}


def _crosses(values: Sequence[str]) -> bool:
    known = [v for v in values if v]
    return len(set(known)) > 1


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def round_figures(
    session: Session,
    programme: ExchangeProgramme,
    found: Sequence[tuple[ExchangeMatch, Sequence[str]]],
) -> str:
    """One line under a proposal: how many, and how far across boundaries."""
    profiles = _profiles(session, [programme.id or 0])
    people = sum(len(members) for _, members in found)
    orgs = [[profiles.get((programme.id or 0, u), ("", ""))[0] for u in m] for _, m in found]
    groups = [[profiles.get((programme.id or 0, u), ("", ""))[1] for u in m] for _, m in found]
    cross_org = _share(sum(_crosses(o) for o in orgs), len(found))
    cross_group = _share(sum(_crosses(g) for g in groups), len(found))
    return (
        f"{len(found)} matches for {people} people"
        + (f" · {cross_org:.0%} across organisations" if cross_org is not None else "")
        + (f" · {cross_group:.0%} across staff groups" if cross_group is not None else "")
    )


def _quarter_start(now: datetime) -> datetime:
    return datetime(now.year, 3 * ((now.month - 1) // 3) + 1, 1, tzinfo=UTC)


def figures(
    session: Session, team_id: str, programme_id: int | None = None, now: datetime | None = None
) -> Figures:
    now = now or utcnow()
    scope = select(ExchangeProgramme.id).where(ExchangeProgramme.team_id == team_id)
    if programme_id is not None:
        scope = scope.where(ExchangeProgramme.id == programme_id)
    programme_ids = list(session.exec(scope))
    sign_ups = session.exec(
        select(func.count(func.distinct(ExchangeInterest.user_id))).where(
            col(ExchangeInterest.programme_id).in_(programme_ids),
            col(ExchangeInterest.withdrawn_at).is_(None),
        )
    ).one()
    community = session.exec(
        select(func.count()).select_from(Member).where(Member.team_id == team_id)
    ).one()
    rows = session.exec(
        select(ExchangeMatch, ExchangeRound.approved_at)
        .join(ExchangeRound, col(ExchangeRound.id) == ExchangeMatch.round_id)
        .where(
            col(ExchangeMatch.programme_id).in_(programme_ids),
            col(ExchangeMatch.status).in_(APPROVED),
        )
    ).all()
    members: dict[int, list[str]] = {m.id or 0: [] for m, _ in rows}
    for match_id, user_id in session.exec(
        select(ExchangeMatchMember.match_id, ExchangeMatchMember.user_id).where(
            col(ExchangeMatchMember.match_id).in_(list(members))
        )
    ):
        members[match_id].append(user_id)
    profiles = _profiles(session, programme_ids)

    def values(match: ExchangeMatch, index: int) -> list[str]:
        return [
            profiles.get((match.programme_id, u), ("", ""))[index] for u in members[match.id or 0]
        ]

    done = [m for m, _ in rows if m.status == "done"]
    feedback = session.exec(
        select(ExchangeFeedback.rating).where(
            col(ExchangeFeedback.match_id).in_([m.id for m in done])
        )
    ).all()
    quarter = _quarter_start(now)
    earlier: set[frozenset[str]] = set()
    recent: set[frozenset[str]] = set()
    for match, approved_at in sorted(rows, key=lambda r: r[1] or now):
        org_of = dict(zip(members[match.id or 0], values(match, 0), strict=True))
        for a, b in combinations(sorted(members[match.id or 0]), 2):
            pair = frozenset((a, b))
            if approved_at and approved_at.replace(tzinfo=approved_at.tzinfo or UTC) >= quarter:
                if pair not in earlier and org_of[a] and org_of[b] and org_of[a] != org_of[b]:
                    recent.add(pair)
            else:
                earlier.add(pair)
    return Figures(
        sign_ups=sign_ups,
        community=community,
        matches=len(rows),
        completed=len(done),
        cross_organisation=_share(sum(_crosses(values(m, 0)) for m, _ in rows), len(rows)),
        cross_staff_group=_share(sum(_crosses(values(m, 1)) for m, _ in rows), len(rows)),
        feedback_returned=len(feedback),
        feedback_expected=sum(len(members[m.id or 0]) for m in done),
        average_rating=sum(feedback) / len(feedback) if feedback else None,
        new_connections_this_quarter=len(recent),
    )


def figures_text(title: str, found: Figures) -> str:
    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    rating = "–" if found.average_rating is None else f"{found.average_rating:.1f} out of 5"
    return "\n".join(
        [
            f"*{title}*",
            f"Sign-ups: {found.sign_ups} ({pct(found.taking_part)} of the community)",
            f"Matches: {found.matches} · exchanges completed: {found.completed}",
            f"Across organisations: {pct(found.cross_organisation)} · across staff groups: "
            f"{pct(found.cross_staff_group)}",
            f"Feedback returned: {found.feedback_returned} of {found.feedback_expected} · "
            f"average rating: {rating}",
            f"New cross-organisation connections this quarter: "
            f"{found.new_connections_this_quarter}",
        ]
    )
