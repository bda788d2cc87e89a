"""The sandbox as a newcomer meets it: typed lines in, readable Slack out."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from bot.config import Settings
from sandbox import Terminal, World
from storage import Database, Member


def run_lines(database_url: str, *lines: str) -> str:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    output = io.StringIO()
    with World.start(settings) as world:
        Terminal(world, io.StringIO("\n".join(lines) + "\n"), output).loop()
    return output.getvalue()


def test_help_command_and_home_render_readably(database_url: str) -> None:
    out = run_lines(database_url, "help", "/copbot help", "home", "quit")
    assert "You are Amara Okafor" in out
    assert "as <name|number>" in out  # the sandbox's own help
    assert "/idea [text]" in out  # copbot's answer to /copbot help
    assert "WELCOME TO COPBOT" in out and "[1] Share an idea" in out
    assert "[2] Edit profile" in out
    assert "[3] Edit settings" in out  # Amara is a lead in the demo community
    assert out.rstrip().endswith("Bye.")


def test_a_member_edits_their_profile_field_by_field(database_url: str) -> None:
    out = run_lines(
        database_url,
        "as lucy",
        "home",
        "2",  # Edit profile
        "8",  # Staff group: Paramedics
        "",  # Organisation: keep
        "",  # no new organisation
        "",  # no type
        "quit",
    )
    assert "You are Lucy Chen" in out
    assert "╚ Sent." in out
    database = Database(database_url)
    with database.session() as session:
        lucy = session.exec(select(Member).where(Member.display_name == "lucy")).one()
    database.dispose()
    assert lucy.staff_group == "Paramedics"
    assert "*Staff group:* Paramedics" in out


def test_errors_in_a_form_are_asked_again(database_url: str) -> None:
    out = run_lines(
        database_url,
        "home",
        "3",  # Edit settings
        "",  # ideas channel: keep
        "",  # digest channel: none
        "",  # knowledge hub channel: none
        "Mars/Olympus",  # time zone
        "",  # anonymity minimum: keep
        "",  # keep captured messages: keep
        "",  # keep the audit log: keep
        "",  # keep sent messages: keep
        "Europe/Dublin",  # asked again
        "quit",
    )
    assert "is not a time zone I know" in out
    assert "*Time zone:* Europe/Dublin" in out


def test_people_and_unknown_input_are_handled_kindly(database_url: str) -> None:
    out = run_lines(database_url, "people", "as nobody", "frobnicate", "9", "#nowhere", "quit")
    assert "40. aisha" in out
    assert "Nobody called 'nobody'" in out
    assert "I didn't understand that" in out
    assert "There is no [9] on screen" in out
    assert "No channel #nowhere" in out


def test_copbot_run_without_credentials_starts_the_sandbox(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="/copbot help\nquit\n",
        env={"PATH": os.environ["PATH"]},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "copbot sandbox" in result.stdout
    assert "/idea [text]" in result.stdout
    assert (tmp_path / "var" / "sandbox.db").exists()  # the sandbox keeps its own data


def test_an_idea_is_shared_and_supported_from_the_terminal(database_url: str) -> None:
    out = run_lines(
        database_url,
        "/idea Open the discharge lounge at 7am",
        "",  # title: keep what was typed
        "",  # no description
        "3",  # themes: Discharge and flow
        "",  # not anonymous
        "as tom",
        "1",  # Support, on the card shown when it was posted
        "quit",
    )
    assert "OPEN THE DISCHARGE LOUNGE AT 7AM" in out
    assert "Discharge and flow" in out
    assert "By Amara Okafor" in out
    assert "1 supporters" in out
    assert "your idea (https://" in out  # the thank-you DM, readable
