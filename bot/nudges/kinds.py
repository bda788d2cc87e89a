"""Who gets which nudge. Each function decides recipients and words, then hands every
message to ``send`` so the member's own rules apply; keys make each nudge happen once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import members
from bot.config import Settings
from bot.ideas import insights
from bot.nudges.messages import ChallengeNudge, IdeasAwaitingReview
from bot.nudges.send import Outcome, send
from bot.platform.rendering import render
from storage import Challenge, Idea, Member


def _audience(session: Session, challenge: Challenge) -> list[str]:
    """Members of the challenge's target staff groups: a personal invitation, never a
    broadcast. With no target groups the channel announcement is the only message."""
    if not challenge.target_groups:
        return []
    query = select(Member.slack_user_id).where(
        Member.team_id == challenge.team_id, col(Member.staff_group).in_(challenge.target_groups)
    )
    return sorted(session.exec(query))


def _invite(
    session: Session,
    settings: Settings,
    challenge: Challenge,
    step: str,
    people: list[str],
    now: datetime,
) -> list[Outcome]:
    said = render(ChallengeNudge(challenge.title, challenge.channel_id, step == "closing"))
    return [
        send(
            session,
            settings,
            team_id=challenge.team_id,
            user_id=user_id,
            kind=f"challenge.{step}",
            key=f"challenge:{challenge.id}:{step}:{user_id}",
            text=said.text,
            blocks=said.blocks,
            now=now,
        )
        for user_id in people
    ]


def challenge_opening(
    session: Session, settings: Settings, challenge: Challenge, now: datetime
) -> list[Outcome]:
    return _invite(session, settings, challenge, "opening", _audience(session, challenge), now)


def challenge_closing(
    session: Session, settings: Settings, challenge: Challenge, now: datetime
) -> list[Outcome]:
    """Only people in the audience who have not yet shared an idea for it."""
    shared = set(session.exec(select(Idea.submitted_by).where(Idea.challenge_id == challenge.id)))
    people = [user for user in _audience(session, challenge) if user not in shared]
    return _invite(session, settings, challenge, "closing", people, now)


def ideas_awaiting_review(
    session: Session, settings: Settings, team_id: str, now: datetime
) -> list[Outcome]:
    """Once a week, each lead hears which ideas have waited over 14 days for a decision."""
    waiting = insights.waiting_for_review(session, team_id, now, limit=10)
    if not waiting.total:
        return []
    oldest = tuple((item.title, item.permalink) for item in waiting.ideas)
    said = render(IdeasAwaitingReview(waiting.total, waiting.days, oldest))
    week = (now - timedelta(days=now.weekday())).date().isoformat()
    return [
        send(
            session,
            settings,
            team_id=team_id,
            user_id=lead.user_id,
            kind="ideas.awaiting_review",
            key=f"ideas:awaiting:{team_id}:{lead.user_id}:{week}",
            text=said.text,
            blocks=said.blocks,
            now=now,
        )
        for lead in members.leads(session, team_id, settings)
    ]
