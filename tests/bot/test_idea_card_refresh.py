"""An idea's card ends up showing the idea as last committed, even when redraws race."""

from __future__ import annotations

import json
from typing import Any

from bot import workspaces
from bot.ideas import publish
from bot.ideas import rules as ideas
from bot.roles import Actor, Role
from bot.slack import WebClientPort
from slacktwin import SlackTwin
from storage import Database
from tests.support import CHANNEL, LEAD, MEMBER, OTHER, TEAM


def card_blocks(twin: SlackTwin, ts: str) -> str:
    message = twin.message(CHANNEL, ts)
    assert message is not None
    return json.dumps(message["blocks"])


class OvertakenOnce(WebClientPort):
    """A port whose first card update reaches Slack only after a second support has
    committed and that support's own redraw has landed: the race two clicks can make."""

    def __init__(self, port: WebClientPort, database: Database, idea_id: int) -> None:
        super().__init__(port.client)
        self.database, self.idea_id, self.overtaken = database, idea_id, False

    def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        if not self.overtaken:
            self.overtaken = True
            with self.database.session() as session:
                ideas.support(session, Actor(TEAM, OTHER, "Olive", Role.MEMBER), self.idea_id)
            publish.refresh_card(self.database, self, TEAM, self.idea_id)
        super().update_message(channel, ts, text, blocks=blocks)


def test_a_redraw_overtaken_by_a_newer_one_draws_again(
    database: Database, twin: SlackTwin, slack_port: WebClientPort
) -> None:
    author = Actor(TEAM, LEAD, "Lena", Role.LEAD)
    with database.session() as session:
        workspaces.ensure_workspace(session, TEAM)
        idea_id = ideas.create(session, author, ideas.IdeaFields(title="Ward huddles"), CHANNEL).id
    assert idea_id is not None
    card_ts = publish.post_card(database, slack_port, TEAM, idea_id).card_ts
    assert card_ts is not None
    with database.session() as session:
        ideas.support(session, Actor(TEAM, MEMBER, "Max", Role.MEMBER), idea_id)

    publish.refresh_card(database, OvertakenOnce(slack_port, database, idea_id), TEAM, idea_id)

    assert "2 supporters" in card_blocks(twin, card_ts)
    updates = [call.args["text"] for call in twin.calls_to("chat.update")]
    assert len(updates) == 3  # the newer redraw, the stale one, then the stale one drawn again
