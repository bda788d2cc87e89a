"""The one place copbot makes its OpenAI client, so timeouts, retries and Azure are decided once.

No key means no client: callers fall back to their offline path (TF-IDF, the offline
summariser). ``OPENAI_BASE_URL`` points at any OpenAI-compatible server (the LLM twin in
tests); an Azure OpenAI resource URL gets an ``AzureOpenAI`` client.

Every client made here sends through ``RedactingTransport``: whatever a caller forgot, the
texts of a chat completion, responses or embeddings request are redacted
(``bot.redaction.redact_identifiers``) before the request leaves the process.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit

from bot.redaction import redact_identifiers

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
    http_client = openai.DefaultHttpxClient(transport=redacting_transport(http_library(openai)))
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
            http_client=http_client,
        )
    return openai.OpenAI(
        api_key=key, base_url=url, timeout=limits, max_retries=max_retries, http_client=http_client
    )


# The OpenAI SDK's own pool limits, kept when the transport is ours.
MAX_CONNECTIONS, MAX_KEEPALIVE, KEEPALIVE_EXPIRY = 1000, 100, 5.0
# Requests that carry people's words to a model (chat, responses, embeddings, completions).
MODEL_PATHS = ("/chat/completions", "/responses", "/embeddings", "/completions")
# Body fields that are settings, never text from people: left exactly as they are.
SETTINGS_FIELDS = frozenset(
    {"model", "role", "type", "encoding_format", "response_format", "format", "tool_choice"}
)


def http_library(openai_module: Any) -> ModuleType:
    """The HTTP library the installed OpenAI SDK is built on (``httpx``, or ``httpx2`` for
    the 3.x SDK): its client only takes that library's transports and requests."""
    base = next(c for c in openai_module.DefaultHttpxClient.__mro__[1:] if c.__name__ == "Client")
    return sys.modules[base.__module__.split(".")[0]]


def redacting_transport(http: ModuleType) -> Any:
    """That library's default transport, behind ``RedactingTransport``."""
    limits = http.Limits(
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    return _transport_class(http)(http.HTTPTransport(limits=limits), http)


@lru_cache(maxsize=2)
def _transport_class(http: ModuleType) -> type:
    class RedactingTransport(http.BaseTransport):  # type: ignore[name-defined,misc]
        """The last guard before a model: each text in a model request's body is redacted.

        Callers redact first (with Slack markup and per-job labels); this catches any text
        a caller forgot, on every path, for every client ``llm_client`` makes.
        """

        def __init__(self, inner: Any, library: ModuleType) -> None:
            self._inner = inner
            self._http = library

        def handle_request(self, request: Any) -> Any:
            if request.method == "POST" and request.url.path.rstrip("/").endswith(MODEL_PATHS):
                request = redacted_request(request, self._http)
            return self._inner.handle_request(request)

        def close(self) -> None:
            self._inner.close()

    return RedactingTransport


def redacted_request(request: Any, http: ModuleType) -> Any:
    """``request`` with every text of its JSON body redacted (a body that is not JSON as is)."""
    try:
        body = json.loads(request.read() or b"null")
    except ValueError:
        return request
    cleaned = redact_texts(body)
    if cleaned == body:
        return request
    headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
    content = json.dumps(cleaned).encode("ascii")  # escaped: a lone surrogate cannot break it
    return http.Request(
        request.method, request.url, headers=headers, content=content, extensions=request.extensions
    )


def redact_texts(value: Any) -> Any:
    """Every string in a JSON value redacted, except the settings fields' values."""
    if isinstance(value, str):
        return redact_identifiers(value)
    if isinstance(value, list):
        return [redact_texts(item) for item in value]
    if isinstance(value, dict):
        return {
            key: item if key in SETTINGS_FIELDS else redact_texts(item)
            for key, item in value.items()
        }
    return value


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
