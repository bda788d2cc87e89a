"""Challenges: a question leads put to the community, open between two dates, whose
answers feed a design-group workshop (summary in the channel, CSV to the lead)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from bot import audit
from bot.config import Settings
from bot.defaults import CHALLENGE_TAGS, STAFF_GROUPS
from bot.errors import UserError
from bot.ideas import insights
from bot.ideas.messages import ChallengeClosed, ChallengePost
from bot.ids import as_id
from bot.nudges import kinds
from bot.platform import outbox
from bot.platform.rendering import render
from bot.privacy import refuse_patient_identifiers
from bot.roles import Actor, Role
from bot.slack import SlackPort
from bot.workspaces import community_settings
from storage import Challenge, Idea, IdeaStatus, Member, Organisation, Support, utcnow

REMIND_BEFORE = timedelta(days=1)


@dataclass(frozen=True)
class ChallengeFields:
    title: str
    description: str
    tags: tuple[str, ...]
    channel_id: str
    opens_at: datetime
    closes_at: datetime
    target_groups: tuple[str, ...] = ()


def validate(
    *,
    title: str | None,
    description: str | None,
    tags: list[str] | None,
    channel_id: str | None,
    opens: date | None,
    closes: date | None,
    target_groups: list[str] | None,
    timezone: str,
    today: date,
) -> ChallengeFields:
    """Dates are whole days in the community's time zone: open from the start of the
    opening day to the end of the closing day."""
    title = " ".join((title or "").split())
    if not title:
        raise UserError("Write the challenge as a question.", field="title")
    if len(title) > 150:
        raise UserError("Keep the question to 150 characters or fewer.", field="title")
    description = (description or "").strip()
    if len(description) > 3000:
        raise UserError("Keep the description to 3000 characters or fewer.", field="description")
    refuse_patient_identifiers(title, "title")
    refuse_patient_identifiers(description, "description")
    if not channel_id:
        raise UserError("Choose the channel where the challenge runs.", field="channel")
    if any(tag not in CHALLENGE_TAGS for tag in tags or []):
        raise UserError("Choose tags from the list.", field="tags")
    if any(group not in STAFF_GROUPS for group in target_groups or []):
        raise UserError("Choose staff groups from the list.", field="target_groups")
    opens = opens or today
    if closes is None:
        raise UserError("Choose when the challenge closes.", field="closes")
    if opens < today:
        raise UserError("The challenge can't open in the past.", field="opens")
    if closes < opens:
        raise UserError("It must close on or after the day it opens.", field="closes")
    zone = ZoneInfo(timezone)
    return ChallengeFields(
        title=title,
        description=description,
        tags=tuple(tags or ()),
        channel_id=channel_id,
        opens_at=datetime.combine(opens, time.min, zone).astimezone(UTC),
        closes_at=datetime.combine(closes + timedelta(days=1), time.min, zone).astimezone(UTC),
        target_groups=tuple(target_groups or ()),
    )


def create(session: Session, actor: Actor, fields: ChallengeFields) -> Challenge:
    actor.require(Role.LEAD, "create challenges")
    challenge = Challenge(
        team_id=actor.team_id,
        title=fields.title,
        description=fields.description,
        tags=list(fields.tags),
        target_groups=list(fields.target_groups),
        channel_id=fields.channel_id,
        opens_at=fields.opens_at,
        closes_at=fields.closes_at,
        created_by=actor.user_id,
    )
    session.add(challenge)
    session.flush()
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="challenge.create",
        target=f"challenge {challenge.id}",
        after={"title": challenge.title, "channel": challenge.channel_id},
    )
    return challenge


def get(session: Session, team_id: str, challenge_id: int | str | None) -> Challenge:
    key = as_id(challenge_id) or 0
    challenge = session.get(Challenge, key)
    if challenge is None or challenge.team_id != team_id:
        raise UserError("Sorry, that challenge is no longer available.")
    return challenge


def _steps_due(now: datetime) -> dict[str, ColumnElement[bool]]:
    """Each step's condition on a challenge not yet closed: announce at opening, remind
    a day before closing, close at the end."""
    return {
        "announce": and_(col(Challenge.announced_at).is_(None), Challenge.opens_at <= now),
        "remind": and_(
            col(Challenge.reminder_sent_at).is_(None),
            col(Challenge.announced_at).is_not(None),
            Challenge.closes_at - REMIND_BEFORE <= now,
            Challenge.closes_at > now,
        ),
        "close": col(Challenge.closes_at) <= now,
    }


def anything_due(session: Session, now: datetime) -> bool:
    """One query: is any challenge's next step due (most runs of the job find none)?"""
    found = select(Challenge.id).where(
        col(Challenge.closed_at).is_(None), or_(*_steps_due(now).values())
    )
    return session.exec(found.limit(1)).first() is not None


def due(session: Session, now: datetime | None = None) -> dict[str, list[Challenge]]:
    """Challenges whose next step is due: announce at opening, remind a day before
    closing, close at the end. Called by the scheduler; each step happens once."""
    base = select(Challenge).where(col(Challenge.closed_at).is_(None))
    return {
        step: list(session.exec(base.where(condition)))
        for step, condition in _steps_due(now or utcnow()).items()
    }


@dataclass(frozen=True)
class Summary:
    """What a challenge gathered, safe to post: voices only for groups big enough."""

    ideas: int
    contributors: int
    supporters: int
    top: list[tuple[str, int, str | None]]  # title, supporters, permalink
    themes: list[tuple[str, int]]
    by_staff_group: list[tuple[str, int]]
    by_organisation: list[tuple[str, int]]


def summarise(session: Session, challenge: Challenge, anonymity_min: int) -> Summary:
    ideas = list(
        session.exec(
            select(Idea).where(Idea.challenge_id == challenge.id, Idea.status != IdeaStatus.MERGED)
        )
    )
    ids = [idea.id for idea in ideas]
    supports = list(session.exec(select(Support.user_id).where(col(Support.idea_id).in_(ids))))
    named = {idea.author_id for idea in ideas if not idea.is_anonymous and idea.author_id}
    voices = named | set(supports)
    people = list(
        session.exec(
            select(Member.staff_group, Organisation.name)
            .join(Organisation, col(Member.organisation_id) == Organisation.id, isouter=True)
            .where(Member.team_id == challenge.team_id, col(Member.slack_user_id).in_(voices))
        )
    )
    top = sorted(ideas, key=lambda idea: (-idea.supporter_count, idea.id or 0))[:3]
    return Summary(
        ideas=len(ideas),
        contributors=len({idea.author_id for idea in ideas}),
        supporters=len(set(supports)),
        top=[(idea.title, idea.supporter_count, idea.permalink) for idea in top],
        themes=Counter(theme for idea in ideas for theme in idea.themes).most_common(),
        by_staff_group=insights.fold_small_groups(
            Counter(group or insights.NOT_GIVEN for group, _ in people), anonymity_min
        ).rows(),
        by_organisation=insights.fold_small_groups(
            Counter(org or insights.NOT_GIVEN for _, org in people), anonymity_min
        ).rows(),
    )


def mark(session: Session, challenge: Challenge, **changes: Any) -> None:
    for key, value in changes.items():
        setattr(challenge, key, value)
    session.add(challenge)


def take_steps(
    session: Session, challenge: Challenge, *, settings: Settings, now: datetime | None = None
) -> list[str]:
    """Take every step now due for one challenge: announce, remind, close. Returns the
    steps taken. Channel posts go through the outbox under a key per step, so each is
    sent once even if this runs again; the lead's CSV (``closing_csv``) is the caller's."""
    now = now or utcnow()
    community = community_settings(session, challenge.team_id, settings)
    taken: list[str] = []
    if challenge.closed_at is not None:
        return taken
    if challenge.announced_at is None and challenge.opens_at <= now:
        _post(session, challenge, "announce", _announcement(challenge, community.timezone))
        mark(session, challenge, announced_at=now)
        kinds.challenge_opening(session, settings, challenge, now)
        taken.append("announce")
    if challenge.announced_at is None:
        return taken
    if challenge.closes_at <= now:
        summary = summarise(session, challenge, community.anonymity_min)
        _post(session, challenge, "summary", ChallengeClosed(challenge.title, summary))
        mark(session, challenge, closed_at=now)
        taken.append("close")
    elif challenge.reminder_sent_at is None and challenge.closes_at - REMIND_BEFORE <= now:
        count = len(list(session.exec(select(Idea.id).where(Idea.challenge_id == challenge.id))))
        reminder = _announcement(challenge, community.timezone, reminder=True, so_far=count)
        _post(session, challenge, "reminder", reminder)
        mark(session, challenge, reminder_sent_at=now)
        kinds.challenge_closing(session, settings, challenge, now)
        taken.append("remind")
    return taken


@dataclass(frozen=True)
class ChallengeCsv:
    """The ideas of a closing challenge, for its lead's workshop."""

    user_id: str
    filename: str
    content: str
    title: str


def closing_csv(session: Session, challenge: Challenge, now: datetime) -> ChallengeCsv | None:
    """The CSV its lead gets when ``take_steps`` at ``now`` closes the challenge, else
    None. It closes once announced (or announced in the same steps: open by now)."""
    opened = challenge.announced_at is not None or challenge.opens_at <= now
    closing = challenge.closed_at is None and opened and challenge.closes_at <= now
    if not closing or not challenge.created_by:
        return None
    return ChallengeCsv(
        user_id=challenge.created_by,
        filename=f"challenge-{challenge.id}-ideas.csv",
        content=insights.export_csv(session, challenge.team_id, challenge.id),
        title=f"Ideas for “{challenge.title}”",
    )


def send_csv(slack: SlackPort, csv: ChallengeCsv) -> None:
    slack.upload_file(
        csv.user_id,
        csv.filename,
        csv.content,
        title=csv.title,
        comment="The challenge has closed. Here are its ideas for the workshop.",
    )


def _announcement(
    challenge: Challenge, timezone: str, *, reminder: bool = False, so_far: int = 0
) -> ChallengePost:
    assert challenge.id is not None
    return ChallengePost(
        challenge_id=challenge.id,
        title=challenge.title,
        description=challenge.description,
        tags=tuple(challenge.tags),
        target_groups=tuple(challenge.target_groups),
        closes_at=challenge.closes_at,
        timezone=timezone,
        reminder=reminder,
        ideas_so_far=so_far,
    )


def _post(
    session: Session, challenge: Challenge, step: str, message: ChallengePost | ChallengeClosed
) -> None:
    drawn = render(message)
    outbox.enqueue(
        session,
        team_id=challenge.team_id,
        key=f"challenge:{challenge.id}:{step}",
        kind=f"challenge.{step}",
        channel=challenge.channel_id,
        text=drawn.text,
        blocks=drawn.blocks,
        essential=True,
    )


def close_now(session: Session, actor: Actor, challenge: Challenge) -> None:
    actor.require(Role.LEAD, "close challenges")
    if challenge.closed_at is not None:
        raise UserError("This challenge has already closed.")
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="challenge.close",
        target=f"challenge {challenge.id}",
        before={"closes_at": challenge.closes_at.isoformat()},
        after={"closes_at": utcnow().isoformat()},
    )
    mark(session, challenge, closes_at=utcnow())


def find(session: Session, team_id: str, words: str) -> Challenge | None:
    """A challenge by its number (``12`` or ``#12``) or by words from its question."""
    words = words.strip().lstrip("#")
    if words.isdigit():
        challenge = session.get(Challenge, int(words))
        return challenge if challenge and challenge.team_id == team_id else None
    query = (
        select(Challenge)
        .where(Challenge.team_id == team_id, col(Challenge.title).ilike(f"%{words}%"))
        .order_by(col(Challenge.created_at).desc())
    )
    return session.exec(query).first()
