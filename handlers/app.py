"""The Bolt app factory: one App, every feature's ``register(app)``, shared middleware."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot import members
from bot.config import Settings
from bot.slack import WebClientPort, make_web_client
from handlers import register_listeners
from handlers.common import Deps, error_response
from storage import Database

log = logging.getLogger("copbot")


def build_app(
    settings: Settings, database: Database | None = None, client: WebClient | None = None
) -> App:
    """Build copbot's Bolt app.

    ``process_before_response`` is on: each listener's ack function answers at once
    (Bolt otherwise polls for the ack every 10 ms), and slow work such as Web API
    calls runs in lazy listeners after it. Signatures are checked by ``handlers.web``
    before dispatch, so that it can tell a forged request (401) from a malformed one
    (400); Socket Mode needs no signature.
    """
    deps = Deps(settings=settings, db=database or Database(settings.database_url))
    app = App(
        client=client or make_web_client(settings.slack_bot_token, settings.slack_api_url),
        process_before_response=True,
        request_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="copbot-lazy"),
        logger=logging.getLogger("copbot.bolt"),
    )

    @app.middleware
    def attach_actor(context: BoltContext, body: dict[str, Any], next: Any) -> None:
        """Put the shared deps and the acting member (created on first contact) on the context."""
        context["deps"] = deps
        user_id, team_id = context.user_id, context.team_id
        if user_id and team_id and not _from_a_bot(body):
            with deps.db.session() as session:
                member = members.ensure_member(
                    session, team_id, user_id, WebClientPort(context.client)
                )
                if member is not None:
                    context["actor"] = members.actor_for(member, settings)
        next()

    @app.error
    def answer_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse:
        return error_response(error, body, context)

    register_listeners(app)
    return app


def _from_a_bot(body: dict[str, Any]) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")
