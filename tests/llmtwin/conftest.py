"""An LLM twin per test and a real OpenAI client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from llmtwin import LLMTwin

KEY = "sk-test"


@pytest.fixture
def llm() -> Iterator[LLMTwin]:
    with LLMTwin(api_key=KEY) as twin:
        yield twin


@pytest.fixture
def client(llm: LLMTwin) -> Iterator[openai.OpenAI]:
    """No retries unless a test asks for them, so failures show at once."""
    with openai.OpenAI(base_url=llm.base_url, api_key=KEY, max_retries=0, timeout=5) as client:
        yield client
