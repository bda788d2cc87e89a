"""Ideas' use cases: one call per listener. Each owns its unit of work (it opens the
session and commits), takes explicit arguments (the database, the Slack port, the actor,
plain values) and calls Slack only once its rows are committed: after the ``with`` block,
through ``after_commit``, or as outbox rows written in the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot import dedupe, members, workspaces
from bot.config import Settings
from bot.errors import UserError
from bot.ideas import challenges, insights, publish
from bot.ideas import rules as ideas
from bot.ideas.messages import BulbOffer, CreditNotice
from bot.platform.effects import Effect, after_commit
from bot.platform.rendering import render
from bot.roles import Actor, Role
from bot.similarity import Ranker
from bot.slack import SlackPort
from bot.text import escape, truncate
from storage import Challenge, Database, Idea, utcnow

# The similar-idea ranker for a workspace, built on the session it reads (handlers'
# ``Deps.ranker``: embeddings when a model is configured, else TF-IDF).
Rank = Callable[[Session, str], Ranker]


# --------------------------------------------------------------------------- /idea


def search(db: Database, actor: Actor, words: str) -> list[insights.IdeaHit]:
    with db.session() as session:
        return insights.search(session, actor.team_id, words)


def mine(db: Database, actor: Actor) -> tuple[list[insights.IdeaItem], list[insights.IdeaItem]]:
    """The person's own ideas and the ideas they support."""
    with db.session() as session:
        own = insights.ideas_by(session, actor.team_id, actor.user_id)
        return own, insights.ideas_supported_by(session, actor.team_id, actor.user_id)


def stats(db: Database, actor: Actor, settings: Settings) -> insights.Engagement:
    with db.session() as session:
        community = workspaces.community_settings(session, actor.team_id, settings)
        return insights.engagement(session, actor.team_id, community.anonymity_min, utcnow())


def check_export(db: Database, actor: Actor, words: str) -> None:
    """Refuse at once an export of a challenge that isn't there (the CSV follows the ack)."""
    if words:
        with db.session() as session:
            _challenge_named(session, actor.team_id, words)


def export(db: Database, port: SlackPort, actor: Actor, words: str) -> None:
    """The ideas as CSV (of one challenge, when named) in the lead's DM with copbot."""
    with db.session() as session:
        challenge = _challenge_named(session, actor.team_id, words) if words else None
        csv_text = insights.export_csv(session, actor.team_id, challenge.id if challenge else None)
    port.upload_file(
        actor.user_id,
        f"challenge-{challenge.id}-ideas.csv" if challenge else "ideas.csv",
        csv_text,
        title=f"Ideas for “{challenge.title}”" if challenge else "All ideas",
        comment="Here is the export you asked for. Anonymous authors are not included.",
    )


def _challenge_named(session: Session, team_id: str, words: str) -> Challenge:
    """A challenge by its number or by words from its question."""
    found = challenges.find(session, team_id, words)
    if found is None:
        raise UserError(f"I couldn't find a challenge matching “{escape(words)}”.")
    return found


def community_today(db: Database, actor: Actor, settings: Settings) -> date:
    """Today in the community's time zone (the day a new challenge opens by default)."""
    with db.session() as session:
        zone = workspaces.community_settings(session, actor.team_id, settings).timezone
    return utcnow().astimezone(ZoneInfo(zone)).date()


# --------------------------------------------------------------------------- capture


@dataclass(frozen=True)
class CaptureForm:
    """What the capture modal opens with: a prefill, the open challenges to choose from,
    and where the idea came from (a message's permalink, its author to credit)."""

    prefill: ideas.IdeaFields | None
    challenges: list[Challenge]
    source: dict[str, Any] | None = None


def capture_form(
    db: Database,
    actor: Actor,
    prefill: ideas.IdeaFields | None = None,
    source: dict[str, Any] | None = None,
) -> CaptureForm:
    with db.session() as session:
        return CaptureForm(prefill, ideas.open_challenges(session, actor.team_id), source)


def capture_from_text(db: Database, actor: Actor, text: str) -> CaptureForm:
    """``/idea some words``: the words prefill the modal."""
    return capture_form(db, actor, prefill_from_text(text) if text else None)


def prefill_from_text(text: str) -> ideas.IdeaFields:
    """A long text becomes a title (its first sentence, cut to fit) and a description."""
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]
    title = truncate(first, ideas.TITLE_MAX)
    description = text.strip() if title != text.strip() else ""
    return ideas.IdeaFields(title=title, description=description)


def capture_from_message(
    db: Database, port: SlackPort, actor: Actor, channel: str | None, message: dict[str, Any]
) -> CaptureForm:
    """Pre-fill from a message, keep its permalink as the source and credit its author."""
    text = message.get("text") or ""
    if not channel or not message.get("ts") or not text.strip():
        raise UserError("That message has no text to turn into an idea.")
    permalink = port.permalink(channel, message["ts"])
    author = message.get("user")
    credited = author if author and author != actor.user_id and not message.get("bot_id") else None
    source = {"source_permalink": permalink, "credited_author": credited}
    return capture_form(db, actor, prefill_from_text(text), source)


def capture_from_offer(
    db: Database, port: SlackPort, actor: Actor, channel: str, ts: str
) -> CaptureForm:
    """The :bulb: offer's button: the reacted message, read again from Slack."""
    message = port.message_at(channel, ts)
    if message is None:
        raise UserError("That message is no longer there.")
    return capture_from_message(db, port, actor, channel, message)


def capture_for_challenge(db: Database, actor: Actor, challenge_id: int | str) -> CaptureForm:
    with db.session() as session:
        challenge = challenges.get(session, actor.team_id, challenge_id)
        if not ideas.is_open(challenge, utcnow()):
            raise UserError("This challenge has closed. Thank you for your interest.")
        prefill = ideas.IdeaFields(title="", challenge_id=challenge.id)
        return CaptureForm(prefill, ideas.open_challenges(session, actor.team_id))


def offer_idea(
    db: Database,
    port: SlackPort,
    team_id: str | None,
    event_id: str,
    reactor: str,
    channel: str,
    ts: str,
) -> None:
    """Privately offer the person who reacted with :bulb: to turn the message into an
    idea: once per event, and once per person and message whatever the event ids."""
    with db.session() as session:
        if not dedupe.claim(session, event_id, team_id):
            return
        if not dedupe.claim(session, f"bulb:{channel}:{ts}:{reactor}"):
            return
    offer = render(BulbOffer(channel, ts))
    port.post_ephemeral(channel, reactor, offer.text, blocks=offer.blocks)


@dataclass(frozen=True)
class IdeaForm:
    """The capture modal as submitted (unchecked)."""

    title: str | None
    description: str | None = None
    themes: list[str] | None = None
    challenge_id: int | None = None
    anonymous: bool = False
    source_permalink: str | None = None
    credited_author: str | None = None


@dataclass(frozen=True)
class Submitted:
    """A checked idea kept as a draft, and the open ideas like it (shown first, if any)."""

    draft_id: int
    alike: list[Idea] = field(default_factory=list)


def submit(db: Database, actor: Actor, settings: Settings, rank: Rank, form: IdeaForm) -> Submitted:
    """Check the idea and keep it as a draft; the ideas like it come back to show first."""
    with db.session() as session:
        fields = ideas.validate(
            session,
            actor.team_id,
            title=form.title,
            description=form.description,
            themes=form.themes,
            challenge_id=form.challenge_id,
            anonymous=form.anonymous,
            source_permalink=form.source_permalink,
            credited_author=form.credited_author,
        )
        community = workspaces.community_settings(session, actor.team_id, settings)
        if not fields.challenge_id and not community.ideas_channel:
            raise UserError(
                "There is no ideas channel yet, so ideas can't be posted. "
                "Ask a lead to choose one in copbot's Home tab.",
                field="title",
            )
        alike = ideas.similar(session, actor.team_id, fields, rank(session, actor.team_id))
        draft = ideas.save_draft(session, actor, fields)
    assert draft.id is not None
    return Submitted(draft.id, alike)


def post(db: Database, port: SlackPort, actor: Actor, settings: Settings, draft_id: int) -> Idea:
    """Create the idea, then post its card (undoing the idea if Slack refuses the card),
    then tell whose message it was. No session is open while Slack answers."""
    with db.session() as session:
        fields = ideas.take_draft(session, actor, draft_id)
        channel = workspaces.community_settings(session, actor.team_id, settings).ideas_channel
        idea_id = ideas.create(session, actor, fields, channel).id
    assert idea_id is not None
    try:
        idea = publish.post_card(db, port, actor.team_id, idea_id)
    except SlackApiError as error:
        with db.session() as session:
            ideas.withdraw_unposted(session, actor, idea_id, draft_id, fields)
            publish.offer_draft_again(session, actor, draft_id, idea_id, fields.title)
        raise UserError(
            "Slack didn't take your idea's card just now, so it isn't posted yet. "
            "It's kept: you'll get a DM from copbot with a button to post it."
        ) from error
    if idea.author_id and idea.author_id != actor.user_id:
        notice = render(CreditNotice(actor.name, idea_id, idea.title, idea.permalink))
        port.post_message(idea.author_id, notice.text, blocks=notice.blocks)
    return idea


# --------------------------------------------------------------------------- the card


def _redraw(db: Database, port: SlackPort, idea: Idea) -> Effect:
    """Bring the idea's card up to date: an effect to run once the change commits."""
    assert idea.id is not None
    return partial(publish.refresh_card, db, port, idea.team_id, idea.id)


def support(db: Database, port: SlackPort, actor: Actor, idea_id: int | str) -> None:
    with db.session() as session:
        idea = ideas.support(session, actor, idea_id)
        after_commit(session, _redraw(db, port, idea))


def unsupport(db: Database, port: SlackPort, actor: Actor, idea_id: int | str) -> None:
    with db.session() as session:
        idea = ideas.unsupport(session, actor, idea_id)
        after_commit(session, _redraw(db, port, idea))


def support_instead(
    db: Database, port: SlackPort, actor: Actor, idea_id: int | str, draft_id: int
) -> Idea:
    """Support an idea like yours, and drop your draft."""
    with db.session() as session:
        idea = ideas.support(session, actor, idea_id)
        ideas.take_draft(session, actor, draft_id)
        after_commit(session, _redraw(db, port, idea))
    return idea


def discuss(db: Database, port: SlackPort, actor: Actor, idea_id: int | str) -> str | None:
    """The link to the idea's discussion thread, starting the thread the first time.

    The click that starts it claims it in a transaction and posts after the commit, so no
    lock is held while Slack answers and two clicks at once start one thread.
    """
    with db.session() as session:
        idea = ideas.get(session, actor.team_id, idea_id)
        start = bool(idea.channel_id and idea.card_ts and not idea.discussion_ts)
        start = start and dedupe.claim(session, publish.discussion_key(idea), actor.team_id)
    if start:
        idea.discussion_ts = publish.start_discussion(db, port, idea)
    if not (idea.channel_id and idea.discussion_ts):
        return None
    return port.permalink(idea.channel_id, idea.discussion_ts)


def decline_credit(db: Database, port: SlackPort, actor: Actor, idea_id: int | str) -> None:
    """The credited author takes their name off an idea someone made from their message."""
    with db.session() as session:
        idea = ideas.decline_credit(session, actor, idea_id)
        after_commit(session, _redraw(db, port, idea))


# --------------------------------------------------------------------------- decisions


def manage_form(
    db: Database, actor: Actor, rank: Rank, idea_id: int | str
) -> tuple[Idea, list[Idea]]:
    """The idea a lead manages, and the ideas it may be merged into."""
    with db.session() as session:
        idea = ideas.get(session, actor.team_id, idea_id)
        if idea.status == "merged":
            raise UserError("This idea was merged into another; manage the surviving idea.")
        return idea, ideas.merge_candidates(session, idea, rank(session, actor.team_id))


@dataclass(frozen=True)
class DecisionForm:
    """The manage modal as submitted (unchecked)."""

    idea_id: str | None
    status: str | None
    rationale: str | None
    owner_id: str | None = None
    next_review: date | None = None
    merge_into: str | None = None


@dataclass(frozen=True)
class Decided:
    """The cards a decision changed, to redraw once the lead has their answer."""

    team_id: str
    idea_ids: tuple[int, ...]


def decide(db: Database, port: SlackPort, actor: Actor, form: DecisionForm) -> Decided:
    """A lead's decision (a status change or a merge) in one transaction, with the
    "you said, we did" DMs queued in it. An owner who never used copbot is looked up in
    Slack first, outside the transaction."""
    if form.merge_into:
        with db.session() as session:
            decision = ideas.merge(session, actor, form.idea_id, form.merge_into, form.rationale)
            publish.tell_decision(session, decision)
    else:
        actor.require(Role.LEAD, "decide on ideas")  # before anyone is looked up in Slack
        owner = form.owner_id
        profile = (
            port.user_info(owner) if owner and _profile_due(db, actor.team_id, owner) else None
        )
        with db.session() as session:
            if owner:
                members.keep_member(session, actor.team_id, owner, profile, utcnow())
            decision = ideas.change_status(
                session,
                actor,
                form.idea_id,
                status=form.status,
                rationale=form.rationale,
                owner_id=owner,
                next_review=form.next_review,
            )
            publish.tell_decision(session, decision)
    changed = (decision.idea, decision.merged_into)
    return Decided(actor.team_id, tuple(i.id for i in changed if i is not None and i.id))


def _profile_due(db: Database, team_id: str, user_id: str) -> bool:
    with db.session() as session:
        return bool(members.profiles_to_fetch(session, team_id, {user_id}))


def redraw(db: Database, port: SlackPort, decided: Decided) -> None:
    """After a decision: bring its card(s) up to date."""
    for idea_id in decided.idea_ids:
        publish.refresh_card(db, port, decided.team_id, idea_id)


# --------------------------------------------------------------------------- challenges


@dataclass(frozen=True)
class ChallengeForm:
    """The new-challenge modal as submitted (unchecked)."""

    title: str | None
    description: str | None
    tags: list[str] | None
    channel_id: str | None
    opens: date | None
    closes: date | None
    target_groups: list[str] | None


def create_challenge(db: Database, actor: Actor, settings: Settings, form: ChallengeForm) -> int:
    with db.session() as session:
        zone = workspaces.community_settings(session, actor.team_id, settings).timezone
        fields = challenges.validate(
            title=form.title,
            description=form.description,
            tags=form.tags,
            channel_id=form.channel_id,
            opens=form.opens,
            closes=form.closes,
            target_groups=form.target_groups,
            timezone=zone,
            today=utcnow().astimezone(ZoneInfo(zone)).date(),
        )
        challenge_id = challenges.create(session, actor, fields).id
    assert challenge_id is not None
    return challenge_id


def advance_challenge(
    db: Database,
    port: SlackPort,
    settings: Settings,
    team_id: str,
    challenge_id: int | str | None,
    now: datetime | None = None,
) -> list[str]:
    """Take the challenge's steps now due (a new challenge opening today is announced at
    once; later steps come from the scheduler's run of this). The lead's CSV at close is
    uploaded before the close commits, with no session open: if Slack refuses it, the
    challenge stays open for the scheduler to close, and the CSV comes then."""
    now = now or utcnow()
    with db.session() as session:
        csv = challenges.closing_csv(session, challenges.get(session, team_id, challenge_id), now)
    if csv is not None:
        challenges.send_csv(port, csv)
    with db.session() as session:
        challenge = challenges.get(session, team_id, challenge_id)
        return challenges.take_steps(session, challenge, settings=settings, now=now)


def close_challenge(
    db: Database, port: SlackPort, actor: Actor, settings: Settings, challenge_id: int | str
) -> list[str]:
    """Close a challenge now: its summary goes to the channel, its CSV to its lead."""
    with db.session() as session:
        challenge = challenges.get(session, actor.team_id, challenge_id)
        challenges.close_now(session, actor, challenge)
    return advance_challenge(db, port, settings, actor.team_id, challenge_id)
