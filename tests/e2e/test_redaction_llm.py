"""Issue 13, reproduction 1, end to end: what the LLM twin received (the exact JSON bodies
of /v1/chat/completions and /v1/embeddings) holds none of the identifiers people typed, and
what must never be stored is refused at input with the field and what to remove."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from bot.config import Settings
from llmtwin import LLMTwin
from slacktwin import SlackDriver, SlackTwin
from storage import Database, Idea, Reflection
from tests.e2e.test_ideas import cards, post_idea, share
from tests.e2e.test_learning import preview, turn_on_capture, wait_until_kept
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER, SIGNING_SECRET, Copbot, make_settings

NBSP, ZWSP = "\u00a0", "\u200b"
# Every variant that reached the model verbatim on the old main.
VARIANTS = [
    "943.476.5919",
    f"943{NBSP}476{NBSP}5919",
    "9434 765 919",
    f"943{ZWSP}476{ZWSP}5919",
    "NHS-9434765919",
    "9434765919-A",
    "943/476/5919",
    "Mr Smith (01/02/1950)",
    "hospital number RJ1-234567",
    "K1234567",
    "Mrs Jane Smith",
    "Dr Patel",
]
# What must not appear in any body, however the body escapes or spaces it.
TRACES = ["943", "5919", "9434", "Smith", "Jane", "Patel", "01/02/1950", "RJ1", "234567"]
TRACES += ["K1234567", "HR1 2ER", "ward 7 bed 12"]


def bodies(llm: LLMTwin, path: str) -> str:
    """What the twin received on ``path``, decoded, as one string (no JSON escapes)."""
    sent = [r.body for r in llm.requests_to(path)]
    assert sent, f"nothing was sent to {path}"
    return json.dumps(sent, ensure_ascii=False)


def assert_clean(sent: str) -> None:
    assert NBSP not in sent and ZWSP not in sent
    for trace in TRACES:
        assert trace not in sent, trace


@pytest.fixture
def llm() -> Any:
    with LLMTwin(api_key="sk-test") as twin:
        yield twin


@pytest.fixture
def settings(twin: SlackTwin, database_url: str, llm: LLMTwin) -> Settings:
    return make_settings(
        twin,
        database_url,
        copbot_ideas_channel=CHANNEL,
        openai_api_key="sk-test",
        openai_base_url=llm.base_url,
        copbot_llm_timeout=2.0,
    )


def test_captured_messages_reach_the_model_with_no_identifier(
    driver: SlackDriver, twin: SlackTwin, database: Database, llm: LLMTwin
) -> None:
    turn_on_capture(driver, twin, LEAD, CHANNEL)
    for index, variant in enumerate(VARIANTS):
        author = MEMBER if index % 2 else ADMIN
        driver.post_message(author, CHANNEL, f"Discharge was late for {variant} again today.")
    driver.post_message(MEMBER, CHANNEL, "Mrs Jane Smith, 84, on ward 7 bed 12, HR1 2ER")
    wait_until_kept(twin, database, len(VARIANTS) + 1)

    driver.command(LEAD, "/digest", "", channel=CHANNEL)
    twin.wait_for(lambda: "Publish" in json.dumps(preview(twin)), message="digest preview")
    sent = bodies(llm, "/v1/chat/completions")
    assert_clean(sent)
    assert "[NHS number]" in sent and "[name]" in sent and "[bed]" in sent
    assert "[hospital number]" in sent and "[date of birth]" in sent and "[postcode]" in sent
    assert "Discharge was late for" in sent  # the words around them still reach the model


def test_a_reflection_with_an_nhs_number_is_refused_and_one_without_is_redacted(
    driver: SlackDriver, twin: SlackTwin, database: Database, llm: LLMTwin
) -> None:
    reply = driver.command(
        LEAD, "/copbot", "learned Mrs Jane Smith at HR1 2ER, NHS 943.476.5919"
    ).text
    assert "Your reflection contains an NHS number" in reply
    assert "943.476.5919" in reply and "Please remove it" in reply
    with database.session() as session:
        assert not session.exec(select(Reflection)).all()

    reply = driver.command(
        LEAD, "/copbot", "learned Mrs Jane Smith at HR1 2ER went home a day early"
    ).text
    assert "reflection is saved" in reply
    turn_on_capture(driver, twin, LEAD, CHANNEL)
    driver.command(LEAD, "/digest", "", channel=CHANNEL)
    twin.wait_for(lambda: "Publish" in json.dumps(preview(twin)), message="digest preview")
    sent = bodies(llm, "/v1/chat/completions")
    assert_clean(sent)
    assert "[name] at [postcode] went home a day early" in sent


def test_idea_text_reaches_embeddings_redacted(
    twin: SlackTwin, database: Database, settings: Settings, llm: LLMTwin
) -> None:
    served = Copbot(settings).start()
    try:
        driver = SlackDriver(
            twin, app_url=f"{served.url}/slack/events", signing_secret=SIGNING_SECRET
        )
        post_idea(driver, twin, OTHER, "Discharge lounge for patients on ward 7")
        result = share(
            driver,
            twin,
            MEMBER,
            {
                "Title": "Mrs Jane Smith, 84, on ward 7 bed 12, HR1 2ER",
                "Description": "Discharge lounge on ward 7 for Dr Patel's patients",
            },
        )
        assert not result.errors  # postcodes and names are not refused, only redacted
        sent = bodies(llm, "/v1/embeddings")
        assert_clean(sent)
        assert "[name], 84, on [bed], [postcode]" in sent
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("variant", "kind"),
    [
        ("943.476.5919", "an NHS number"),
        (f"943{ZWSP}476{ZWSP}5919", "an NHS number"),
        ("9434765919-A", "an NHS number"),
        ("born 1950-02-01", "a date of birth"),
        ("Mr Smith (01/02/1950)", "a date of birth"),
        ("Hosp no. 1234567", "a hospital or patient number"),
        ("K1234567", "a hospital or patient number"),
    ],
)
def test_an_idea_holding_a_patient_identifier_is_refused_on_its_field(
    driver: SlackDriver, twin: SlackTwin, database: Database, variant: str, kind: str
) -> None:
    result = share(
        driver,
        twin,
        MEMBER,
        {"Title": "Faster discharge letters", "Description": f"Patient {variant} waited"},
    )
    errors = json.dumps(result.errors, ensure_ascii=False)
    assert f"The description contains {kind}" in errors
    assert "Please remove it" in errors
    with database.session() as session:
        assert not session.exec(select(Idea)).all()
    assert not cards(twin)
