"""Who gets which nudge. Each function decides recipients and words, then hands every
message to ``send`` so the member's own rules apply; keys make each nudge happen once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot import members
from bot.config import Settings
from bot.ideas import insights
from bot.nudges.send import Outcome, send
from bot.text import escape
from storage import Challenge, Idea, Member


def _section(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def _named(challenge: Challenge) -> str:
    return f"“{escape(challenge.title)}” in <#{challenge.channel_id}>"


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
    text: str,
    now: datetime,
) -> list[Outcome]:
    return [
        send(
            session,
            settings,
            team_id=challenge.team_id,
            user_id=user_id,
            kind=f"challenge.{step}",
            key=f"challenge:{challenge.id}:{step}:{user_id}",
            text=text,
            blocks=_section(text),
            now=now,
        )
        for user_id in people
    ]


def challenge_opening(
    session: Session, settings: Settings, challenge: Challenge, now: datetime
) -> list[Outcome]:
    text = (
        f"A new challenge is open, and your voice is wanted: {_named(challenge)}. "
        "Share an idea from the challenge's post, or with `/idea`."
    )
    return _invite(
        session, settings, challenge, "opening", _audience(session, challenge), text, now
    )


def challenge_closing(
    session: Session, settings: Settings, challenge: Challenge, now: datetime
) -> list[Outcome]:
    """Only people in the audience who have not yet shared an idea for it."""
    shared = set(session.exec(select(Idea.submitted_by).where(Idea.challenge_id == challenge.id)))
    text = (
        f"The challenge {_named(challenge)} closes soon. "
        "If you have an idea, there is still time to share it."
    )
    people = [user for user in _audience(session, challenge) if user not in shared]
    return _invite(session, settings, challenge, "closing", people, text, now)


def ideas_awaiting_review(
    session: Session, settings: Settings, team_id: str, now: datetime
) -> list[Outcome]:
    """Once a week, each lead hears which ideas have waited over 14 days for a decision."""
    waiting = insights.waiting_for_review(session, team_id, now, limit=10)
    if not waiting.total:
        return []
    lines = [
        f"*{waiting.total} ideas have waited over {waiting.days} days for a decision.* "
        "Authors hear nothing until someone decides. The oldest:"
    ]
    lines += [
        f"• <{item.permalink}|{escape(item.title)}>"
        if item.permalink
        else f"• {escape(item.title)}"
        for item in waiting.ideas
    ]
    text = "\n".join(lines)
    week = (now - timedelta(days=now.weekday())).date().isoformat()
    return [
        send(
            session,
            settings,
            team_id=team_id,
            user_id=lead.user_id,
            kind="ideas.awaiting_review",
            key=f"ideas:awaiting:{team_id}:{lead.user_id}:{week}",
            text=text,
            blocks=_section(text),
            now=now,
        )
        for lead in members.leads(session, team_id, settings)
    ]
