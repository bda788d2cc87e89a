"""Slack effects of idea changes: post or refresh the card, tell the people who care."""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot import members
from bot.ideas.cards import CardContext, idea_card, merged_dm, status_dm
from bot.ideas.service import Decision
from bot.slack import SlackPort
from storage import Challenge, Idea

log = logging.getLogger(__name__)


def card_context(session: Session, idea: Idea) -> CardContext:
    challenge = session.get(Challenge, idea.challenge_id) if idea.challenge_id else None
    merged_into = session.get(Idea, idea.merged_into_id) if idea.merged_into_id else None
    return CardContext(
        author=None
        if idea.is_anonymous
        else members.name_of(session, idea.team_id, idea.author_id),
        submitted_by=None
        if idea.is_anonymous
        else members.name_of(session, idea.team_id, idea.submitted_by),
        owner=members.name_of(session, idea.team_id, idea.owner_id),
        challenge=challenge.title if challenge else None,
        merged_into=merged_into,
    )


def post_card(session: Session, slack: SlackPort, idea: Idea) -> None:
    """Post the new idea's card and remember where it is (inside the creating transaction,
    so a failed post leaves no idea without a card)."""
    assert idea.channel_id is not None
    text, blocks = idea_card(idea, card_context(session, idea))
    idea.card_ts = slack.post_message(idea.channel_id, text, blocks=blocks)
    idea.permalink = slack.permalink(idea.channel_id, idea.card_ts)
    session.add(idea)


def refresh_card(session: Session, slack: SlackPort, idea: Idea) -> None:
    """Update the card in place (chat.update) from the idea as committed."""
    if idea.channel_id and idea.card_ts:
        text, blocks = idea_card(idea, card_context(session, idea))
        slack.update_message(idea.channel_id, idea.card_ts, text, blocks=blocks)


def tell_decision(session: Session, slack: SlackPort, decision: Decision) -> int:
    """DM each person who cares about the idea; returns how many were told."""
    idea = decision.idea
    if decision.merged_into is not None:
        text, blocks = merged_dm(idea, decision.merged_into)
    else:
        owner = members.name_of(session, idea.team_id, idea.owner_id)
        text, blocks = status_dm(idea, owner=owner, next_review=idea.next_review)
    told = 0
    for user_id in decision.recipients:
        try:
            slack.post_message(user_id, text, blocks=blocks)
            told += 1
        except Exception as error:  # one person's DM must not stop the others
            log.warning("could not DM %s about idea %s: %s", user_id, idea.id, error)
    return told
