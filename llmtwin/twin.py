"""``LLMTwin``: a local fake OpenAI API with a real HTTP server.

Start it and point ``openai.OpenAI(base_url=llm.base_url, api_key=llm.api_key)`` (or
``OPENAI_BASE_URL``) at it. Plan failures with ``fail``, ``ratelimit`` and ``slow``, script
answers with ``reply_with``, and assert on ``requests``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from llmtwin.fakes import DEFAULT_DIMENSIONS
from llmtwin.server import LLMServer, Model
from llmtwin.state import Fault, Faults, RecordedRequest, Replies, RequestLog

DEFAULT_MODELS = ("gpt-4o-mini", "text-embedding-3-small")


class LLMTwin:
    """A fake OpenAI-compatible API for one key, served over HTTP on loopback.

    ``models`` is what ``GET /v1/models`` lists; any model name is accepted in requests
    unless ``strict_models`` is set (then others get OpenAI's 404 ``model_not_found``).
    ``api_key=None`` turns authentication off.
    """

    def __init__(
        self,
        api_key: str | None = "sk-test",
        *,
        models: Iterable[str] = DEFAULT_MODELS,
        strict_models: bool = False,
        dimensions: int = DEFAULT_DIMENSIONS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.faults = Faults()
        self.replies = Replies()
        self.log = RequestLog()
        self.model = Model(
            models=tuple(models),
            strict_models=strict_models,
            dimensions=dimensions,
            replies=self.replies,
        )
        self.server = LLMServer(
            self.model, api_key=api_key, faults=self.faults, log=self.log, host=host, port=port
        )
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LLMTwin:
        """Serve in a background thread; returns self once the server accepts requests."""
        if not self._started:
            self.server.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self.server.stop()
            self._started = False

    def __enter__(self) -> LLMTwin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: pass to ``OpenAI(base_url=...)``."""
        if not self._started:
            raise RuntimeError("start the LLM twin first: llm.start()")
        return self.server.origin + "/v1"

    # ------------------------------------------------------------------ planned answers

    def fail(
        self, status: int = 500, times: int = 1, *, path: str | None = None, message: str = ""
    ) -> None:
        """Answer the next ``times`` requests (to ``path`` only, e.g. ``"/v1/embeddings"``,
        when given) with HTTP ``status`` and an OpenAI-shaped error body."""
        if status < 400:
            raise ValueError("status must be an HTTP error status")
        self.faults.add(
            Fault("status", times, status=status, message=message or None, path=_path(path))
        )

    def ratelimit(self, retry_after: float = 1, times: int = 1, *, path: str | None = None) -> None:
        """Answer the next ``times`` requests with 429, ``Retry-After: retry_after`` and an
        OpenAI ``rate_limit_exceeded`` error."""
        self.faults.add(Fault("ratelimit", times, retry_after=retry_after, path=_path(path)))

    def slow(self, seconds: float = 3.0, times: int = 1, *, path: str | None = None) -> None:
        """Delay the next ``times`` answers by ``seconds``; the request still takes effect,
        so a client with a shorter timeout gives up first."""
        self.faults.add(Fault("slow", times, delay=seconds, path=_path(path)))

    def reply_with(self, content: str | dict[str, Any] | list[Any], times: int = 1) -> None:
        """Make the next ``times`` chat completions answer ``content`` (dicts and lists are
        sent as JSON text), whatever the request's response format."""
        text = content if isinstance(content, str) else json.dumps(content)
        self.replies.add(text, times)

    def clear_faults(self) -> None:
        """Forget planned faults and scripted replies."""
        self.faults.clear()
        self.replies.clear()

    # ------------------------------------------------------------------ request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in order, failed ones included."""
        return self.log.all()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Requests to one path (``"/v1/embeddings"`` or just ``"embeddings"``)."""
        wanted = _path(path)
        return [r for r in self.log.all() if r.path == wanted]

    def reset_requests(self) -> None:
        self.log.clear()


def _path(path: str | None) -> str | None:
    """``"embeddings"`` -> ``"/v1/embeddings"``; full paths pass through."""
    if path is None:
        return None
    path = "/" + path.strip("/")
    return path if path.startswith("/v1/") else "/v1" + path
