"""A match's progress, as its members tell it: a date set, done, or can't go ahead, and
their feedback afterwards. Only the people in a match can move it on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.errors import UserError
from bot.exchange import messages
from bot.exchange.rules import NEXT_STEPS
from bot.nudges import send as nudges
from bot.platform import outbox
from bot.platform.rendering import render
from bot.privacy import refuse_patient_identifiers
from storage import (
    ExchangeFeedback,
    ExchangeInterest,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    utcnow,
)


@dataclass(frozen=True)
class MatchView:
    match: ExchangeMatch
    members: list[str]
    programme: ExchangeProgramme

    @property
    def introduction(self) -> messages.Introduction:
        """The match's introduction as it stands (its status decides the buttons)."""
        return messages.Introduction(
            self.match.id or 0,
            self.programme.name,
            self.programme.format,
            tuple(self.members),
            tuple(self.match.reasons),
            NEXT_STEPS.get(self.programme.format, "Agree a first date."),
            self.match.status,
        )


def members_of(session: Session, match_id: int) -> list[str]:
    rows = session.exec(
        select(ExchangeMatchMember.user_id)
        .where(ExchangeMatchMember.match_id == match_id)
        .order_by(col(ExchangeMatchMember.position))
    )
    return list(rows)


def match_view(session: Session, team_id: str, user_id: str, match_id: int) -> MatchView:
    """A match, only for the people in it."""
    match = session.get(ExchangeMatch, match_id)
    members = members_of(session, match_id) if match else []
    if match is None or match.team_id != team_id or user_id not in members:
        raise UserError("Only the people in this match can update it.")
    programme = session.get(ExchangeProgramme, match.programme_id)
    assert programme is not None
    return MatchView(match, members, programme)


def set_status(
    session: Session,
    settings: Settings,
    team_id: str,
    user_id: str,
    match_id: int,
    status: str,
    now: datetime | None = None,
) -> MatchView:
    """A member of the match sets a date, marks it done, or says it can't go ahead."""
    now = now or utcnow()
    view = match_view(session, team_id, user_id, match_id)
    match = view.match
    if match.status == "done":
        raise UserError("This match is already marked done.")
    if match.status == "cancelled":
        raise UserError("This match is already marked as can't go ahead.")
    if match.status not in ("introduced", "date_set"):
        raise UserError("This match hasn't been introduced yet.")
    if status == "date_set" and match.status == "date_set":
        return view
    match.status = status
    if status == "date_set":
        match.date_set_at = now
    elif status == "done":
        match.done_at = match.done_at or now
        request = render(messages.FeedbackRequest(match_id, view.programme.name))
        text, blocks = request.text, request.blocks
        for member in view.members:
            key = f"exchange:{match_id}:feedback:{member}"
            if member == user_id:  # they just pressed Done: an answer, not a nudge
                outbox.enqueue(
                    session,
                    team_id=team_id,
                    key=key,
                    kind="exchange.feedback",
                    channel=member,
                    user_id=member,
                    text=text,
                    blocks=blocks,
                    essential=True,
                )
                continue
            nudges.send(
                session,
                settings,
                team_id=team_id,
                user_id=member,
                kind="exchange.feedback",
                key=key,
                text=text,
                blocks=blocks,
                now=now,
            )
    elif status == "cancelled":
        match.cancelled_at = now
        _cancelled(session, view, user_id)
    session.add(match)
    return view


def _cancelled(session: Session, view: MatchView, by: str) -> None:
    """The lead hears of it; everyone in the match goes first next round."""
    for row in session.exec(
        select(ExchangeInterest).where(
            ExchangeInterest.programme_id == view.programme.id,
            col(ExchangeInterest.user_id).in_(view.members),
        )
    ):
        row.priority = True
        session.add(row)
    tell_lead(
        session,
        view.programme,
        f"exchange:{view.match.id}:cancelled",
        f"A {view.programme.name} match can't go ahead ({messages.people(view.members)}; "
        f"<@{by}> pressed it). They will be matched first next round.",
    )


def record_feedback(
    session: Session,
    team_id: str,
    user_id: str,
    match_id: int,
    *,
    rating: str | int | None,
    learned: str | None,
    recommend: str | None,
) -> ExchangeFeedback:
    """One feedback per person per match; sending again replaces it."""
    view = match_view(session, team_id, user_id, match_id)
    if view.match.status != "done":
        raise UserError("Feedback opens once the exchange is marked done.")
    try:
        score = int(str(rating))
    except ValueError:
        score = 0
    if not 1 <= score <= 5:
        raise UserError("Choose a rating from 1 to 5.", field="rating")
    text = (learned or "").strip()
    refuse_patient_identifiers(text, "learned")
    row = session.exec(
        select(ExchangeFeedback).where(
            ExchangeFeedback.match_id == match_id, ExchangeFeedback.user_id == user_id
        )
    ).first() or ExchangeFeedback(match_id=match_id, team_id=team_id, user_id=user_id, rating=0)
    row.rating, row.learned = score, text[:3000]
    row.recommend = {"yes": True, "no": False}.get((recommend or "").lower())
    session.add(row)
    return row


def tell_lead(
    session: Session,
    programme: ExchangeProgramme,
    key: str,
    text: str,
    due_at: datetime | None = None,
) -> None:
    """A DM to the lead who runs the programme, once per key."""
    if programme.created_by:
        outbox.enqueue(
            session,
            team_id=programme.team_id,
            key=key,
            kind="exchange.lead",
            channel=programme.created_by,
            user_id=programme.created_by,
            text=text,
            essential=True,
            due_at=due_at,
        )
