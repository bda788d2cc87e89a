"""The Bolt app factory: one App, every feature's ``register(app)``, shared middleware."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.error import BoltError
from slack_sdk import WebClient

from bot import members
from bot.config import ConfigError, Settings
from bot.roles import Actor
from bot.runtime import Runtime
from bot.slack import WebClientPort, make_web_client
from handlers import register_listeners
from handlers.common import Deps, error_response
from storage import Database

log = logging.getLogger("copbot")


class _QuietTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins; it does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_app(
    settings: Settings,
    database: Database | None = None,
    client: WebClient | None = None,
    *,
    runtime: Runtime | None = None,
    deps: Deps | None = None,
) -> App:
    """Build copbot's Bolt app.

    ``process_before_response`` is on: each listener's ack function answers at once
    (Bolt otherwise polls for the ack every 10 ms), and slow work such as Web API
    calls runs after it (``handlers.common.ack_then``). Signatures are checked by ``handlers.web``
    before dispatch, so that it can tell a forged request (401) from a malformed one
    (400); Socket Mode needs no signature. A caller may pass its own ``deps`` to watch
    their pools (the sandbox waits until they are idle).
    """
    deps = deps or Deps(
        settings=settings, db=database or Database(settings.database_url), runtime=runtime
    )
    bolt_log = logging.getLogger("copbot.bolt")
    bolt_log.addFilter(_QuietTokenWarning())
    try:
        app = App(
            client=client or make_web_client(settings.slack_bot_token, settings.slack_api_url),
            process_before_response=True,
            request_verification_enabled=False,
            logger=bolt_log,
        )
    except BoltError as error:  # Slack refused the token at start (auth.test)
        refused = "invalid_auth" if "invalid_auth" in str(error) else "auth.test failed"
        raise ConfigError(f"SLACK_BOT_TOKEN: Slack refused it ({refused})") from None

    @app.middleware
    def attach_actor(context: BoltContext, body: dict[str, Any], next: Any) -> None:
        """Put the shared deps and the acting member on the context.

        The ack path stays off Slack and usually off the database: the actor is cached
        for a few seconds; a first contact fetches the profile once (the role depends on
        it); a day-old profile is refreshed in the background.
        """
        context["deps"] = deps
        user_id, team_id = context.user_id, context.team_id
        if user_id and team_id and not _from_a_bot(body):
            actor = deps.actors.get(team_id, user_id) or _load_actor(context, team_id, user_id)
            if actor is not None:
                context["actor"] = actor
        next()

    def _load_actor(context: BoltContext, team_id: str, user_id: str) -> Actor | None:
        slack = WebClientPort(context.client)
        with deps.db.session() as session:
            member = members.find(session, team_id, user_id)
            if member is None:
                member = members.ensure_member(session, team_id, user_id, slack)
            elif members.needs_refresh(member):
                deps.background.submit(_refresh_profile, team_id, user_id, slack)
            actor = members.actor_for(member, settings) if member else None
        if actor is not None and member is not None and member.profile_refreshed_at:
            deps.actors.put(actor)  # a profile Slack could not give yet is asked for again
        return actor

    def _refresh_profile(team_id: str, user_id: str, slack: WebClientPort) -> None:
        try:
            with deps.db.session() as session:
                members.refresh_profile(session, team_id, user_id, slack)
            deps.actors.forget(team_id, [user_id])
        except Exception:
            log.exception("could not refresh the profile of %s", user_id)

    @app.error
    def answer_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse:
        return error_response(error, body, context)

    register_listeners(app)
    return app


def _from_a_bot(body: dict[str, Any]) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")
