"""Slack effects of idea changes: post or refresh the card, tell the people who care."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import dedupe, members
from bot.ideas import rules as ideas
from bot.ideas.messages import IdeaCard, KeptDraft, Linked, MergeDecided, StatusDecided
from bot.ideas.rules import Decision
from bot.platform import outbox
from bot.platform.rendering import Rendered, render
from bot.roles import Actor
from bot.slack import SlackPort
from storage import Challenge, Database, Idea, utcnow

CARD_EVENT = "copbot_idea_card"
# A card not linked this long after its idea was created was cut short by a crash.
POST_WINDOW = timedelta(minutes=5)
MAX_REDRAWS = 5  # each needs another change to land meanwhile; five in a row is a storm


def card_message(session: Session, idea: Idea) -> IdeaCard:
    """The idea's card, with the names and titles it shows looked up."""
    assert idea.id is not None
    challenge = session.get(Challenge, idea.challenge_id) if idea.challenge_id else None
    merged_into = session.get(Idea, idea.merged_into_id) if idea.merged_into_id else None
    return IdeaCard(
        idea_id=idea.id,
        title=idea.title,
        description=idea.description,
        status=idea.status,
        supporter_count=idea.supporter_count,
        themes=tuple(idea.themes),
        created_at=idea.created_at,
        rationale=idea.rationale,
        next_review=idea.next_review,
        source_permalink=idea.source_permalink,
        author=None
        if idea.is_anonymous
        else members.name_of(session, idea.team_id, idea.author_id),
        submitted_by=None
        if idea.is_anonymous
        else members.name_of(session, idea.team_id, idea.submitted_by),
        owner=members.name_of(session, idea.team_id, idea.owner_id),
        challenge=challenge.title if challenge else None,
        merged_into=Linked(merged_into.title, merged_into.permalink) if merged_into else None,
    )


def post_card(db: Database, slack: SlackPort, team_id: str, idea_id: int) -> Idea:
    """Post the new idea's card, then remember where it is and thank its author. The card
    carries the idea's key in its metadata, so a process killed before saving the ts can
    be found again. No session is open while Slack answers."""
    with db.session() as session:
        idea = ideas.get(session, team_id, idea_id)
        card = render(card_message(session, idea))
    assert idea.channel_id is not None
    metadata = {"event_type": CARD_EVENT, "event_payload": {"key": card_key(idea)}}
    ts = slack.post_message(idea.channel_id, card.text, blocks=card.blocks, metadata=metadata)
    linked = _link_card(db, slack, idea, ts)
    # Until the ts was saved nothing could redraw the card: a Support pressed, or the
    # author forgotten, while Slack took it leaves it out of date.
    refresh_card(db, slack, team_id, idea_id, posted=card)
    return linked


def card_key(idea: Idea) -> str:
    return f"idea:{idea.id}"


def _link_card(db: Database, slack: SlackPort, idea: Idea, ts: str) -> Idea:
    """Save where the card is (its ts and permalink) and thank the author, in one go."""
    assert idea.channel_id is not None
    permalink = slack.permalink(idea.channel_id, ts)
    with db.session() as session:
        linked = ideas.get(session, idea.team_id, idea.id, lock=True)
        linked.card_ts, linked.permalink = ts, permalink
        session.add(linked)
        session.flush()  # holds the write lock: a "forget me" now waits for this commit...
        session.refresh(linked)  # ...and one that committed before is seen: no thanks
        thank_author(session, linked)
    return linked


def thank_author(session: Session, idea: Idea) -> None:
    """The poster hears their idea is up (once, whichever process gets there)."""
    if not idea.submitted_by:
        return
    where = f"<{idea.permalink}|your idea>" if idea.permalink else "your idea"
    outbox.enqueue(
        session,
        team_id=idea.team_id,
        key=f"{card_key(idea)}:posted",
        kind="idea.posted",
        channel=idea.submitted_by,
        user_id=idea.submitted_by,
        text=f"Thank you: {where} is posted. You'll hear here whenever its status changes.",
        essential=True,
    )


def recover_unposted_cards(
    db: Database, slack: SlackPort, now: datetime | None = None, held: Iterable[str] = ()
) -> int:
    """Ideas whose process died while their card was being posted: link the card Slack
    took (found by its metadata key), or post it if Slack never got it; then redraw it
    and thank the author. Returns how many were mended."""
    cutoff = (now or utcnow()) - POST_WINDOW
    with db.session() as session:
        orphans = [
            i
            for i in ideas.unposted(session, before=cutoff)
            if i.team_id not in held  # uninstalled: nothing goes to Slack
        ]
    for idea in orphans:
        assert idea.id is not None and idea.channel_id is not None
        found = slack.find_tagged(idea.channel_id, CARD_EVENT, card_key(idea))
        if found:
            _link_card(db, slack, idea, found)
            refresh_card(db, slack, idea.team_id, idea.id)  # drawn before the crash
        else:
            post_card(db, slack, idea.team_id, idea.id)
    return len(orphans)


def refresh_card(
    db: Database, slack: SlackPort, team_id: str, idea_id: int, posted: Rendered | None = None
) -> None:
    """Bring the idea's card up to date (chat.update), even when changes race to redraw it.

    Each redraw reads the idea, posts the card, then reads again: if the card it posted
    is already out of date (another change committed meanwhile, and that change's own
    redraw may have reached Slack first), it posts again. So the card Slack shows last
    is drawn from the idea as last committed, on either database, and no lock is held
    while Slack is called. ``posted``: what the card shows now, when known (nothing is
    sent if the idea still draws the same).
    """
    for _ in range(MAX_REDRAWS):
        with db.session() as session:
            idea = ideas.get(session, team_id, idea_id)
            if not (idea.channel_id and idea.card_ts):
                return
            card = render(card_message(session, idea))
        if card == posted:
            return
        slack.update_message(idea.channel_id, idea.card_ts, card.text, blocks=card.blocks)
        posted = card


def tell_decision(session: Session, decision: Decision) -> int:
    """Queue a DM to each person who cares about the idea ("you said, we did").

    Through the outbox, so a decision on an idea with many supporters is sent at Slack's
    pace and each person hears once. It answers what they did, so it is not a nudge:
    no budget or quiet hours. Returns how many were queued.
    """
    idea, into = decision.idea, decision.merged_into
    dm = render(
        MergeDecided(
            Linked(idea.title, idea.permalink),
            Linked(into.title, into.permalink),
            into.supporter_count,
            idea.rationale,
        )
        if into is not None
        else StatusDecided(
            idea.title,
            idea.permalink,
            idea.status,
            idea.rationale,
            members.name_of(session, idea.team_id, idea.owner_id),
            idea.next_review,
        )
    )
    version = idea.updated_at.isoformat(timespec="microseconds")
    return sum(
        outbox.enqueue(
            session,
            team_id=idea.team_id,
            key=f"idea:{idea.id}:{version}:{user_id}",
            kind="idea.update",
            channel=user_id,
            user_id=user_id,
            text=dm.text,
            blocks=dm.blocks,
            essential=True,
        )
        for user_id in decision.recipients
    )


DISCUSS_PROMPT = "💬 Discuss this idea here: questions, experience, offers of help."


def discussion_key(idea: Idea) -> str:
    """Claimed (``bot.dedupe``) by the click that starts the idea's thread."""
    return f"{card_key(idea)}:discussion"


def start_discussion(db: Database, slack: SlackPort, idea: Idea) -> str:
    """Start the idea's thread under its card and save where it is; returns its ts. If
    Slack refuses, the claim is let go so that the next click tries again."""
    assert idea.channel_id and idea.card_ts
    try:
        ts = slack.post_message(idea.channel_id, DISCUSS_PROMPT, thread_ts=idea.card_ts)
    except Exception:
        with db.session() as session:
            dedupe.release(session, discussion_key(idea))
        raise
    with db.session() as session:
        started = ideas.get(session, idea.team_id, idea.id)
        started.discussion_ts = ts
        session.add(started)
    return ts


def offer_draft_again(
    session: Session, actor: Actor, draft_id: int, idea_id: int, title: str
) -> None:
    """After Slack refused an idea's card: a DM with the kept draft and "Post it now",
    through the outbox, so it arrives once Slack takes messages again."""
    dm = render(KeptDraft(draft_id, title))
    outbox.enqueue(
        session,
        team_id=actor.team_id,
        key=f"idea.kept:{draft_id}:{idea_id}",
        kind="idea.kept",
        channel=actor.user_id,
        user_id=actor.user_id,
        text=dm.text,
        blocks=dm.blocks,
        essential=True,
    )
