"""HTTP transport: ``POST /slack/events``, ``GET /healthz`` (live, ready), ``GET /metrics``.

Bolt's stock Starlette adapter calls the synchronous ``App.dispatch`` on the event
loop, which serialises every request behind the slowest one. Here dispatch runs in a
thread pool (bench/ack_latency.py measures the effect).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import anyio
import uvicorn
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt import App, BoltRequest, BoltResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import dedupe, logs
from bot.platform import outbox
from storage import Database
from storage.migrate import is_current

MAX_BODY = 1024 * 1024
MAX_SKEW_SECONDS = 5 * 60
# A request that has been in copbot this long and still waits for a dispatch thread is
# answered at once instead: under overload copbot sheds requests rather than making
# every request miss Slack's 3 s (the queue stays short and what is served is served in
# time). Few threads, because the work is bound by one interpreter: more threads only
# starve the acks.
SHED_AFTER_SECONDS = 1.0
BUSY = "copbot is very busy right now and nothing was changed. Please try again in a minute."
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class BadRequest(Exception):
    pass


class OutboxCollector:
    """Outbox depth (read from the database at scrape time) and this process's delivery
    counters: sends, retries, undeliverable, rate-limit waits, recoveries."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        depth = GaugeMetricFamily(
            "copbot_outbox_messages", "Outbox messages by state", labels=["state"]
        )
        try:
            with self.database.session() as session:
                for state, count in outbox.backlog(session).items():
                    depth.add_metric([state], count)
        except Exception:  # the database being down is what /healthz reports
            pass
        yield depth
        delivered = CounterMetricFamily(
            "copbot_outbox_delivery", "Outbox delivery outcomes in this process", labels=["outcome"]
        )
        for outcome, count in outbox.metrics().items():
            delivered.add_metric([outcome], count)
        yield delivered


class Metrics:
    """Request counts and ack latency, in a registry of their own (one per server)."""

    def __init__(self, database: Database) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(OutboxCollector(database))
        self.requests = Counter(
            "copbot_requests", "Slack requests", ["kind", "status"], registry=self.registry
        )
        self.shed = Counter(
            "copbot_shed_requests",
            "Requests answered 'busy' because they waited too long for a dispatch thread",
            ["kind"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "copbot_ack_seconds",
            "Time from receiving a Slack request to answering it",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )

    def observe(self, kind: str, status: int, seconds: float) -> None:
        self.requests.labels(kind=kind, status=str(status)).inc()
        self.ack_seconds.labels(kind=kind).observe(seconds)


def signed_by_slack(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """Slack's v0 signature over the raw bytes, within five minutes of now.

    Computed here rather than with slack_sdk's verifier, which decodes the body as
    UTF-8 first and so raises on a forged non-UTF-8 body instead of refusing it.
    """
    timestamp, signature = (
        headers.get("x-slack-request-timestamp"),
        headers.get("x-slack-signature"),
    )
    if not secret or not timestamp or not signature or not _ascii_digits(timestamp):
        return False
    if abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _ascii_digits(value: str) -> bool:
    """Digits 0-9 only: ``str.isdigit`` also accepts "¹" or "٣", which ``int`` refuses."""
    return value.isascii() and value.isdigit()


def request_kind(body: bytes, content_type: str) -> str:
    """The kind of a Slack request, or BadRequest when the body is not one Slack sends."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            payload = json.loads(text)
            check_text(payload)
            if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
                raise BadRequest("a JSON body needs a type")
            if payload["type"] == "event_callback":
                event = payload.get("event")
                if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                    raise BadRequest("an event_callback needs an event with a type")
                check_event(payload)
                return "event"
            if payload["type"] not in JSON_TYPES:
                check_interaction(payload)  # Socket Mode's shape over HTTP: the same checks
            return payload["type"]
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        check_text(form)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise BadRequest(str(error)) from None
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except json.JSONDecodeError as error:
            raise BadRequest(str(error)) from None
        check_text(payload)
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise BadRequest("an interaction payload needs a type")
        check_interaction(payload)
        return payload["type"]
    if form.get("command", [""])[0].startswith("/") and form.get("user_id", [""])[0]:
        missing = [name for name in COMMAND_FIELDS if not form.get(name, [""])[0]]
        if missing:
            raise BadRequest(f"a slash command needs {', '.join(missing)}")
        return "command"
    if "ssl_check" in form:
        return "ssl_check"
    raise BadRequest("not a Slack request")


def check_text(value: Any) -> None:
    """BadRequest for text Slack never sends and PostgreSQL cannot store: a NUL character,
    or half of a UTF-16 surrogate pair (which ``json.loads`` lets through as ``\\ud800``)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest("text with a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("text that is not Unicode (a lone surrogate)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    elif isinstance(value, list):
        for item in value:
            check_text(item)


# The shape of what Slack sends, as far as Bolt and copbot read it: a request whose fields
# have another shape was not sent by Slack, and is answered 400 before it reaches a handler
# (where it would fail with a traceback). Values are the handlers' business, not shapes.
# What Slack sends as a JSON body besides event_callback (app_rate_limited is not an event).
JSON_TYPES = {"url_verification", "app_rate_limited"}
COMMAND_FIELDS = ("command", "user_id", "team_id", "channel_id", "trigger_id", "response_url")
INTERACTIONS = {
    # type: the fields it always has (present, though a trigger_id may be "")
    "block_actions": ("user", "actions", "trigger_id"),
    "block_suggestion": ("user", "action_id"),
    "view_submission": ("user", "view"),
    "view_closed": ("user", "view"),
    "shortcut": ("user", "callback_id", "trigger_id"),
    "message_action": ("user", "callback_id", "trigger_id", "channel", "message"),
}
IDS = {"user", "team", "channel", "enterprise", "user_id", "team_id", "channel_id", "enterprise_id"}
OBJECTS = {"item", "message", "previous_message", "container", "view", "state"}
LISTS = {"actions", "authorizations", "response_urls", "blocks", "selected_options"}
STRINGS = {
    "ts", "event_ts", "thread_ts", "message_ts", "text", "reaction", "tab", "subtype",
    "bot_id", "channel_type", "event_id", "trigger_id", "response_url", "callback_id",
    "action_id", "block_id", "value", "private_metadata", "type", "user_team", "api_app_id",
}  # fmt: skip
NOT_NULL = {"type", "event_id", "trigger_id", "callback_id", "action_id", "value"}


def _check_fields(where: str, fields: Any) -> dict[str, Any]:
    """``fields`` is an object whose known fields have Slack's shapes; returns it."""
    if not isinstance(fields, dict):
        raise BadRequest(f"{where} must be an object")
    for name, value in fields.items():
        if value is None:
            if name in NOT_NULL:
                raise BadRequest(f"{where}.{name} must not be null")
            continue
        if name in IDS:
            # An id; in interactions (user, team, channel, enterprise) an object holding one.
            if isinstance(value, dict) and name in ("team", "enterprise") and "id" not in value:
                continue
            given = value.get("id") if isinstance(value, dict) else value
            if not isinstance(given, str) or not given:
                raise BadRequest(f"{where}.{name} must be an id")
        elif name in OBJECTS and not isinstance(value, dict):
            raise BadRequest(f"{where}.{name} must be an object")
        elif name in LISTS and not (
            isinstance(value, list) and all(isinstance(v, dict) for v in value)
        ):
            raise BadRequest(f"{where}.{name} must be a list of objects")
        elif name in STRINGS and not isinstance(value, str):
            raise BadRequest(f"{where}.{name} must be a string")
    return fields


def _check_strings(where: str, fields: dict[str, Any], *names: str) -> None:
    """Only these fields are checked (in blocks and options ``text`` is an object)."""
    for name in names:
        value = fields.get(name)
        if (
            name in fields
            and not isinstance(value, str)
            and (value is not None or name in NOT_NULL)
        ):
            raise BadRequest(f"{where}.{name} must be a string")


def check_event(payload: dict[str, Any]) -> None:
    """BadRequest unless an event_callback has the shape Slack gives one."""
    _check_fields("body", payload)
    if not payload.get("event_id"):
        raise BadRequest("an event_callback needs an event_id")
    event = _check_fields("event", payload["event"])
    if isinstance(event.get("item"), dict):
        _check_fields("event.item", event["item"])
    for name in ("message", "previous_message"):
        if isinstance(event.get(name), dict):
            _check_strings(f"event.{name}", event[name], "ts", "thread_ts", "text", "user")
    item = event.get("item") or {}
    if item.get("type") == "message" and not (item.get("channel") and item.get("ts")):
        raise BadRequest("a message item needs a channel and a ts")
    for authorization in payload.get("authorizations") or []:
        _check_fields("authorization", authorization)


def check_interaction(payload: dict[str, Any]) -> None:
    """BadRequest unless an interaction is of a kind copbot offers, shaped as Slack sends it
    (interactive messages, dialogs and workflow steps are not copbot's)."""
    kind = payload["type"]
    if kind not in INTERACTIONS:
        raise BadRequest(f"copbot has no {kind} interactions")
    _check_fields("payload", payload)
    for name in ("user", "team", "channel", "enterprise"):  # objects here, not bare ids
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            raise BadRequest(f"payload.{name} must be an object")
    missing = [name for name in INTERACTIONS[kind] if payload.get(name) is None]
    if kind == "block_actions" and not payload.get("actions"):
        missing.append("actions")
    if missing:
        raise BadRequest(f"a {kind} payload needs {', '.join(missing)}")
    for action in payload.get("actions") or []:
        _check_strings("action", action, "action_id", "block_id", "value", "type")
        if not isinstance(action.get("action_id"), str):
            raise BadRequest("an action needs an action_id")
        option = action.get("selected_option")
        if option is not None and not isinstance(option, dict):
            raise BadRequest("action.selected_option must be an object")
        _check_strings("action.selected_option", option or {}, "value")
    for url in payload.get("response_urls") or []:
        _check_fields("response_urls", url)
    if isinstance(payload.get("message"), dict):
        message = payload["message"]
        _check_strings("message", message, "ts", "thread_ts", "text", "bot_id", "user")
    if isinstance(payload.get("view"), dict):
        _check_view(payload["view"])


def _check_view(view: dict[str, Any]) -> None:
    _check_fields("view", {k: v for k, v in view.items() if k != "blocks"})
    if not isinstance(view.get("type"), str):
        raise BadRequest("a view needs a type")
    blocks = view.get("blocks")
    if blocks is not None and not (
        isinstance(blocks, list) and all(isinstance(b, dict) for b in blocks)
    ):
        raise BadRequest("view.blocks must be a list of objects")
    for block in blocks or []:
        if not isinstance(block.get("type"), str):
            raise BadRequest("view.blocks[] needs a type")
        _check_strings("view.blocks[]", block, "block_id")
    values = (view.get("state") or {}).get("values")
    if values is None:
        return
    if not isinstance(values, dict):
        raise BadRequest("view.state.values must be an object")
    for block_id, elements in values.items():
        if not isinstance(elements, dict) or any(
            not isinstance(e, dict) for e in elements.values()
        ):
            raise BadRequest(f"view.state.values.{block_id} must map action ids to objects")


def busy(kind: str) -> BoltResponse:
    """The answer to a request shed under overload. A person who typed a command is told;
    anything else gets 503, which Slack shows as a failed action and for an event
    answers by sending it again later (so no event is lost)."""
    if kind == "command":
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": BUSY})
    return BoltResponse(status=503, body=BUSY, headers={"Retry-After": "5"})


def replayed(kind: str) -> BoltResponse:
    """The answer to signed bytes that came before. An event is acknowledged (it was
    handled the first time); anything else is refused, and nothing happens twice."""
    if kind == "event":
        return BoltResponse(status=200, body="")
    return BoltResponse(status=401, body="this request was already received")


def create_web_app(
    bolt_app: App,
    database: Database,
    *,
    signing_secret: str,
    dispatch_threads: int = 16,
    shed_after: float = SHED_AFTER_SECONDS,
) -> Starlette:
    metrics = Metrics(database)
    limiter = anyio.CapacityLimiter(dispatch_threads)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        kind, status = "unknown", 500
        logs.request_id.set(uuid.uuid4().hex[:16])  # on every log line of this request
        try:
            body = await request.body()
            if len(body) > MAX_BODY:
                status = 413
                return PlainTextResponse("request too large", status_code=status)
            headers = {key: value for key, value in request.headers.items()}
            if not signed_by_slack(signing_secret, body, headers):
                status = 401
                return PlainTextResponse("invalid or stale signature", status_code=status)
            try:
                kind = request_kind(body, headers.get("content-type", ""))
            except BadRequest as error:
                status = 400
                return PlainTextResponse(f"malformed request: {error}", status_code=status)
            try:
                bolt_request = BoltRequest(
                    body=body.decode("utf-8"),
                    query=request.url.query,
                    headers={key: [value] for key, value in headers.items()},
                )
            except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
                # Bolt reads ids from every corner of a request; one it cannot read is malformed.
                status = 400
                return PlainTextResponse(f"malformed request: {error!r}", status_code=status)

            def dispatch() -> BoltResponse:
                if time.perf_counter() - started > shed_after:
                    metrics.shed.labels(kind).inc()
                    return busy(kind)
                with database.session() as session:
                    first = dedupe.first_delivery(session, headers["x-slack-signature"])
                if not first:
                    return replayed(kind)
                return bolt_app.dispatch(bolt_request)

            bolt_response = await anyio.to_thread.run_sync(dispatch, limiter=limiter)
            status = bolt_response.status
            return Response(
                content=bolt_response.body,
                status_code=status,
                headers={
                    **bolt_response.first_headers_without_set_cookie(),
                    "X-Copbot-Request-Id": logs.request_id.get() or "",
                },
            )
        finally:
            metrics.observe(kind, status, time.perf_counter() - started)

    async def live(_: Request) -> Response:
        """The process serves requests: nothing else is checked (a restart won't help that)."""
        return JSONResponse({"status": "live"})

    async def ready(_: Request) -> Response:
        """Ready for traffic: the database answers and is at the newest migration."""
        reachable = await anyio.to_thread.run_sync(database.ping)
        migrated = reachable and await anyio.to_thread.run_sync(is_current, database)
        healthy = reachable and migrated
        return JSONResponse(
            {
                "status": "ok" if healthy else "unavailable",
                "database": reachable,
                "migrated": migrated,
            },
            status_code=200 if healthy else 503,
        )

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    web = Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", ready, methods=["GET"]),
            Route("/healthz/ready", ready, methods=["GET"]),
            Route("/healthz/live", live, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ]
    )
    web.state.metrics = metrics
    return web


class BackgroundServer:
    """uvicorn in a thread, for the sandbox, tests and benchmarks."""

    def __init__(self, web: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(web, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="copbot-http", daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        socket = self.server.servers[0].sockets[0]
        host, port = socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
