"""Comparison servers for ``bench/ack_latency.py``, each run in a process of its own.

``--variant bare``: the baseline. slack_bolt's ``AsyncApp`` behind Bolt's async Starlette
adapter under uvicorn. Its command and action listeners only ``await ack()``.
``process_before_response`` is on and Bolt checks the request signature, as copbot's
transport does. This is the fastest way Bolt serves HTTP.

``--variant bare-sync``: the same bare listeners on the synchronous ``App``, behind Bolt's
stock synchronous Starlette adapter, with Bolt checking signatures. Dispatch runs on
the event loop, but these listeners never block, so nothing is held up.

``--variant stock``: copbot's real app (``handlers.app.build_app``, on a migrated
database) behind Bolt's stock synchronous Starlette adapter. That adapter calls
``App.dispatch`` on the event loop, so one slow request holds up every other one.
copbot's app leaves signature checks to its own transport, so this variant skips them
and does a little less work than copbot.

Configuration comes from the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
SLACK_API_URL (the twin), and DATABASE_URL for ``stock``. The server also answers
``GET /healthz``. It stops on SIGTERM or SIGINT, or when its standard input closes
(the bench ended or died).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


def bare_async() -> Endpoint:
    """AsyncApp + AsyncSlackRequestHandler; listeners only ack."""
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    # Bolt would also read SLACK_BOT_TOKEN and warn that it goes unused beside `client`.
    token = os.environ.pop("SLACK_BOT_TOKEN")
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    @app.command("/copbot")
    async def command(ack: AsyncAck) -> None:
        await ack()

    @app.action("home_edit_profile")
    async def action(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)
    return handler.handle


def bare_sync() -> Endpoint:
    """The sync App + the stock SlackRequestHandler; listeners only ack."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from slack_sdk import WebClient

    token = os.environ.pop("SLACK_BOT_TOKEN")
    app = App(
        client=WebClient(token=token, base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    @app.command("/copbot")
    def command(ack: Ack) -> None:
        ack()

    @app.action("home_edit_profile")
    def action(ack: Ack) -> None:
        ack()

    handler = SlackRequestHandler(app)
    return handler.handle


def stock_copbot() -> Endpoint:
    """copbot's real Bolt app behind Bolt's stock synchronous Starlette adapter."""
    from slack_bolt.adapter.starlette import SlackRequestHandler

    from bot.config import load_settings
    from handlers.app import build_app
    from storage import Database
    from storage.migrate import upgrade

    settings = load_settings()
    database = Database(settings.database_url)
    upgrade(database)
    handler = SlackRequestHandler(build_app(settings, database))
    return handler.handle


VARIANTS: dict[str, Callable[[], Endpoint]] = {
    "bare": bare_async,
    "bare-sync": bare_sync,
    "stock": stock_copbot,
}


def make_web(endpoint: Endpoint) -> Starlette:
    async def slack_events(request: Request) -> Response:
        return await endpoint(request)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def exit_when_stdin_closes() -> None:
    """Stop like on SIGTERM once the parent's pipe closes, so no server outlives the bench."""

    def watch() -> None:
        sys.stdin.read()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    web = make_web(VARIANTS[args.variant]())
    exit_when_stdin_closes()
    # The same uvicorn settings as `copbot serve`.
    uvicorn.run(web, host=args.host, port=args.port, log_level="warning", lifespan="off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
