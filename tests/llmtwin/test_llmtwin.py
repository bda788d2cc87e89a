"""The LLM twin driven by the real OpenAI client, as copbot will drive it."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from llmtwin import LLMTwin, embed, schema_answer

KEY = "sk-test"
IDEA = "Open a discharge lounge so beds free up earlier. Patients wait for transport. Staff agree."


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# ---------------------------------------------------------------------- embeddings


def test_embeddings_have_openais_shape_and_carry_meaning(
    llm: LLMTwin, client: openai.OpenAI
) -> None:
    texts = [
        "an earlier discharge lounge",
        "Discharge lounge to free beds earlier",
        "Car parking for night shift staff",
    ]
    result = client.embeddings.create(
        model="text-embedding-3-small", input=texts, encoding_format="float"
    )
    assert result.object == "list" and result.model == "text-embedding-3-small"
    assert [d.index for d in result.data] == [0, 1, 2]
    assert all(d.object == "embedding" and len(d.embedding) == 256 for d in result.data)
    assert result.usage.prompt_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens
    query, related, unrelated = (d.embedding for d in result.data)
    assert math.isclose(cosine(query, query), 1.0, rel_tol=1e-9)
    assert cosine(query, related) > 0.6 > 0.2 > cosine(query, unrelated)
    assert query == embed(texts[0])  # deterministic, and the same as the library function

    (request,) = llm.requests
    assert request.method == "POST" and request.path == "/v1/embeddings"
    assert request.status == 200 and request.body["input"] == texts


def test_the_clients_default_base64_encoding_and_dimensions(
    llm: LLMTwin, client: openai.OpenAI
) -> None:
    result = client.embeddings.create(
        model="text-embedding-3-small", input="one idea", dimensions=64
    )
    assert llm.requests[0].body["encoding_format"] == "base64"
    (item,) = result.data
    assert len(item.embedding) == 64
    assert item.embedding == pytest.approx(embed("one idea", 64), abs=1e-6)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "input": [[1, 2, 3]]}, "input"),
        ({"model": "m", "input": ""}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"input": "text"}, "model"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
    ],
)
def test_bad_embedding_requests_get_400(
    client: openai.OpenAI, body: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/embeddings", body=body, cast_to=object)
    assert caught.value.status_code == 400
    assert caught.value.param == param
    assert caught.value.type == "invalid_request_error"


# ---------------------------------------------------------------------- chat


def test_chat_without_a_format_answers_a_short_summary(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Summarise for leads."},
            {"role": "user", "content": IDEA},
        ],
    )
    assert result.object == "chat.completion" and result.model == "gpt-4o-mini"
    (choice,) = result.choices
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    assert choice.message.content == "Summary: Open a discharge lounge so beds free up earlier."
    usage = result.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


CASE_STUDY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 30},
        "status": {"type": "string", "enum": ["draft", "final"]},
        "lessons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "impact": {
            "type": "object",
            "properties": {
                "score": {"type": "integer", "minimum": 3, "maximum": 5},
                "confidence": {"type": "number", "exclusiveMaximum": 1},
                "measured": {"type": "boolean"},
                "owner": {"type": ["string", "null"]},
            },
            "required": ["score", "confidence", "measured", "owner"],
            "additionalProperties": False,
        },
    },
    "required": ["title", "status", "lessons", "impact"],
    "additionalProperties": False,
}


def test_json_schema_answers_are_valid_json_for_the_schema(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": IDEA}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "case_study", "schema": CASE_STUDY_SCHEMA, "strict": True},
        },
    )
    content = result.choices[0].message.content
    assert content is not None
    answer = json.loads(content)
    assert set(answer) == {"title", "status", "lessons", "impact"}
    assert answer["title"] == "Open a discharge lounge so bed"  # first sentence, maxLength 30
    assert answer["status"] == "draft"
    assert 1 <= len(answer["lessons"]) <= 3
    assert all(isinstance(item, str) and item for item in answer["lessons"])
    assert answer["lessons"][0] != answer["lessons"][1]  # successive sentences
    impact = answer["impact"]
    assert isinstance(impact["score"], int) and 3 <= impact["score"] <= 5
    assert isinstance(impact["confidence"], float) and impact["confidence"] < 1
    assert impact["measured"] is True and isinstance(impact["owner"], str)


class Theme(BaseModel):
    name: str
    ideas: list[str]


class Digest(BaseModel):
    headline: str
    themes: list[Theme]
    supporters: int


def test_the_clients_pydantic_parse_helper_gets_a_valid_object(client: openai.OpenAI) -> None:
    """``parse`` sends a strict schema with $defs/$ref and validates the answer."""
    result = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": IDEA}],
        response_format=Digest,
    )
    digest = result.choices[0].message.parsed
    assert isinstance(digest, Digest)
    assert digest.headline == "Open a discharge lounge so beds free up earlier."
    assert digest.themes and digest.themes[0].ideas


def test_schema_answer_resolves_refs_and_picks_first_branches() -> None:
    schema = {
        "$defs": {"Level": {"type": "string", "enum": ["place", "system"]}},
        "type": "object",
        "properties": {
            "level": {"$ref": "#/$defs/Level"},
            "when": {"type": "string", "format": "date"},
            "either": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 7}]},
            "fixed": {"const": "yes"},
            "none": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
        },
    }
    assert schema_answer(schema, "Hello.") == {
        "level": "place",
        "when": "2026-01-15",
        "either": 7,
        "fixed": "yes",
        "none": [],
    }


def test_a_scripted_reply_wins_once_then_answers_are_computed_again(
    llm: LLMTwin, client: openai.OpenAI
) -> None:
    llm.reply_with({"summary": "scripted", "themes": ["flow"]})
    llm.reply_with("plain scripted text")
    messages: Any = [{"role": "user", "content": IDEA}]
    schema_format: Any = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "object", "properties": {}}},
    }
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, response_format=schema_format
    )
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    third = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert json.loads(first.choices[0].message.content or "") == {
        "summary": "scripted",
        "themes": ["flow"],
    }
    assert second.choices[0].message.content == "plain scripted text"
    assert (third.choices[0].message.content or "").startswith("Summary: ")


def test_streaming_is_refused_clearly(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="not supported by llmtwin"):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )


# ---------------------------------------------------------------------- failures


def test_500s_are_retried_by_the_client_then_succeed(llm: LLMTwin) -> None:
    llm.fail(status=500, times=1)
    with openai.OpenAI(base_url=llm.base_url, api_key=KEY, max_retries=1) as retrying:
        result = retrying.embeddings.create(model="text-embedding-3-small", input="idea")
    assert len(result.data) == 1
    assert [r.status for r in llm.requests] == [500, 200]


def test_a_500_without_retries_is_an_openai_server_error(
    llm: LLMTwin, client: openai.OpenAI
) -> None:
    llm.fail(status=503, times=1, path="/v1/chat/completions")
    client.embeddings.create(model="text-embedding-3-small", input="not affected")
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 503
    assert caught.value.type == "server_error"
    assert set(caught.value.response.json()["error"]) == {"message", "type", "param", "code"}
    assert [r.status for r in llm.requests] == [200, 503]


def test_429_retry_after_is_honoured(llm: LLMTwin, client: openai.OpenAI) -> None:
    llm.ratelimit(retry_after=1, times=1)
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model="text-embedding-3-small", input="idea")
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.code == "rate_limit_exceeded"

    llm.ratelimit(retry_after=1, times=1)
    started = time.monotonic()
    with openai.OpenAI(base_url=llm.base_url, api_key=KEY, max_retries=1) as retrying:
        retrying.embeddings.create(model="text-embedding-3-small", input="idea")
    assert time.monotonic() - started >= 0.95  # the client waited as told, not its 0.5 s backoff
    assert [r.status for r in llm.requests] == [429, 429, 200]


def test_a_slow_answer_times_out_a_client_with_a_short_timeout(llm: LLMTwin) -> None:
    llm.slow(seconds=3.0, times=1)
    started = time.monotonic()
    with (
        openai.OpenAI(base_url=llm.base_url, api_key=KEY, max_retries=0, timeout=0.3) as hasty,
        pytest.raises(openai.APITimeoutError),
    ):
        hasty.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert time.monotonic() - started < 2.0


def test_wrong_or_missing_key_gets_401_in_openais_shape(llm: LLMTwin) -> None:
    with (
        openai.OpenAI(base_url=llm.base_url, api_key="sk-wrong", max_retries=0) as wrong,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        wrong.models.list()
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"

    response = httpx.post(llm.base_url + "/embeddings", json={"model": "m", "input": "x"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "API key" in error["message"]


def test_unknown_paths_get_404_in_openais_shape(llm: LLMTwin) -> None:
    response = httpx.post(
        llm.base_url + "/completions/legacy", headers={"Authorization": f"Bearer {KEY}"}, json={}
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/completions/legacy)"
    assert llm.requests[-1].status == 404


def test_models_are_listed(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert ids == ["gpt-4o-mini", "text-embedding-3-small"]
    assert client.models.retrieve("gpt-4o-mini").owned_by == "llmtwin"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-nonexistent")


def test_strict_models_refuse_unknown_models() -> None:
    with LLMTwin(api_key=None, models=["tiny"], strict_models=True) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="anything", max_retries=0)
        assert client.embeddings.create(model="tiny", input="ok").data
        with pytest.raises(openai.NotFoundError) as caught:
            client.embeddings.create(model="gpt-4o", input="no")
        assert caught.value.code == "model_not_found"
