"""copbot's OpenAI client: none without a key, the configured base URL, Azure when it is Azure."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from bot.config import Settings
from bot.llm import AZURE_API_VERSION, is_azure, llm_client, llm_model, shared_llm_client
from llmtwin import LLMTwin


def settings(**values: str | None) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def llm() -> Iterator[LLMTwin]:
    with LLMTwin(api_key="sk-test") as twin:
        yield twin


def test_no_key_means_no_client() -> None:
    assert llm_client(settings()) is None
    assert llm_client(settings(openai_api_key="", openai_base_url="http://127.0.0.1:9/v1")) is None


def test_the_client_talks_to_the_configured_base_url(llm: LLMTwin) -> None:
    client = llm_client(settings(openai_api_key="sk-test", openai_base_url=llm.base_url))
    assert client is not None and not isinstance(client, openai.AzureOpenAI)
    result = client.embeddings.create(model=llm_model(settings(), "embedding"), input="hello")
    assert len(result.data) == 1
    (request,) = llm.requests
    assert request.path == "/v1/embeddings" and request.status == 200
    assert request.body["model"] == "text-embedding-3-small"


def test_the_client_has_an_explicit_timeout_and_two_retries(llm: LLMTwin) -> None:
    client = llm_client(settings(openai_api_key="sk-test", openai_base_url=llm.base_url))
    assert client is not None
    assert client.max_retries == 2
    assert isinstance(client.timeout, openai.Timeout) and client.timeout.read == 20.0

    llm.fail(status=500, times=1)
    quick = llm_client(
        settings(openai_api_key="sk-test", openai_base_url=llm.base_url), max_retries=1
    )
    assert quick is not None
    quick.models.list()
    assert [r.status for r in llm.requests] == [500, 200]


def test_settings_not_sdk_environment_variables_choose_the_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SDK would read OPENAI_BASE_URL itself; copbot's Settings are the one source."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    client = llm_client(settings(openai_api_key="sk-test", openai_base_url=None))
    assert client is not None
    assert str(client.base_url) == "https://api.openai.com/v1/"


@pytest.mark.parametrize(
    "url",
    [
        "https://copbot-uk.openai.azure.com/",
        "https://copbot-uk.openai.azure.com/openai/deployments/gpt-4o-mini",
        "https://copbot-uk.cognitiveservices.azure.com",
    ],
)
def test_azure_urls_build_an_azure_client(url: str) -> None:
    client = llm_client(settings(openai_api_key="azure-key", openai_base_url=url))
    assert isinstance(client, openai.AzureOpenAI)
    host = url.split("/")[2]
    assert str(client.base_url) == f"https://{host}/openai/"
    assert client._custom_query == {"api-version": AZURE_API_VERSION}
    assert client.max_retries == 2


def test_an_azure_url_may_name_its_api_version() -> None:
    url = "https://copbot-uk.openai.azure.com/?api-version=2025-04-01-preview"
    client = llm_client(settings(openai_api_key="azure-key", openai_base_url=url))
    assert isinstance(client, openai.AzureOpenAI)
    assert client._custom_query == {"api-version": "2025-04-01-preview"}


def test_azures_openai_compatible_v1_path_uses_the_plain_client() -> None:
    url = "https://copbot-uk.openai.azure.com/openai/v1/"
    client = llm_client(settings(openai_api_key="azure-key", openai_base_url=url))
    assert client is not None and not isinstance(client, openai.AzureOpenAI)
    assert str(client.base_url) == url


def test_azure_is_recognised_by_host_only() -> None:
    assert is_azure("https://x.openai.azure.com/openai")
    assert is_azure("https://X.COGNITIVESERVICES.AZURE.COM")
    assert not is_azure("https://evil.example/x.openai.azure.com")
    assert not is_azure("https://openai.azure.com.evil.example/")
    assert not is_azure(None)


def test_models_default_per_purpose_and_openai_model_is_the_chat_model() -> None:
    assert llm_model(settings(), "chat") == "gpt-4o-mini"
    assert llm_model(settings(), "embedding") == "text-embedding-3-small"
    chat = settings(openai_model="gpt-4.1")
    assert llm_model(chat, "chat") == "gpt-4.1"
    assert llm_model(chat, "embedding") == "text-embedding-3-small"
    embedding = settings(openai_model="text-embedding-3-large")
    assert llm_model(embedding, "embedding") == "text-embedding-3-large"
    assert llm_model(embedding, "chat") == "gpt-4o-mini"
    with pytest.raises(ValueError, match="unknown purpose"):
        llm_model(chat, "vision")  # type: ignore[arg-type]


def test_the_shared_client_is_one_per_key_and_url(llm: LLMTwin) -> None:
    here = settings(openai_api_key="sk-test", openai_base_url=llm.base_url)
    shared = shared_llm_client(here)
    assert shared is not None and shared is shared_llm_client(here)
    assert shared is not shared_llm_client(settings(openai_api_key="sk-other"))
    assert shared_llm_client(settings()) is None
    shared.models.list()
    assert llm.requests[-1].status == 200
