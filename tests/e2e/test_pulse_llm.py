"""Pulse themes by a language model (the LLM twin, through OPENAI_BASE_URL): a point is
shown only when enough people's answers carry it, and never when it quotes one person."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.config import Settings
from llmtwin import LLMTwin
from slacktwin import SlackDriver, SlackTwin
from storage import Database
from tests.e2e.test_pulse import latest_dm, results_dm
from tests.e2e.test_pulse_privacy import close_now, design, tap
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER, make_settings

EXTRA = [f"U0LLMP{n:02d}" for n in range(3)]
ONLY_ONE = "As the only pharmacist on the night rota I feel unsafe"
WRITTEN = [
    "Discharge delays every afternoon",
    "Waiting for transport, discharge delays",
    "discharge delays and no beds",
    "Discharge delays again on Friday",
    "Long discharge delays on the ward",
    ONLY_ONE,
    "Rota gaps on nights",
]


@pytest.fixture
def llm() -> Iterator[LLMTwin]:
    with LLMTwin(api_key="sk-test") as twin:
        yield twin


@pytest.fixture
def settings(twin: SlackTwin, database_url: str, llm: LLMTwin) -> Settings:
    return make_settings(twin, database_url, openai_api_key="sk-test", openai_base_url=llm.base_url)


def test_model_themes_need_five_people_and_quote_nobody(
    driver: SlackDriver, twin: SlackTwin, database: Database, llm: LLMTwin, job_context
) -> None:
    people = [LEAD, MEMBER, OTHER, ADMIN, *EXTRA]
    for user_id in EXTRA:
        twin.add_user(user_id, name=user_id.lower())
        twin.join(CHANNEL, user_id)
    for user_id in people:
        driver.command(user_id, "/copbot", "help", channel=CHANNEL)
    design(driver, twin, "themes", ["What is getting in the way?"])
    for user, text in zip(people, WRITTEN, strict=True):
        twin.wait_for(lambda user=user: "Nobody" in json.dumps(twin.dms(user)), message=user)
        tap(driver, twin, user, "Answer")
        twin.wait_for(lambda user=user: twin.current_modal(user) is not None, message="form")
        driver.fill(user, {"What is getting in the way?": text})
        assert not driver.submit(user).errors
        twin.wait_for(lambda user=user: "answers are in" in latest_dm(twin, user)["text"])
    # The model answers with three points: one most people's answers carry, one quoting
    # the only pharmacist while citing everyone, and one from a single person.
    llm.reply_with(
        {
            "key_themes": [
                {"text": "Discharge is held up most afternoons", "sources": [0, 1, 2, 3, 4]},
                {"text": f"Staff say: {ONLY_ONE.lower()}", "sources": [0, 1, 2, 3, 4, 5, 6]},
            ],
            "whats_working": [],
            "challenges": [{"text": "Night rota gaps", "sources": [6]}],
        },
        times=3,
    )
    close_now(database)
    twin.wait_for(lambda: "Results of the themes pulse" in json.dumps(twin.dms(LEAD)))
    shown = json.dumps(results_dm(twin, "themes")["blocks"])
    assert llm.requests_to("/v1/chat/completions")  # the model was asked
    assert "Discharge is held up most afternoons" in shown
    assert "pharmacist" not in shown.lower() and "night rota" not in shown.lower()
    assert "offline summary" not in shown
