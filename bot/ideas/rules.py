"""Ideas' domain rules: capture, support, decisions and merges. Plain functions taking a
session, never Slack.

The use cases in ``bot.ideas.actions`` call them in their transaction and reach Slack
(cards, DMs, through ``bot.ideas.publish``) only once it commits, so a failed send never
leaves the database half-changed and retries are safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from bot import audit
from bot.defaults import IMPROVEMENT_THEMES
from bot.errors import UserError
from bot.ideas.index import idea_text, index_idea
from bot.ids import as_id
from bot.privacy import refuse_patient_identifiers
from bot.roles import Actor, Role
from bot.similarity import Candidate, Ranker, terms
from storage import (
    Challenge,
    Idea,
    IdeaDraft,
    IdeaStatus,
    IdeaSubscriber,
    IdeaTerm,
    Support,
    insert_or_ignore,
    utcnow,
)

TITLE_MAX = 150
DESCRIPTION_MAX = 3000
RATIONALE_MAX = 3000
OPEN = (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW, IdeaStatus.IN_PROGRESS)
DECISIONS = (
    IdeaStatus.IN_PROGRESS,
    IdeaStatus.IMPLEMENTED,
    IdeaStatus.NOT_TAKEN_FORWARD,
    IdeaStatus.MERGED,
)
SETTABLE = (
    IdeaStatus.NEW,
    IdeaStatus.UNDER_REVIEW,
    IdeaStatus.IN_PROGRESS,
    IdeaStatus.IMPLEMENTED,
    IdeaStatus.NOT_TAKEN_FORWARD,
)
SIMILAR_CANDIDATES = 200


@dataclass(frozen=True)
class IdeaFields:
    """A validated idea, as typed into the capture modal."""

    title: str
    description: str = ""
    themes: tuple[str, ...] = ()
    challenge_id: int | None = None
    anonymous: bool = False
    source_permalink: str | None = None
    credited_author: str | None = None  # whose message the idea came from

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "themes": list(self.themes),
            "challenge_id": self.challenge_id,
            "anonymous": self.anonymous,
            "source_permalink": self.source_permalink,
            "credited_author": self.credited_author,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IdeaFields:
        return cls(**{**data, "themes": tuple(data.get("themes") or ())})


def validate(
    session: Session,
    team_id: str,
    *,
    title: str | None,
    description: str | None = None,
    themes: list[str] | None = None,
    challenge_id: int | None = None,
    anonymous: bool = False,
    source_permalink: str | None = None,
    credited_author: str | None = None,
    now: datetime | None = None,
) -> IdeaFields:
    """Check what a person typed; every problem names the field it belongs to."""
    title = " ".join((title or "").split())
    description = (description or "").strip()
    if not title:
        raise UserError("Give your idea a short title.", field="title")
    if len(title) > TITLE_MAX:
        raise UserError(f"Keep the title to {TITLE_MAX} characters or fewer.", field="title")
    if len(description) > DESCRIPTION_MAX:
        raise UserError(
            f"Keep the description to {DESCRIPTION_MAX} characters or fewer.", field="description"
        )
    refuse_patient_identifiers(title, "title")
    refuse_patient_identifiers(description, "description")
    unknown = [theme for theme in themes or [] if theme not in IMPROVEMENT_THEMES]
    if unknown:
        raise UserError("Choose themes from the list.", field="themes")
    if challenge_id is not None:
        challenge = session.get(Challenge, challenge_id)
        if challenge is None or challenge.team_id != team_id:
            raise UserError("That challenge doesn't exist any more.", field="challenge")
        if not is_open(challenge, now or utcnow()):
            raise UserError("That challenge is not open for ideas.", field="challenge")
    return IdeaFields(
        title=title,
        description=description,
        themes=tuple(themes or ()),
        challenge_id=challenge_id,
        anonymous=anonymous,
        source_permalink=source_permalink if is_slack_permalink(source_permalink) else None,
        credited_author=credited_author,
    )


# What chat.getPermalink answers: https://<workspace>.slack.com/archives/<channel>/p<ts>,
# and for a reply ?thread_ts=<ts>&cid=<channel>. Nothing else is put in a card's link.
_PERMALINK = re.compile(
    r"https://[a-z0-9][a-z0-9-]*\.slack\.com/archives/[CDG][A-Z0-9]{2,30}/p\d{10,20}"
    r"(\?thread_ts=\d+\.\d+&cid=[CDG][A-Z0-9]{2,30})?"
)


def is_slack_permalink(url: str | None) -> bool:
    return bool(url) and _PERMALINK.fullmatch(url or "") is not None


def is_open(challenge: Challenge, now: datetime) -> bool:
    return challenge.closed_at is None and challenge.opens_at <= now < challenge.closes_at


def open_challenges(session: Session, team_id: str, now: datetime | None = None) -> list[Challenge]:
    now = now or utcnow()
    query = (
        select(Challenge)
        .where(
            Challenge.team_id == team_id,
            col(Challenge.closed_at).is_(None),
            Challenge.opens_at <= now,
            Challenge.closes_at > now,
        )
        .order_by(Challenge.closes_at)
    )
    return list(session.exec(query))


def similar(
    session: Session, team_id: str, fields: IdeaFields, ranker: Ranker, limit: int = 3
) -> list[Idea]:
    """Up to ``limit`` open ideas like this one: candidates share words (the term index),
    the ranker (TF-IDF or embeddings) decides which are really alike."""
    text = f"{fields.title}\n{fields.description}"
    words = sorted(set(terms(text)))
    if not words:
        return []
    shared = func.sum(IdeaTerm.weight)
    query = (
        select(IdeaTerm.idea_id)
        .join(Idea, col(Idea.id) == IdeaTerm.idea_id)
        .where(
            IdeaTerm.team_id == team_id,
            col(IdeaTerm.term).in_(words),
            col(Idea.status).in_(OPEN),
        )
        .group_by(col(IdeaTerm.idea_id))
        .order_by(shared.desc())
        .limit(SIMILAR_CANDIDATES)
    )
    ids = list(session.exec(query))
    if not ids:
        return []
    ideas = {idea.id: idea for idea in session.exec(select(Idea).where(col(Idea.id).in_(ids)))}
    candidates = [Candidate(id=i, text=idea_text(ideas[i])) for i in ids if i in ideas]
    return [ideas[match.id] for match in ranker.rank(text, candidates, limit=limit)]


def merge_candidates(session: Session, idea: Idea, ranker: Ranker, limit: int = 50) -> list[Idea]:
    """Ideas a lead may merge this one into: the most alike first, then the newest open ones."""
    fields = IdeaFields(title=idea.title, description=idea.description)
    chosen = [other for other in similar(session, idea.team_id, fields, ranker, 10)]
    recent = session.exec(
        select(Idea)
        .where(Idea.team_id == idea.team_id, col(Idea.status).in_(OPEN))
        .order_by(col(Idea.created_at).desc())
        .limit(limit + 1)
    )
    seen = {other.id for other in chosen}
    chosen += [other for other in recent if other.id not in seen]
    return [other for other in chosen if other.id != idea.id][:limit]


def save_draft(session: Session, actor: Actor, fields: IdeaFields) -> IdeaDraft:
    draft = IdeaDraft(team_id=actor.team_id, user_id=actor.user_id, fields=fields.as_json())
    session.add(draft)
    session.flush()
    return draft


def take_draft(session: Session, actor: Actor, draft_id: int) -> IdeaFields:
    """The person's own waiting draft, removed so it is posted at most once."""
    draft = session.get(IdeaDraft, draft_id)
    if draft is None or draft.user_id != actor.user_id or draft.team_id != actor.team_id:
        raise UserError("That idea was already posted or has expired. Please share it again.")
    session.delete(draft)
    return IdeaFields.from_json(draft.fields)


def create(session: Session, actor: Actor, fields: IdeaFields, channel_id: str | None) -> Idea:
    """Record a new idea; the caller posts its card once this commits (a card posted
    before the commit could be clicked before its idea exists)."""
    challenge = session.get(Challenge, fields.challenge_id) if fields.challenge_id else None
    channel = challenge.channel_id if challenge else channel_id
    if not channel:
        raise UserError(
            "There is no ideas channel yet, so your idea can't be posted. "
            "Ask a lead to choose one in copbot's Home tab."
        )
    author = fields.credited_author or actor.user_id
    idea = Idea(
        team_id=actor.team_id,
        title=fields.title,
        description=fields.description,
        themes=list(fields.themes),
        challenge_id=fields.challenge_id,
        author_id=author,
        submitted_by=actor.user_id,
        is_anonymous=fields.anonymous,
        source_permalink=fields.source_permalink,
        channel_id=channel,
    )
    session.add(idea)
    session.flush()
    index_idea(session, idea)
    for user_id in {author, actor.user_id}:
        subscribe(session, idea, user_id)
    return idea


def unposted(session: Session, *, before: datetime) -> list[Idea]:
    """Ideas created before ``before`` whose card was never linked (see withdraw_unposted
    for a card Slack refused: that idea is gone)."""
    query = select(Idea).where(
        col(Idea.card_ts).is_(None),
        col(Idea.channel_id).is_not(None),
        col(Idea.created_at) < before,
    )
    return list(session.exec(query.order_by(col(Idea.id))))


def withdraw_unposted(
    session: Session, actor: Actor, idea_id: int, draft_id: int, fields: IdeaFields
) -> None:
    """Undo `create` when the card could not be posted: the idea goes and its draft comes
    back under the same id, so the person's "Post" button works when they try again."""
    idea = session.get(Idea, idea_id)
    if idea is None or idea.card_ts is not None:
        return
    session.exec(delete(IdeaTerm).where(col(IdeaTerm.idea_id) == idea_id))
    for table in (IdeaSubscriber, Support):
        session.exec(delete(table).where(col(table.idea_id) == idea_id))
    session.delete(idea)
    draft = IdeaDraft(id=draft_id, team_id=actor.team_id, user_id=actor.user_id)
    draft.fields = fields.as_json()
    session.add(draft)


def subscribe(session: Session, idea: Idea, user_id: str) -> None:
    assert idea.id is not None
    insert_or_ignore(session, IdeaSubscriber(idea_id=idea.id, user_id=user_id))


def subscribers(session: Session, idea_id: int) -> list[str]:
    query = select(IdeaSubscriber.user_id).where(IdeaSubscriber.idea_id == idea_id)
    return sorted(session.exec(query))


def get(session: Session, team_id: str, idea_id: int | str | None, *, lock: bool = False) -> Idea:
    """The idea, or a kind answer when it is gone (for example a click on an old card)."""
    key = as_id(idea_id) or 0
    query = select(Idea).where(Idea.id == key, Idea.team_id == team_id)
    if lock:
        query = query.with_for_update()
    idea = session.exec(query).first()
    if idea is None:
        raise UserError("Sorry, that idea is no longer available.")
    return idea


def _recount(session: Session, idea: Idea) -> None:
    count = session.exec(
        select(func.count()).select_from(Support).where(Support.idea_id == idea.id)
    ).one()
    idea.supporter_count = int(count)
    idea.updated_at = utcnow()
    session.add(idea)


def _merged_message(session: Session, idea: Idea) -> str:
    target = session.get(Idea, idea.merged_into_id) if idea.merged_into_id else None
    name = f"“{target.title}”" if target else "another idea"
    return f"This idea was merged into {name}. Support that one instead."


def support(session: Session, actor: Actor, idea_id: int | str) -> Idea:
    idea = get(session, actor.team_id, idea_id, lock=True)
    if idea.status == IdeaStatus.MERGED:
        raise UserError(_merged_message(session, idea))
    if actor.user_id in (idea.author_id, idea.submitted_by):
        raise UserError("You can't support your own idea, but you can share it with others.")
    assert idea.id is not None
    if not insert_or_ignore(session, Support(idea_id=idea.id, user_id=actor.user_id)):
        raise UserError("You already support this idea.")
    subscribe(session, idea, actor.user_id)
    _recount(session, idea)
    return idea


def unsupport(session: Session, actor: Actor, idea_id: int | str) -> Idea:
    idea = get(session, actor.team_id, idea_id, lock=True)
    if idea.status == IdeaStatus.MERGED:
        raise UserError(_merged_message(session, idea))
    found = session.exec(
        select(Support).where(Support.idea_id == idea.id, Support.user_id == actor.user_id)
    ).first()
    if found is None:
        raise UserError("You haven't supported this idea, so there is nothing to take back.")
    session.delete(found)
    session.flush()
    _recount(session, idea)
    return idea


@dataclass
class Decision:
    """What a lead decided, and who should hear about it."""

    idea: Idea
    recipients: list[str] = field(default_factory=list)
    merged_into: Idea | None = None


def _snapshot(idea: Idea) -> dict[str, Any]:
    return {
        "status": idea.status,
        "rationale": idea.rationale,
        "owner": idea.owner_id,
        "next_review": idea.next_review.isoformat() if idea.next_review else None,
        "merged_into": idea.merged_into_id,
    }


def _rationale(text: str | None) -> str:
    rationale = (text or "").strip()
    if not rationale:
        raise UserError(
            "Say why: the author and supporters will read this rationale.", field="rationale"
        )
    if len(rationale) > RATIONALE_MAX:
        raise UserError(
            f"Keep the rationale to {RATIONALE_MAX} characters or fewer.", field="rationale"
        )
    refuse_patient_identifiers(rationale, "rationale")
    return rationale


def change_status(
    session: Session,
    actor: Actor,
    idea_id: int | str,
    *,
    status: str | None,
    rationale: str | None,
    owner_id: str | None = None,
    next_review: date | None = None,
    today: date | None = None,
) -> Decision:
    actor.require(Role.LEAD, "change an idea's status")
    idea = get(session, actor.team_id, idea_id, lock=True)
    if idea.status == IdeaStatus.MERGED:
        raise UserError(
            "This idea was merged into another, so its status can't change. "
            "Manage the surviving idea instead."
        )
    if status not in SETTABLE:
        raise UserError("Choose a status.", field="status")
    reason = _rationale(rationale)
    if status == IdeaStatus.IN_PROGRESS:
        if not owner_id:
            raise UserError("Name who owns this while it is in progress.", field="owner")
        if next_review is None:
            raise UserError("Choose when it will next be reviewed.", field="next_review")
    if next_review is not None and next_review < (today or utcnow().date()):
        raise UserError("The next review can't be in the past.", field="next_review")
    before = _snapshot(idea)
    idea.status = status
    idea.rationale = reason
    idea.owner_id = owner_id
    idea.next_review = next_review
    idea.updated_at = utcnow()
    if status in DECISIONS and idea.decided_at is None:
        idea.decided_at = idea.updated_at
    session.add(idea)
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="idea.status",
        target=f"idea {idea.id}",
        before=before,
        after=_snapshot(idea),
    )
    assert idea.id is not None
    return Decision(idea, [u for u in subscribers(session, idea.id) if u != actor.user_id])


def merge(
    session: Session, actor: Actor, idea_id: int | str, into_id: int | str, rationale: str | None
) -> Decision:
    """Merge one idea into another: supporters combine as unique people, subscribers carry
    over, and the merged idea points to the one that survives."""
    actor.require(Role.LEAD, "merge ideas")
    source = get(session, actor.team_id, idea_id, lock=True)
    target = get(session, actor.team_id, into_id, lock=True)
    assert source.id is not None and target.id is not None
    if source.id == target.id:
        raise UserError("An idea can't be merged into itself.", field="merge_into")
    if source.status == IdeaStatus.MERGED:
        raise UserError("This idea was already merged.", field="merge_into")
    if target.status == IdeaStatus.MERGED:
        raise UserError("Merge into the idea that survives, not a merged one.", field="merge_into")
    reason = _rationale(rationale)
    before = _snapshot(source)
    own = {target.author_id, target.submitted_by}
    movers = session.exec(select(Support.user_id).where(Support.idea_id == source.id))
    for user_id in movers:
        if user_id not in own:
            insert_or_ignore(session, Support(idea_id=target.id, user_id=user_id))
    for user_id in subscribers(session, source.id):
        subscribe(session, target, user_id)
    source.status = IdeaStatus.MERGED
    source.merged_into_id = target.id
    source.rationale = reason
    source.updated_at = utcnow()
    source.decided_at = source.decided_at or source.updated_at
    session.add(source)
    session.flush()
    _recount(session, target)
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="idea.merge",
        target=f"idea {source.id}",
        before=before,
        after=_snapshot(source),
    )
    everyone = set(subscribers(session, target.id)) - {actor.user_id}
    return Decision(source, sorted(everyone), merged_into=target)


def decline_credit(session: Session, actor: Actor, idea_id: int | str) -> Idea:
    """The person credited for an idea made from their message declines: the idea becomes
    its sharer's, and the decliner stops hearing about it."""
    idea = get(session, actor.team_id, idea_id, lock=True)
    if idea.author_id != actor.user_id or idea.submitted_by == actor.user_id:
        raise UserError(
            "Only the person credited for an idea shared from their message can do this."
        )
    idea.author_id = idea.submitted_by
    idea.updated_at = utcnow()
    session.add(idea)
    session.exec(
        delete(IdeaSubscriber).where(
            col(IdeaSubscriber.idea_id) == idea.id, col(IdeaSubscriber.user_id) == actor.user_id
        )
    )
    return idea
