"""Issue 13, item 2, end to end: what must never be stored (NHS numbers, dates of birth,
hospital numbers) is refused at input in an exchange sign-up, a pulse's free-text answer and
a case study, on the field concerned, saying what to remove; nothing is saved."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from slacktwin import SlackDriver, SlackTwin
from storage import (
    CaseStudy,
    Database,
    ExchangeInterest,
    PulseAnswer,
    PulseBallot,
    PulseParticipation,
)
from tests.e2e.test_exchange import ORGANISATIONS, create_programme
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER

ZWSP = "\u200b"


@pytest.fixture
def people(driver: SlackDriver) -> list[str]:
    """Members copbot has met (first contact makes them members)."""
    everyone = [LEAD, MEMBER, OTHER, ADMIN]
    for user_id in everyone:
        driver.command(user_id, "/copbot", "help", channel=CHANNEL)
    return everyone


def count(database: Database, table: type) -> int:
    with database.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_an_exchange_sign_up_refuses_a_date_of_birth_in_what_i_want_to_learn(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    create_programme(driver, twin)
    driver.command(MEMBER, "/exchange", "join hereford", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="sign-up form")
    driver.fill(
        MEMBER,
        {
            "Staff group": "Medical",
            "Organisation": ORGANISATIONS[0],
            "Professional interests": ["Frailty"],
            "I want to learn": "how Mr Smith (01/02/1950) was supported at home",
        },
    )
    errors = json.dumps(driver.submit(MEMBER).errors, ensure_ascii=False)
    assert "I want to learn contains a date of birth (“01/02/1950”)" in errors
    assert "Please remove it" in errors
    assert count(database, ExchangeInterest) == 0
    driver.fill(MEMBER, {"I want to learn": "how frailty teams support people at home"})
    assert not driver.submit(MEMBER).errors
    assert count(database, ExchangeInterest) == 1


def test_a_pulse_free_text_answer_refuses_an_nhs_number(
    driver: SlackDriver,
    twin: SlackTwin,
    database: Database,
    people: list[str],
    job_context: object,
) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "blocks",
            "Questions": ["What is getting in the way?"],
            "Schedule": "Weekly",
            "Day": "Friday",
        },
    )
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now blocks", channel=CHANNEL)
    twin.wait_for(lambda: "Nobody" in json.dumps(twin.dms(ADMIN)), message="the pulse DM")
    driver.click(ADMIN, "Answer", message=(twin.dm_channel(ADMIN), twin.dms(ADMIN)[-1]["ts"]))
    twin.wait_for(lambda: twin.current_modal(ADMIN) is not None, message="answer form")
    before = [count(database, t) for t in (PulseAnswer, PulseBallot, PulseParticipation)]
    driver.fill(ADMIN, {"What is getting in the way?": f"Transport for 943{ZWSP}476{ZWSP}5919"})
    errors = json.dumps(driver.submit(ADMIN).errors, ensure_ascii=False)
    assert "Your answer contains an NHS number" in errors and "Please remove it" in errors
    assert [count(database, t) for t in (PulseAnswer, PulseBallot, PulseParticipation)] == before
    driver.fill(ADMIN, {"What is getting in the way?": "Transport bookings on Fridays"})
    assert not driver.submit(ADMIN).errors


def test_a_case_study_refuses_a_hospital_number_in_impact(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    root, _ = driver.post_message(
        MEMBER, CHANNEL, "We set up a frailty hub with the GP federation to cut admissions."
    )
    driver.post_message(ADMIN, CHANNEL, "Admissions fell by a fifth in three months.", root)
    driver.message_shortcut(LEAD, "write_case_study", CHANNEL, root)
    twin.wait_for(
        lambda: "Lessons learned" in json.dumps(twin.current_modal(LEAD) or {}),
        message="case study draft",
    )
    driver.fill(
        LEAD,
        {"Title": "A frailty hub", "Impact": "K1234567 went home two days sooner"},
    )
    errors = json.dumps(driver.submit(LEAD).errors, ensure_ascii=False)
    assert "Impact contains a hospital or patient number (“K1234567”)" in errors
    assert count(database, CaseStudy) == 0
