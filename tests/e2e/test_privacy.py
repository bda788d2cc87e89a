"""Privacy rights end to end: a member who has used every capability sees what is kept,
downloads it, and is forgotten; afterwards no column of any table holds their ID, while
counts stay true and anonymous pulse answers are untouched. Leads' audit log as CSV."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Text, cast, func, or_, select
from sqlmodel import SQLModel

from bot.config import Settings
from slacktwin import SlackDriver, SlackTwin
from storage import Database, Idea, PulseAnswer, Support
from tests.e2e.test_ideas import cards, post_idea
from tests.e2e.test_learning import turn_on_capture
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER, make_settings


@pytest.fixture
def settings(twin: SlackTwin, database_url: str) -> Settings:
    return make_settings(twin, database_url, copbot_ideas_channel=CHANNEL)


def holding(database: Database, user_id: str) -> dict[str, int]:
    """Rows per table in which any column, read as text, contains ``user_id``."""
    found = {}
    with database.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            condition = or_(*(cast(c, Text).like(f"%{user_id}%") for c in table.columns))
            count = session.scalar(select(func.count()).select_from(table).where(condition))
            if count:
                found[table.name] = count
    return found


def use_everything(driver: SlackDriver, twin: SlackTwin) -> None:
    """MEMBER shares and supports ideas, answers a pulse, signs up to an exchange, has a
    message captured, writes a reflection and sets nudge preferences."""
    mine = post_idea(driver, twin, MEMBER, "Open a discharge lounge")
    theirs = post_idea(driver, twin, OTHER, "Weekend therapy cover on frailty wards")
    driver.click(OTHER, "Support", message=(CHANNEL, mine))
    driver.click(MEMBER, "Support", message=(CHANNEL, theirs))
    twin.wait_for(lambda: "1 supporter" in json.dumps(cards(twin)), message="supports")
    driver.command(MEMBER, "/copbot", "learned Shadowing a paramedic changed how I refer")
    turn_on_capture(driver, twin, LEAD, CHANNEL)
    driver.post_message(MEMBER, CHANNEL, f"Thanks <@{OTHER}>, the huddle worked well.")
    driver.post_message(OTHER, CHANNEL, f"Agreed with <@{MEMBER}> on the huddle.")

    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "week", "Questions": ["I can raise a concern and be heard"]})
    driver.fill(LEAD, {"Schedule": "Weekly", "Day": "Monday"})
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now week", channel=CHANNEL)
    for user in (MEMBER, OTHER):
        twin.wait_for(lambda u=user: "Nobody" in json.dumps(twin.dms(u)), message="pulse DM")
        driver.click(user, "4", message=(twin.dm_channel(user), twin.dms(user)[-1]["ts"]))
        twin.wait_for(lambda u=user: "answer is in" in twin.dms(u)[-1]["text"], message="answer")

    driver.command(LEAD, "/exchange", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "swap", "Format": "Half-day swap"})
    assert not driver.submit(LEAD).errors
    driver.command(MEMBER, "/exchange", "join swap", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(
        MEMBER,
        {
            "Staff group": "Medical",
            "Organisation": "Wye Valley NHS Trust",
            "Professional interests": ["Frailty"],
            "People I should not be paired with": [OTHER],
        },
    )
    assert not driver.submit(MEMBER).errors


def test_see_download_and_forget_me(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    use_everything(driver, twin)
    before = holding(database, MEMBER)
    assert {"member", "idea", "support", "captured_message", "reflection"} <= before.keys()
    with database.session() as session:
        supporters = sorted(i.supporter_count for i in session.scalars(select(Idea)))
        answers = sorted((a.value, a.question) for a in session.scalars(select(PulseAnswer)))

    reply = driver.command(MEMBER, "/copbot", "privacy").json()
    text = json.dumps(reply)
    assert "What copbot keeps about you" in text and "1 you wrote, 1 you support" in text
    assert "Download my data" in text and "Forget me" in text

    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Your data" in json.dumps(twin.home_view(MEMBER) or {}))
    driver.click(MEMBER, "What copbot keeps", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="rights modal")
    driver.click(MEMBER, "Download my data", modal=True)
    twin.wait_for(lambda: twin.files, message="my data as a file")
    data = json.loads(twin.files[-1]["content"])
    assert twin.files[-1]["ims"] == [twin.dm_channel(MEMBER)]
    assert data["user_id"] == MEMBER and "reflection" in data["tables"]
    assert "pulse_answer" not in data["tables"]  # anonymous answers are not theirs to see

    driver.close(MEMBER)
    driver.click(MEMBER, "Forget me", home=True)
    twin.wait_for(lambda: "Forget me" in json.dumps(twin.current_modal(MEMBER) or {}))
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: "has forgotten you" in json.dumps(twin.dms(MEMBER)), message="done")

    assert holding(database, MEMBER) == {}  # every table, every column
    with database.session() as session:
        assert sorted(i.supporter_count for i in session.scalars(select(Idea))) == (supporters)
        assert len(session.scalars(select(Support)).all()) == 2
        assert (
            sorted((a.value, a.question) for a in session.scalars(select(PulseAnswer))) == answers
        )
    assert holding(database, OTHER)  # nobody else was touched


def test_only_admins_get_the_audit_log_as_csv(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "audited", "Questions": ["What is working well?"]})
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "pause audited", channel=CHANNEL)
    driver.app_home_opened(LEAD)
    twin.wait_for(lambda: "Your data" in json.dumps(twin.home_view(LEAD) or {}))
    assert "Audit log" not in json.dumps(twin.home_view(LEAD))  # leads are not admins
    driver.app_home_opened(ADMIN)
    twin.wait_for(lambda: "Download audit log" in json.dumps(twin.home_view(ADMIN) or {}))
    driver.click(ADMIN, "Download audit log", home=True)
    twin.wait_for(lambda: twin.files, message="audit CSV")
    csv_text = twin.files[-1]["content"].decode()
    header, *rows = csv_text.strip().splitlines()
    assert header == "at,actor_id,action,target,before,after"
    assert any(LEAD in row and "pulse" in row for row in rows)
