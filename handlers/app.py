"""The Bolt app factory: one App, every feature's ``register(app)``, shared middleware."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.error import BoltError
from slack_sdk import WebClient

from bot import members, workspaces
from bot.config import ConfigError, Settings
from bot.logs import Scrub
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
    bolt_log.addFilter(Scrub())
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

    resumed: dict[str, float] = {}
    refreshing: set[tuple[str, str]] = set()
    refreshing_lock = threading.Lock()

    @app.middleware
    def attach_actor(context: BoltContext, body: dict[str, Any], next: Any) -> Any:
        """Put the shared deps and the acting member on the context.

        The ack path never calls Slack and usually skips the database: the actor is
        cached for a few seconds; a stranger is created from what the request carries
        and their profile (users.info) is fetched after the ack on the background pool
        (``members.first_contact`` says why their role until then is safe); a day-old
        profile is refreshed in the background too. ``app_rate_limited`` (a top-level
        callback Bolt routes to no listener) is answered 200 with one warning line.
        """
        if body.get("type") == "app_rate_limited":
            log.warning(
                "Slack rate-limited copbot's events for team %s (minute %s); "
                "events in that minute were dropped",
                body.get("team_id"),
                body.get("minute_rate_limited"),
            )
            return BoltResponse(status=200, body="")
        context["deps"] = deps
        user_id, team_id = context.user_id, context.team_id
        if team_id:
            _notice_install(team_id, body)
        if user_id and team_id and user_id != context.bot_user_id and not _from_a_bot(body):
            actor = deps.actors.get(team_id, user_id) or _load_actor(
                context, body, team_id, user_id
            )
            if actor is not None:
                context["actor"] = actor
        next()
        return None

    def _notice_install(team_id: str, body: dict[str, Any]) -> None:
        """Slack only calls an installed app: a request from an uninstalled workspace
        (other than the uninstall events) means it is probably back; ``auth.test``
        confirms it. Checked in the background pool, at most every 2 s per workspace,
        so the ack stays off Slack and the database."""
        if (body.get("event") or {}).get("type") in ("app_uninstalled", "tokens_revoked"):
            return
        if not workspaces.INSTALLS.uninstalled(team_id):
            return
        now = time.monotonic()
        if now - resumed.get(team_id, 0.0) < 2.0:
            return
        resumed[team_id] = now
        deps.background.submit(_resume, team_id)

    def _resume(team_id: str) -> None:
        """Confirmed with ``auth.test`` first: a late retry of an event sent before the
        uninstall must not resume sending with a revoked token."""
        try:
            workspaces.confirm_installed(
                deps.db, WebClientPort(app.client), "Slack sent a request from it", team_id
            )
        except Exception:
            log.exception("could not record that %s is installed again", team_id)

    def _load_actor(
        context: BoltContext, body: dict[str, Any], team_id: str, user_id: str
    ) -> Actor | None:
        with deps.db.session() as session:
            member, _ = members.first_contact(
                session,
                team_id,
                user_id,
                _name_in(body),
                settings=settings,
                deliberate=_deliberate(body),
            )
            if member is None:  # asked to be forgotten, and this is not them using copbot
                return None
            stale = member.profile_refreshed_at is None or members.needs_refresh(member)
            actor = members.actor_for(member, settings)
        if stale:  # after the commit: the refresh must find the row a stranger's made
            _refresh_later(team_id, user_id, WebClientPort(context.client))
        if member.profile_refreshed_at:
            deps.actors.put(actor)  # a stranger is looked up again until the profile is in
        return actor

    def _refresh_later(team_id: str, user_id: str, slack: WebClientPort) -> None:
        with refreshing_lock:
            if (team_id, user_id) in refreshing:
                return
            refreshing.add((team_id, user_id))
        deps.background.submit(_refresh_profile, team_id, user_id, slack)

    def _refresh_profile(team_id: str, user_id: str, slack: WebClientPort) -> None:
        try:
            members.refresh_profile(deps.db, team_id, user_id, slack)
        except Exception:
            log.exception("could not refresh the profile of %s", user_id)
        finally:
            deps.actors.forget(team_id, [user_id])  # the role is read again next time
            with refreshing_lock:
                refreshing.discard((team_id, user_id))

    @app.error
    def answer_error(error: Exception, body: dict[str, Any], context: BoltContext) -> BoltResponse:
        return error_response(error, body, context)

    register_listeners(app)
    return app


def _name_in(body: dict[str, Any]) -> str:
    """The person's name as the request carries it: a command's ``user_name``, an
    interaction's ``user.name`` (or ``user.username``); events carry none."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("name") or user.get("username") or "")
    return str(body.get("user_name") or "")


def _deliberate(body: dict[str, Any]) -> bool:
    """The person is using copbot themselves: a command, an interaction, or opening App
    Home's Home tab. A message, a reaction, a profile change, or opening the Messages tab
    (to read copbot's "Done: copbot has forgotten you", say) is not
    (``members.first_contact``)."""
    if body.get("type") != "event_callback":
        return True
    event = body.get("event") or {}
    return event.get("type") == "app_home_opened" and event.get("tab", "home") == "home"


def _from_a_bot(body: dict[str, Any]) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")
