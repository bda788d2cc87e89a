"""The one place copbot makes its OpenAI client, so timeouts, retries and Azure are decided once.

No key means no client: callers fall back to their offline path (TF-IDF, the offline
summariser). ``OPENAI_BASE_URL`` points at any OpenAI-compatible server (the LLM twin in
tests); an Azure OpenAI resource URL gets an ``AzureOpenAI`` client.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    import openai

    from bot.config import Settings

Purpose = Literal["chat", "embedding"]

OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_MODELS: dict[str, str] = {"chat": "gpt-4o-mini", "embedding": "text-embedding-3-small"}
# Azure OpenAI's current GA data-plane version; a URL's own ?api-version= wins.
AZURE_API_VERSION = "2024-10-21"
AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com")
# Slack-facing work must not hang: 20 s a request (5 s to connect), two retries.
TIMEOUT_SECONDS = 20.0
CONNECT_TIMEOUT_SECONDS = 5.0
MAX_RETRIES = 2


def is_azure(base_url: str | None) -> bool:
    """Whether the URL names an Azure OpenAI (or Azure AI Services) resource."""
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    return host.endswith(AZURE_HOST_SUFFIXES)


def llm_client(
    settings: Settings, *, timeout: float = TIMEOUT_SECONDS, max_retries: int = MAX_RETRIES
) -> openai.OpenAI | None:
    """A new configured client, or None when ``OPENAI_API_KEY`` is not set.

    Azure resource URLs get ``AzureOpenAI`` with the resource origin as ``azure_endpoint``,
    except Azure's OpenAI-compatible ``/openai/v1`` path, which the plain client speaks.
    Only settings are used: environment variables the SDK would read are not consulted.
    """
    if not settings.openai_api_key:
        return None
    return _build(settings.openai_api_key, settings.openai_base_url, timeout, max_retries)


def shared_llm_client(settings: Settings) -> openai.OpenAI | None:
    """``llm_client`` with the defaults, one per key and URL for the whole process.

    For per-request callers: a client holds a connection pool, so reusing it saves a TLS
    handshake on every Slack interaction. Tighten it per use with ``with_options``.
    """
    if not settings.openai_api_key:
        return None
    return _shared(settings.openai_api_key, settings.openai_base_url)


@lru_cache(maxsize=8)
def _shared(key: str, base_url: str | None) -> openai.OpenAI:
    return _build(key, base_url, TIMEOUT_SECONDS, MAX_RETRIES)


def _build(key: str, base_url: str | None, timeout: float, max_retries: int) -> openai.OpenAI:
    import openai

    limits = openai.Timeout(timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout))
    url = base_url or OPENAI_URL
    parts = urlsplit(url)
    if is_azure(url) and "/openai/v1/" not in "/" + parts.path.strip("/") + "/":
        version = parse_qs(parts.query).get("api-version", [AZURE_API_VERSION])[0]
        return openai.AzureOpenAI(
            azure_endpoint=f"{parts.scheme}://{parts.netloc}",
            api_version=version,
            api_key=key,
            timeout=limits,
            max_retries=max_retries,
        )
    return openai.OpenAI(api_key=key, base_url=url, timeout=limits, max_retries=max_retries)


def llm_model(settings: Settings, purpose: Purpose) -> str:
    """The model (Azure: deployment) name for a purpose.

    ``OPENAI_MODEL`` names the chat model; it is used for embeddings only when it is an
    embedding model (its name contains "embed"), since one variable cannot serve both.
    """
    if purpose not in DEFAULT_MODELS:
        raise ValueError(f"unknown purpose {purpose!r}; use one of {sorted(DEFAULT_MODELS)}")
    configured = (settings.openai_model or "").strip()
    if configured and ("embed" in configured.lower()) == (purpose == "embedding"):
        return configured
    return DEFAULT_MODELS[purpose]
