"""HTTP transport: ``POST /slack/events``, ``GET /healthz``, ``GET /metrics``.

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
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import anyio
import uvicorn
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt import App, BoltRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import outbox
from storage import Database

MAX_BODY = 1024 * 1024
MAX_SKEW_SECONDS = 5 * 60
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
    if not secret or not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def request_kind(body: bytes, content_type: str) -> str:
    """The kind of a Slack request, or BadRequest when the body is not one Slack sends."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            payload = json.loads(text)
            if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
                raise BadRequest("a JSON body needs a type")
            if payload["type"] == "event_callback":
                event = payload.get("event")
                if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                    raise BadRequest("an event_callback needs an event with a type")
                return "event"
            return payload["type"]
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise BadRequest(str(error)) from None
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except json.JSONDecodeError as error:
            raise BadRequest(str(error)) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise BadRequest("an interaction payload needs a type")
        return payload["type"]
    if form.get("command", [""])[0].startswith("/") and form.get("user_id", [""])[0]:
        return "command"
    if "ssl_check" in form:
        return "ssl_check"
    raise BadRequest("not a Slack request")


def create_web_app(
    bolt_app: App, database: Database, *, signing_secret: str, dispatch_threads: int = 64
) -> Starlette:
    metrics = Metrics(database)
    limiter = anyio.CapacityLimiter(dispatch_threads)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        kind, status = "unknown", 500
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
            bolt_request = BoltRequest(
                body=body.decode("utf-8"),
                query=request.url.query,
                headers={key: [value] for key, value in headers.items()},
            )
            bolt_response = await anyio.to_thread.run_sync(
                bolt_app.dispatch, bolt_request, limiter=limiter
            )
            status = bolt_response.status
            return Response(
                content=bolt_response.body,
                status_code=status,
                headers=bolt_response.first_headers_without_set_cookie(),
            )
        finally:
            metrics.observe(kind, status, time.perf_counter() - started)

    async def healthz(_: Request) -> Response:
        healthy = await anyio.to_thread.run_sync(database.ping)
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "database": healthy},
            status_code=200 if healthy else 503,
        )

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    web = Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
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
