"""The sandbox as a newcomer meets it: typed lines in, readable Slack out."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlmodel import select

from bot import demo
from bot.config import Settings
from sandbox import Terminal, World
from storage import Challenge, Database, Idea, Member, Pulse, Support

PEOPLE_BY_NAME = {person.display_name: person.user_id for person in demo.PEOPLE}


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
        "s",  # Save
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
        "s",  # Save
        "Europe/Dublin",  # asked again
        "s",
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
    """Without Slack credentials `copbot run` serves the sandbox's web page; `copbot
    sandbox --terminal` is the terminal (the tests above)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env={"PATH": os.environ["PATH"], "BROWSER": "true"},  # no browser opens in tests
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = next(
            (line.split("open ", 1)[1].strip() for line in process.stdout if "open http" in line),
            None,
        )
        assert url is not None, "the sandbox stopped before printing its URL"
        people = httpx.get(url + "api/people", timeout=30).json()["people"]
        assert people[0]["name"] == "Amara Okafor" and people[0]["role"] == "lead"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    assert (tmp_path / "var" / "sandbox.db").exists()  # the sandbox keeps its own data
    assert (tmp_path / "var" / "sandbox-twin.json").exists()  # and its conversations


def test_an_idea_is_shared_and_supported_from_the_terminal(database_url: str) -> None:
    out = run_lines(
        database_url,
        "/idea Open the discharge lounge at 7am",
        "",  # title: keep what was typed
        "",  # no description
        "3",  # themes: Discharge and flow
        "",  # not anonymous
        "",  # an empty line sends nothing
        "s",  # Share
        "as tom",
        "1",  # numbers die with the screen that showed them
        "show",
        "1",  # Support, on the card
        "quit",
    )
    assert "Nothing is sent until you choose" in out
    assert "There is no [1] on screen" in out
    assert "OPEN THE DISCHARGE LOUNGE AT 7AM" in out
    assert "Discharge and flow" in out
    assert "By Amara Okafor" in out
    assert "1 supporter" in out
    assert "your idea (https://" in out  # the thank-you DM, readable


def test_forget_me_asks_before_it_acts(database_url: str) -> None:
    out = run_lines(database_url, "as lucy", "/copbot privacy", "quit")
    number = re.search(r"\[(\d+)\] Forget me", out)
    assert number, out
    out = run_lines(
        database_url,
        "as lucy",
        "/copbot privacy",
        number.group(1),  # Forget me: the form opens, and waits
        "",
        "s",
        "!",  # Cancel
        "quit",
    )
    assert "This can't be undone" in out
    assert "Type yes to Forget me" in out
    assert out.count("Nothing is sent until you choose") == 2
    assert "╚ Cancelled." in out
    assert lucy_is_known(database_url)
    out = run_lines(database_url, "as lucy", "/copbot privacy", number.group(1), "yes", "quit")
    assert "╚ Sent." in out
    assert not lucy_is_known(database_url)


def lucy_is_known(database_url: str) -> bool:
    database = Database(database_url)
    with database.session() as session:
        found = session.exec(select(Member).where(Member.display_name == "lucy")).first()
    database.dispose()
    return found is not None


def test_the_similar_ideas_step_offers_three_distinct_choices(database_url: str) -> None:
    share = ("", "", "", "")  # title as typed, no description, no themes, not anonymous
    out = run_lines(
        database_url,
        "/idea Open the discharge lounge at 7am on weekdays",
        *share,
        "s",  # Share
        "as tom",
        "/idea Open the discharge lounge at 7am at weekends",
        *share,
        "s",  # Share: the similar ideas come first, and wait
        "s",  # Post mine anyway
        "as priya",
        "/idea Open the discharge lounge at 7am",
        *share,
        "s",
        "2",  # Support that one instead: the second similar idea
        "quit",
    )
    toms = out[out.index("╔ Similar ideas") : out.rindex("╔ Similar ideas")]
    after_toms = toms[toms.index("╚ Sent.") :]
    assert "[1] Support" in after_toms  # Tom's card starts again at 1: the form's [1], [2] died
    similar = out[out.rindex("╔ Similar ideas") :]
    assert "[1] Support that one instead" in similar
    assert "[2] Support that one instead" in similar
    assert "[3] Post mine anyway" in similar
    database = Database(database_url)
    with database.session() as session:
        ideas = {idea.id: idea.title for idea in session.exec(select(Idea))}
        supports = list(session.exec(select(Support)))
    database.dispose()
    assert len(ideas) == 2  # Priya's duplicate was not posted
    (priyas,) = [s for s in supports if s.user_id == PEOPLE_BY_NAME["priya"]]
    second = similar.split("[1] Support that one instead", 1)[1].split("[2]", 1)[0]
    assert ideas[priyas.idea_id] in second


def test_numbers_are_live_only_on_the_screen_that_shows_them(database_url: str) -> None:
    out = run_lines(database_url, "home", "dms", "5", "quit")
    assert "[5]" in out[: out.index("No direct messages")]  # Home had a [5]
    assert "There is no [5] on screen" in out


def test_dates_are_typed_as_people_write_them(database_url: str) -> None:
    out = run_lines(
        database_url,
        "/idea challenge",
        "How could we cut falls in care homes?",  # Question
        "",  # Description
        "",  # Tags
        "ideas",  # Channel
        "",  # Opens: keep today
        "next spring",  # Closes: not a date
        "15 Jan",
        "",  # Target groups
        "s",
        "quit",
    )
    assert "I can't read 'next spring' as a date" in out
    assert "15 Jan" in out
    database = Database(database_url)
    with database.session() as session:
        challenge = session.exec(select(Challenge)).one()
    database.dispose()
    assert challenge.closes_at.month == 1


def test_a_pulse_designed_in_the_terminal_asks_only_what_applies(database_url: str) -> None:
    out = run_lines(
        database_url,
        "/pulse new",
        "ward",  # Name
        "2",  # Audience: Members of a channel (the form is redrawn with a Channel)
        "frailty-network",  # Channel
        "1",  # Questions
        "",  # Your own questions
        "2",  # Schedule: Weekly (the form is redrawn with a Day)
        "2",  # Day: Tuesday
        "9am",  # Time
        "20",  # Open for (days): too many
        "5",
        "",  # Results channel
        "",  # Anonymous: keep
        "",  # Comment minimum
        "s",  # Create
        "quit",
    )
    form = out[out.index("╔ New pulse") : out.index("╚ Sent.")]
    assert form.index("║ Audience") < form.index("║ Channel") < form.index("║ Questions")
    assert form.index("║ Schedule") < form.index("║ Day") < form.index("║ Time")
    assert "I can't read '20' as a whole number from 1 to 14" in form
    database = Database(database_url)
    with database.session() as session:
        pulse = session.exec(select(Pulse)).one()
    database.dispose()
    assert (pulse.audience_kind, pulse.audience_value) == ("channel", "C0SBFRAIL")
    assert (pulse.schedule, pulse.weekday, pulse.local_time, pulse.open_days) == (
        "weekly",
        1,
        "09:00",
        5,
    )


def test_the_clock_moves_from_the_terminal(database_url: str) -> None:
    out = run_lines(database_url, "clock", "jump next year", "jump monday", "quit")
    assert "in the sandbox" in out and "(Europe/London)" in out
    assert "Jump how far?" in out
    after = out[out.index("Moving the clock") :]
    assert "Weekly learning digest previews (to leads)" in after
    assert "It is now Mon" in after and "09:00" in after
    assert "┌ DM from copbot" in after  # Amara, a lead, sees her digest preview at once
