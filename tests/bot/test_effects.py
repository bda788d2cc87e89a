"""Effects after commit (bot.platform.effects) and domain messages drawn by their views
(bot.platform.rendering)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import select

from bot import workspaces
from bot.platform.effects import after_commit, pending
from bot.platform.rendering import Rendered, render, renders
from storage import Database, Member


def test_an_effect_runs_once_after_the_commit_and_sees_its_row(database: Database) -> None:
    seen: list[int] = []

    def count_members() -> None:
        with database.session() as other:  # a second connection: only committed rows are visible
            seen.append(len(other.exec(select(Member)).all()))

    with database.session() as session:
        workspaces.ensure_workspace(session, "T1")
    with database.session() as session:
        session.add(Member(team_id="T1", slack_user_id="U1"))
        session.flush()
        after_commit(session, count_members)
        assert pending(session) == 1 and seen == []
    assert seen == [1]
    with database.session():
        pass
    assert seen == [1]


def test_an_effect_of_a_transaction_that_rolls_back_never_runs(database: Database) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), database.session() as session:
        workspaces.ensure_workspace(session, "T1")
        after_commit(session, lambda: ran.append("told Slack"))
        raise RuntimeError("refused")
    with database.session() as session:
        after_commit(session, lambda: ran.append("next"))
    assert ran == ["next"]


@dataclass(frozen=True)
class Greeting:
    name: str

    def fallback(self) -> str:
        return f"Hello {self.name}"


@dataclass(frozen=True)
class Unviewed:
    def fallback(self) -> str:
        return "nobody draws me"


def test_a_message_is_drawn_by_its_registered_view_and_an_unknown_one_is_named() -> None:
    @renders(Greeting)
    def greeting_view(message: Greeting) -> Rendered:
        text = message.fallback()
        return Rendered(text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])

    assert render(Greeting("Ada")).blocks[0]["text"]["text"] == "Hello Ada"
    with pytest.raises(ValueError, match="already has a view"):
        renders(Greeting)(lambda message: Rendered("", []))
    with pytest.raises(LookupError, match="no view renders Unviewed"):
        render(Unviewed())
