"""The twin's HTTP side: a Starlette app served by uvicorn in a background thread.

Routes (OpenAI's, under ``/v1``):

- ``POST /v1/embeddings``: deterministic hashing-trick embeddings (float or base64).
- ``POST /v1/chat/completions``: a scripted reply, else JSON valid for the request's
  ``json_schema`` response format, else a one-line summary of the last user message.
- ``GET /v1/models`` and ``GET /v1/models/{id}``.

Each request goes: unknown path (404) -> auth (401) -> planned faults (status, 429 with
Retry-After, or a delay) -> handler. Errors use OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``, and every answer is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from llmtwin import fakes
from llmtwin.state import Faults, RecordedRequest, Replies, RequestLog
from slacktwin.threaded import ThreadedServer

logger = logging.getLogger(__name__)

MAX_INPUTS = 2048
MAX_DIMENSIONS = 3072
_STATUS_MESSAGES = {
    500: ("The server had an error while processing your request. Sorry about that!", None),
    502: ("Bad gateway.", None),
    503: ("The engine is currently overloaded, please try again later.", None),
    504: ("Gateway timeout.", None),
}


class TwinRequestError(Exception):
    """A request the twin refuses, answered in OpenAI's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param
        self.code = code


@dataclass
class Outcome:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Outcome:
        body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
        return cls(status, body, headers or {})

    def response(self, request_id: str) -> Response:
        headers = {"x-request-id": request_id, **self.headers}
        return JSONResponse(self.body, status_code=self.status, headers=headers)


class Model:
    """The fake model: request bodies in, OpenAI response bodies out."""

    def __init__(
        self,
        *,
        models: tuple[str, ...],
        strict_models: bool,
        dimensions: int,
        replies: Replies,
    ) -> None:
        self.models = models
        self.strict_models = strict_models
        self.dimensions = dimensions
        self.replies = replies
        self._ids = itertools.count(1)

    def _model(self, body: dict[str, Any]) -> str:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise TwinRequestError(400, "you must provide a model parameter", param="model")
        if self.strict_models and model not in self.models:
            raise TwinRequestError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        return model

    # ------------------------------------------------------------------ embeddings

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(body)
        texts = _embedding_inputs(body.get("input"))
        dimensions = body.get("dimensions", self.dimensions)
        if dimensions is None:
            dimensions = self.dimensions
        if isinstance(dimensions, bool) or not isinstance(dimensions, int):
            raise TwinRequestError(400, "dimensions must be an integer", param="dimensions")
        if not 1 <= dimensions <= MAX_DIMENSIONS:
            raise TwinRequestError(
                400, f"dimensions must be between 1 and {MAX_DIMENSIONS}", param="dimensions"
            )
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise TwinRequestError(
                400, "encoding_format must be 'float' or 'base64'", param="encoding_format"
            )
        data = []
        for index, text in enumerate(texts):
            vector = fakes.embed(text, dimensions)
            embedding: list[float] | str = vector
            if encoding == "base64":
                packed = struct.pack(f"<{len(vector)}f", *vector)
                embedding = base64.b64encode(packed).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(fakes.count_tokens(text) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    # ------------------------------------------------------------------ chat

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(body)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise TwinRequestError(400, "messages must be a non-empty array", param="messages")
        if any(not isinstance(m, dict) or not isinstance(m.get("role"), str) for m in messages):
            raise TwinRequestError(400, "each message needs a role", param="messages")
        if body.get("stream"):
            raise TwinRequestError(400, "stream is not supported by llmtwin", param="stream")
        texts = [_message_text(m.get("content")) for m in messages]
        user_texts = [t for m, t in zip(messages, texts, strict=True) if m["role"] == "user"]
        source = user_texts[-1] if user_texts else ""
        content = self.replies.take()
        if content is None:
            content = _answer(body.get("response_format"), source)
        prompt_tokens = sum(fakes.count_tokens(t) for t in texts)
        completion_tokens = fakes.count_tokens(content)
        return {
            "id": f"chatcmpl-llmtwin-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": "fp_llmtwin",
        }

    # ------------------------------------------------------------------ models

    def model_card(self, model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "llmtwin"}

    def list_models(self) -> dict[str, Any]:
        return {"object": "list", "data": [self.model_card(m) for m in self.models]}

    def get_model(self, model: str) -> dict[str, Any]:
        if model not in self.models:
            raise TwinRequestError(
                404, f"The model '{model}' does not exist", param="model", code="model_not_found"
            )
        return self.model_card(model)


def _embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise TwinRequestError(
            400, "input must be a non-empty string or array of strings", param="input"
        )
    if not all(isinstance(item, str) for item in value):
        raise TwinRequestError(
            400, "llmtwin accepts text inputs only, not token arrays", param="input"
        )
    if len(value) > MAX_INPUTS:
        raise TwinRequestError(400, f"input must have at most {MAX_INPUTS} items", param="input")
    if any(not item for item in value):
        raise TwinRequestError(
            400, "'$.input' is invalid: empty strings cannot be embedded", param="input"
        )
    return value


def _message_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _answer(response_format: Any, source: str) -> str:
    if response_format is None:
        return fakes.summary(source)
    if not isinstance(response_format, dict):
        raise TwinRequestError(400, "response_format must be an object", param="response_format")
    kind = response_format.get("type")
    if kind == "text":
        return fakes.summary(source)
    if kind == "json_object":
        return json.dumps({"summary": fakes.first_sentence(source)})
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise TwinRequestError(
                400, "json_schema needs a name and a schema", param="response_format.json_schema"
            )
        schema = spec.get("schema", {})
        if not isinstance(schema, dict):
            raise TwinRequestError(
                400, "json_schema.schema must be an object", param="response_format.json_schema"
            )
        try:
            return json.dumps(fakes.schema_answer(schema, source))
        except ValueError as exc:
            raise TwinRequestError(400, f"invalid schema: {exc}", param="response_format") from None
    raise TwinRequestError(
        400, f"response_format type {kind!r} is not supported", param="response_format.type"
    )


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class LLMServer:
    """Starlette app + uvicorn in a daemon thread on 127.0.0.1 and a free port."""

    def __init__(
        self,
        model: Model,
        *,
        api_key: str | None,
        faults: Faults,
        log: RequestLog,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.faults = faults
        self.log = log
        self.host = host
        self.port = port
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._runner = ThreadedServer("llmtwin")
        self.routes: dict[tuple[str, str], Handler] = {
            ("POST", "/v1/embeddings"): model.embeddings,
            ("POST", "/v1/chat/completions"): model.chat,
            ("GET", "/v1/models"): lambda _body: model.list_models(),
        }
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=methods)])

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> None:
        self._stopping.clear()
        self.port = self._runner.start(
            self.app,
            self.host,
            self.port,
            timeout,
            ws="none",
        )

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._runner.stop(timeout)

    async def _sleep(self, seconds: float) -> None:
        """Sleep for a planned slow answer, cut short when the twin stops."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    # ------------------------------------------------------------------ requests

    def _authorised(self, request: Request) -> Outcome | None:
        """None when the key is right, else OpenAI's 401 (Azure's ``api-key`` works too)."""
        if self.api_key is None:
            return None
        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        key = key or request.headers.get("api-key")
        if not key:
            return Outcome.error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if key != self.api_key:
            shown = key[:4] + "*" * 4 + key[-2:] if len(key) > 8 else "*" * len(key)
            return Outcome.error(
                401, f"Incorrect API key provided: {shown}.", code="invalid_api_key"
            )
        return None

    def _handler(self, method: str, path: str) -> Handler | None:
        handler = self.routes.get((method, path))
        if handler is None and method == "GET" and path.startswith("/v1/models/"):
            model = path.removeprefix("/v1/models/")
            return lambda _body: self.model.get_model(model)
        return handler

    async def _handle(self, request: Request) -> Response:
        method = request.method
        path = "/" + request.path_params["path"].strip("/")
        raw = await request.body()
        body: Any = None
        bad_json = False
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            bad_json = True
        outcome = await self._outcome(request, method, path, body, bad_json)
        self.log.add(RecordedRequest(method, path, body, outcome.status, time.time()))
        return outcome.response(f"req_llmtwin_{next(self._ids)}")

    async def _outcome(
        self, request: Request, method: str, path: str, body: Any, bad_json: bool
    ) -> Outcome:
        handler = self._handler(method, path)
        if handler is None:
            return Outcome.error(404, f"Invalid URL ({method} {path})")
        denied = self._authorised(request)
        if denied is not None:
            return denied
        fault = self.faults.take(path)
        if fault is not None and fault.kind == "slow":
            await self._sleep(fault.delay)
        elif fault is not None and fault.kind == "ratelimit":
            return Outcome.error(
                429,
                fault.message or "Rate limit reached for requests. Please try again later.",
                kind="requests",
                code="rate_limit_exceeded",
                headers={"Retry-After": f"{fault.retry_after:g}"},
            )
        elif fault is not None:
            default, code = _STATUS_MESSAGES.get(fault.status, (f"Error {fault.status}.", None))
            kind = "server_error" if fault.status >= 500 else "invalid_request_error"
            return Outcome.error(fault.status, fault.message or default, kind=kind, code=code)
        if method == "POST" and (bad_json or not isinstance(body, dict)):
            return Outcome.error(
                400,
                "We could not parse the JSON body of your request. The body must be a JSON object.",
            )
        try:
            return Outcome(200, handler(body or {}))
        except TwinRequestError as exc:
            return Outcome.error(
                exc.status, exc.message, kind=exc.kind, param=exc.param, code=exc.code
            )
        except Exception:
            logger.exception("llm twin: %s %s failed", method, path)
            return Outcome.error(500, _STATUS_MESSAGES[500][0], kind="server_error")
