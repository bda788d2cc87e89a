"""Ideas' use cases against the Slack twin: what commits, what reaches Slack, and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot import workspaces
from bot.config import Settings
from bot.ideas import actions, publish
from bot.ideas import rules as ideas
from bot.roles import Actor, Role
from bot.slack import WebClientPort
from slacktwin import SlackTwin
from storage import Challenge, Database, OutboxMessage, utcnow
from tests.support import CHANNEL, LEAD, MEMBER, OTHER, TEAM

AUTHOR = Actor(TEAM, MEMBER, "Max", Role.MEMBER)
READER = Actor(TEAM, OTHER, "Olive", Role.MEMBER)
PROMPT = publish.DISCUSS_PROMPT


def posted_idea(database: Database, port: WebClientPort, title: str = "Ward huddles") -> int:
    with database.session() as session:
        workspaces.ensure_workspace(session, TEAM)
        idea_id = ideas.create(session, AUTHOR, ideas.IdeaFields(title=title), CHANNEL).id
    assert idea_id is not None
    publish.post_card(database, port, TEAM, idea_id)
    return idea_id


def thread_prompts(twin: SlackTwin) -> list[dict[str, Any]]:
    return [call.args for call in twin.calls_to("chat.postMessage") if call.args["text"] == PROMPT]


class RefusesOnce(WebClientPort):
    """A port whose first thread post Slack refuses."""

    refused = False

    def post_message(self, channel: str, text: str, **more: Any) -> str:
        if more.get("thread_ts") and not self.refused:
            self.refused = True
            raise SlackApiError("refused", {"ok": False, "error": "internal_error"})
        return super().post_message(channel, text, **more)


def test_discuss_starts_one_thread_and_links_everyone_to_it(
    database: Database, twin: SlackTwin, slack_port: WebClientPort
) -> None:
    idea_id = posted_idea(database, slack_port)

    first = actions.discuss(database, slack_port, READER, idea_id)
    second = actions.discuss(database, slack_port, AUTHOR, idea_id)

    assert first and first == second
    assert len(thread_prompts(twin)) == 1
    with database.session() as session:
        assert ideas.get(session, TEAM, idea_id).discussion_ts is not None


class ClickedMeanwhile(WebClientPort):
    """A port on which someone else presses Discuss while the thread is being posted."""

    def __init__(self, port: WebClientPort, database: Database, idea_id: int) -> None:
        super().__init__(port.client)
        self.database, self.idea_id = database, idea_id
        self.meanwhile: list[str | None] = []

    def post_message(self, channel: str, text: str, **more: Any) -> str:
        if more.get("thread_ts") and not self.meanwhile:
            self.meanwhile.append(actions.discuss(self.database, self, AUTHOR, self.idea_id))
        return super().post_message(channel, text, **more)


def test_two_clicks_at_once_start_one_thread(
    database: Database, twin: SlackTwin, slack_port: WebClientPort
) -> None:
    idea_id = posted_idea(database, slack_port)
    port = ClickedMeanwhile(slack_port, database, idea_id)

    assert actions.discuss(database, port, READER, idea_id)

    assert port.meanwhile == [None]  # told to reply in the thread, which is on its way
    assert len(thread_prompts(twin)) == 1


def test_a_refused_thread_post_lets_the_next_click_start_it(
    database: Database, twin: SlackTwin, slack_port: WebClientPort
) -> None:
    idea_id = posted_idea(database, slack_port)
    port = RefusesOnce(slack_port.client)

    with pytest.raises(SlackApiError):
        actions.discuss(database, port, READER, idea_id)
    assert actions.discuss(database, port, READER, idea_id)

    assert len(thread_prompts(twin)) == 1


def test_a_decision_commits_with_its_dms_and_leaves_the_card_for_later(
    database: Database, twin: SlackTwin, slack_port: WebClientPort
) -> None:
    idea_id = posted_idea(database, slack_port)
    actions.support(database, slack_port, READER, idea_id)
    updates = len(twin.calls_to("chat.update"))
    lead = Actor(TEAM, LEAD, "Lena", Role.LEAD)
    form = actions.DecisionForm(str(idea_id), "under_review", "The design group looks at it.")

    decided = actions.decide(database, slack_port, lead, form)

    with database.session() as session:
        dms = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "idea.update"))
        assert sorted(dm.user_id or "" for dm in dms) == sorted([MEMBER, OTHER])
    assert len(twin.calls_to("chat.update")) == updates  # the card waits for the ack
    actions.redraw(database, slack_port, decided)
    assert "Under review" in str(twin.calls_to("chat.update")[-1].args["blocks"])


class RefusesUploads(WebClientPort):
    def upload_file(self, user_id: str, filename: str, content: str | bytes, **more: Any) -> None:
        raise SlackApiError("refused", {"ok": False, "error": "internal_error"})


def test_a_challenge_closed_while_slack_refuses_its_csv_stays_open_for_the_scheduler(
    database: Database, twin: SlackTwin, slack_port: WebClientPort, settings: Settings
) -> None:
    lead = Actor(TEAM, LEAD, "Lena", Role.LEAD)
    today = utcnow().astimezone(ZoneInfo(settings.copbot_timezone)).date()
    form = actions.ChallengeForm(
        "How do we cut waits?", "", [], CHANNEL, today, today + timedelta(days=7), []
    )
    with database.session() as session:
        workspaces.ensure_workspace(session, TEAM)
    challenge_id = actions.create_challenge(database, lead, settings, form)
    assert actions.advance_challenge(database, slack_port, settings, TEAM, challenge_id) == [
        "announce"
    ]

    with pytest.raises(SlackApiError):
        actions.close_challenge(
            database, RefusesUploads(slack_port.client), lead, settings, str(challenge_id)
        )
    with database.session() as session:
        assert session.get(Challenge, challenge_id).closed_at is None  # type: ignore[union-attr]
    assert not twin.files

    assert actions.advance_challenge(database, slack_port, settings, TEAM, challenge_id) == [
        "close"
    ]
    assert len(twin.files) == 1 and twin.files[0]["ims"] == [twin.dm_channel(LEAD)]
