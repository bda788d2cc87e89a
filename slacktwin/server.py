"""The twin's HTTP side: a Starlette app served by uvicorn in a background thread.

Routes:

- ``POST|GET /api/{method}``: the Web API (JSON, form, multipart or empty bodies).
- ``POST /upload/v1/{token}``: upload URLs from files.getUploadURLExternal.
- ``POST /response/{token}``: response_url endpoints the driver puts in payloads.
- ``GET /files/{file_id}/{name}``: ``url_private`` downloads (bearer token required).
- ``WS /link/?ticket=...``: Socket Mode connections (URLs from apps.connections.open),
  served by ``SocketModeHub``.

Each API call goes: unknown method (404) -> auth -> planned faults -> not implemented ->
rate limit (429 + Retry-After) -> handler under the workspace lock. Every answer,
failures included, is recorded in the call log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from slacktwin.api import HANDLERS, JSON_ARGS, Args, apply_response, use_response_url
from slacktwin.errors import ApiError
from slacktwin.faults import Fault, Faults
from slacktwin.methods import web_api_methods
from slacktwin.ratelimit import RateLimiter
from slacktwin.recording import Call, CallLog
from slacktwin.scopes import accepted_scopes, missing_scope
from slacktwin.socketmode import SocketModeHub
from slacktwin.state import Workspace
from slacktwin.threaded import ThreadedServer

logger = logging.getLogger(__name__)

# Methods that take the app-level token (Socket Mode) instead of the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


@dataclass
class Outcome:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def _decode_json_args(args: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_ARGS & args.keys():
        value = args[key]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.strip():
            try:
                args[key] = json.loads(value)
            except ValueError:
                args[key] = value  # handlers answer with Slack's "invalid ..." error
    return args


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Multipart form fields (files as bytes) with the standard library only."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, Any] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = data if part.get_filename() else data.decode("utf-8", "replace")
    return fields


async def read_api_request(request: Request) -> tuple[dict[str, Any], str | None]:
    """Arguments and token of a Web API request, whatever the encoding.

    Like Slack, a token inside a JSON body is not accepted: JSON callers must use the
    ``Authorization: Bearer`` header.
    """
    args: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    full_type = request.headers.get("content-type", "")
    content_type = full_type.split(";")[0].strip().lower()
    is_json = False
    if body.strip():
        if content_type == "application/json":
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            args.update(data)
            is_json = True
        elif content_type == "multipart/form-data":
            args.update(_parse_multipart(body, full_type))
        else:
            args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    token: str | None = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    body_token = args.pop("token", None)
    if token is None and body_token and not is_json:
        token = str(body_token)
    return _decode_json_args(args), token


class Dispatcher:
    """Runs one Web API call through auth, faults, rate limits and the handler."""

    def __init__(
        self,
        ws: Workspace,
        *,
        token: str,
        limiter: RateLimiter,
        faults: Faults,
        log: CallLog,
        app_token: str | None = None,
        scopes: tuple[str, ...] = (),
    ) -> None:
        self.ws = ws
        self.token = token
        self.app_token = app_token
        self.scopes = tuple(scopes)
        self.uninstalled = False
        self.limiter = limiter
        self.faults = faults
        self.log = log
        self.methods = web_api_methods()

    def record(self, method: str, args: dict[str, Any], outcome: Outcome) -> Outcome:
        self.log.add(Call(method, _jsonable(args), outcome.status, outcome.body, time.time()))
        return outcome

    def precheck(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[Outcome | None, Fault | None]:
        """Answers that come before the method runs, or the timing fault to apply."""
        if method not in self.methods:
            return self.record(
                method, args, Outcome(404, {"ok": False, "error": "unknown_method"})
            ), None
        if not token:
            return self.record(
                method, args, Outcome(200, {"ok": False, "error": "not_authed"})
            ), None
        token_error = self._token_error(method, token)
        if token_error is not None:
            return self.record(
                method, args, Outcome(200, {"ok": False, "error": token_error})
            ), None
        if self.uninstalled:
            # After an uninstall Slack answers a bot token with account_inactive.
            outcome = Outcome(200, {"ok": False, "error": "account_inactive"})
            return self.record(method, args, outcome), None
        fault = self.faults.take(method)
        if fault is None:
            return None, None
        if fault.kind == "status":
            body = {"ok": False, "error": fault.error or "internal_error"}
            return self.record(method, args, Outcome(fault.status, body)), None
        if fault.kind == "ratelimit":
            outcome = Outcome(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(fault.retry_after)},
            )
            return self.record(method, args, outcome), None
        return None, fault

    def _token_error(self, method: str, token: str) -> str | None:
        """Slack's answer to the wrong kind of token: the app-level token (``xapp-``) works
        only for apps.connections.open, and the bot token everywhere else."""
        wants_app_token = method in APP_TOKEN_METHODS
        expected = self.app_token if wants_app_token else self.token
        if expected is not None and token == expected:
            return None
        other = self.token if wants_app_token else self.app_token
        if other is not None and token == other:
            return "not_allowed_token_type"
        return "invalid_auth"

    def scope_headers(self, method: str, args: dict[str, Any]) -> dict[str, str]:
        """Slack's ``x-oauth-scopes`` (the token's scopes) and ``x-accepted-oauth-scopes``
        (the scopes this method accepts) response headers."""
        if method in APP_TOKEN_METHODS:
            return {"x-oauth-scopes": "connections:write", "x-accepted-oauth-scopes": ""}
        with self.ws.lock:
            accepted = accepted_scopes(self.ws, method, args)
        return {
            "x-oauth-scopes": ",".join(self.scopes),
            "x-accepted-oauth-scopes": ",".join(accepted),
        }

    def _rate_key(self, method: str, args: dict[str, Any]) -> str | None:
        if method != "chat.postMessage":
            return None
        channel = str(args.get("channel") or "")
        with self.ws.lock:
            if channel in self.ws.users and channel != self.ws.bot_user_id:
                return self.ws.dm(channel).id
        return channel

    def execute(self, method: str, args: dict[str, Any]) -> Outcome:
        handler = HANDLERS.get(method)
        if handler is None:
            body = {
                "ok": False,
                "error": "twin_not_implemented",
                "response_metadata": {
                    "messages": [f"[ERROR] the Slack twin does not implement {method}"]
                },
            }
            return self.record(method, args, Outcome(200, body))
        if method not in APP_TOKEN_METHODS:
            with self.ws.lock:
                needed = missing_scope(self.ws, method, args, self.scopes)
            if needed is not None:
                body = {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(self.scopes),
                }
                return self.record(method, args, Outcome(200, body))
        retry_after = self.limiter.check(method, channel=self._rate_key(method, args))
        if retry_after is not None:
            outcome = Outcome(
                429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
            )
            return self.record(method, args, outcome)
        with self.ws.lock:
            try:
                body = {"ok": True, **handler(self.ws, Args(args))}
                outcome = Outcome(200, json.loads(json.dumps(body)))
            except ApiError as exc:
                outcome = Outcome(exc.status, exc.body())
            except Exception:
                logger.exception("slack twin: %s failed", method)
                outcome = Outcome(500, {"ok": False, "error": "internal_error"})
        return self.record(method, args, outcome)


def _jsonable(value: Any) -> Any:
    """Recorded args: bytes (uploads) become a short description."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


class TwinServer:
    """Starlette app + uvicorn in a daemon thread on 127.0.0.1 and a free port."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        socket_mode: SocketModeHub | None = None,
        ping_interval: float | None = 20.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.ws = dispatcher.ws
        self.host = host
        self.port = port
        self.socket_mode = socket_mode or SocketModeHub(self.ws)
        self.ping_interval = ping_interval
        self._stopping = threading.Event()
        self._runner = ThreadedServer("slacktwin")
        self.app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/upload/v1/{token}", self._upload, methods=["POST"]),
                Route("/response/{token}", self._response_url, methods=["POST"]),
                Route("/files/{file_id}/{name}", self._download, methods=["GET"]),
                Route("/", self._root, methods=["GET"]),
                WebSocketRoute("/link/", self.socket_mode.serve),
            ]
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> None:
        self._stopping.clear()
        self.port = self._runner.start(
            self.app,
            self.host,
            self.port,
            timeout,
            ws="websockets-sansio",
            ws_ping_interval=self.ping_interval,
            ws_ping_timeout=self.ping_interval,
        )

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._runner.stop(timeout)

    async def _sleep(self, seconds: float) -> None:
        """Sleep for a planned slow answer, cut short when the twin stops."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    # ------------------------------------------------------------------ routes

    async def _root(self, request: Request) -> Response:
        return PlainTextResponse("slack twin\n")

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        try:
            args, token = await read_api_request(request)
        except ValueError:
            outcome = Outcome(200, {"ok": False, "error": "invalid_json"})
            return self.dispatcher.record(method, {}, outcome).response()
        early, timing = self.dispatcher.precheck(method, args, token)
        if early is not None:
            return self._with_scopes(early, method, args).response()
        if timing and timing.kind == "timeout":
            await self._sleep(timing.delay)
        outcome = self._with_scopes(self.dispatcher.execute(method, args), method, args)
        if timing and timing.kind == "late":
            await self._sleep(timing.delay)
        return outcome.response()

    def _with_scopes(self, outcome: Outcome, method: str, args: dict[str, Any]) -> Outcome:
        """Scope headers on every answer to an accepted token, as Slack sends them."""
        if outcome.body.get("error") in {
            "unknown_method",
            "not_authed",
            "invalid_auth",
            "not_allowed_token_type",
            "account_inactive",
            "invalid_json",
        }:
            return outcome
        return Outcome(
            outcome.status,
            outcome.body,
            {**outcome.headers, **self.dispatcher.scope_headers(method, args)},
        )

    async def _upload(self, request: Request) -> Response:
        body = await request.body()
        token = request.path_params["token"]
        with self.ws.lock:
            file_id = self.ws.uploads.get(token)
            record = self.ws.files.get(file_id or "")
            if record is None or record.completed:
                self.dispatcher.record(
                    "files.upload", {"token": token}, Outcome(404, {"ok": False})
                )
                return PlainTextResponse("not found", status_code=404)
            record.content = body
        self.dispatcher.record(
            "files.upload",
            {"file_id": record.id, "bytes": len(body)},
            Outcome(200, {"ok": True}),
        )
        return PlainTextResponse(f"OK - {len(body)}")

    async def _response_url(self, request: Request) -> Response:
        token = request.path_params["token"]
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip().startswith(b"{") else None
            if body is None:
                form = dict(parse_qsl(raw.decode("utf-8", "replace")))
                body = json.loads(form["payload"]) if "payload" in form else form
        except (ValueError, KeyError):
            body = None
        if not isinstance(body, dict):
            outcome = Outcome(400, {"ok": False, "error": "invalid_payload"})
            return self.dispatcher.record("response_url", {"token": token}, outcome).response()
        body = _decode_json_args(body)
        args = {"token": token, **body}
        try:
            ctx = use_response_url(self.ws, token)
            apply_response(self.ws, ctx, body, via="response_url")
            outcome = Outcome(200, {"ok": True})
        except ApiError as exc:
            outcome = Outcome(exc.status if exc.status != 200 else 400, exc.body())
        return self.dispatcher.record("response_url", args, outcome).response()

    async def _download(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.dispatcher.token}":
            return PlainTextResponse("not authorised", status_code=403)
        with self.ws.lock:
            record = self.ws.files.get(request.path_params["file_id"])
            content = record.content if record is not None else None
        if content is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(content, media_type="application/octet-stream")
