"""``SlackTwin``: a local fake Slack workspace with a real HTTP Web API.

Start it, point ``slack_sdk.WebClient(base_url=twin.api_url)`` (or ``SLACK_API_URL``) at
it, add users and channels, then assert on what the app did through the query methods
(``messages``, ``dms``, ``ephemerals``, ``home_view``, ``modal_stack``, ``calls``...). All
queries return deep copies, so tests can keep them without racing the server thread.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from slacktwin.errors import TwinUsageError
from slacktwin.faults import Fault, Faults
from slacktwin.ratelimit import RateLimiter, RateLimits
from slacktwin.recording import Call, CallLog
from slacktwin.scopes import grant
from slacktwin.server import Dispatcher, TwinServer
from slacktwin.socketmode import SocketModeHub
from slacktwin.state import Channel, User, Workspace

T = TypeVar("T")


class SlackTwin:
    """A fake Slack workspace for one app (one bot token), served over HTTP on loopback.

    ``app_token`` is the app-level token for Socket Mode (None: Socket Mode is off);
    ``socket_mode`` is the websocket side (connections, envelopes, acks), and
    ``socket_ping_interval`` how often the twin pings a connection (None: never).

    ``scopes`` are the bot token's OAuth scopes: None (the default) grants exactly the
    bot scopes in ``manifest.json``; an iterable of names grants those instead (to model
    a token missing a scope). ``non_marketplace_limits=True`` applies Slack's limits for
    commercially distributed non-Marketplace apps: conversations.history and
    conversations.replies at 1 call a minute and at most 15 messages a call. Off by
    default: copbot is installed by each organisation as its own internal app.
    """

    def __init__(
        self,
        team_id: str = "T0TWIN",
        team_name: str = "Slack Twin",
        bot_token: str = "xoxb-twin",
        signing_secret: str = "secret",
        rate_limits: bool | RateLimits | Mapping[str, Any] = True,
        *,
        bot_name: str = "copbot",
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        app_id: str | None = None,
        verification_token: str = "twin-verification-token",
        trigger_ttl: float = 3.0,
        include_slackbot: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        app_token: str | None = "xapp-twin",
        socket_ping_interval: float | None = 20.0,
        scopes: Iterable[str] | None = None,
        non_marketplace_limits: bool = False,
    ) -> None:
        tag = "".join(c for c in bot_name.upper() if c.isalnum()) or "APP"
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.verification_token = verification_token
        self.ws = Workspace(
            team_id=team_id,
            team_name=team_name,
            bot_user_id=bot_user_id or f"UBOT{tag}",
            bot_id=bot_id or f"BBOT{tag}",
            app_id=app_id or f"A0{tag}",
            bot_name=bot_name,
            trigger_ttl=trigger_ttl,
            include_slackbot=include_slackbot,
        )
        self.ws.non_marketplace_limits = non_marketplace_limits
        if isinstance(rate_limits, RateLimits):
            limiter = RateLimiter(rate_limits)
        elif isinstance(rate_limits, Mapping):
            limiter = RateLimiter(RateLimits.from_mapping(rate_limits))
        else:
            limiter = RateLimiter(enabled=bool(rate_limits))
        limiter.config.non_marketplace = non_marketplace_limits
        self.limiter = limiter
        self.faults = Faults()
        self.log = CallLog()
        self.dispatcher = Dispatcher(
            self.ws,
            token=bot_token,
            app_token=app_token,
            limiter=limiter,
            faults=self.faults,
            log=self.log,
            scopes=grant(scopes),
        )
        self.socket_mode = SocketModeHub(self.ws)
        self.server = TwinServer(
            self.dispatcher,
            host=host,
            port=port,
            socket_mode=self.socket_mode,
            ping_interval=socket_ping_interval,
        )
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackTwin:
        """Serve in a background thread; returns self once the server accepts requests."""
        if not self._started:
            self.server.start()
            self.ws.base_url = self.server.base_url
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self.server.stop()
            self._started = False

    def __enter__(self) -> SlackTwin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        self._require_started()
        return self.server.base_url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: pass to ``WebClient(base_url=...)``."""
        return self.base_url + "api/"

    def _require_started(self) -> None:
        if not self._started:
            raise TwinUsageError("start the twin first: twin.start()")

    # ------------------------------------------------------------------ identity

    @property
    def team_id(self) -> str:
        return self.ws.team_id

    @property
    def team_name(self) -> str:
        return self.ws.team_name

    @property
    def team_domain(self) -> str:
        return self.ws.team_domain

    @property
    def bot_user_id(self) -> str:
        return self.ws.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.ws.bot_id

    @property
    def app_id(self) -> str:
        return self.ws.app_id

    @property
    def scopes(self) -> tuple[str, ...]:
        """The bot token's granted OAuth scopes."""
        return self.dispatcher.scopes

    # ------------------------------------------------------------------ install

    def uninstall(self) -> None:
        """Model the app being removed from the workspace: every Web API call with the
        bot token answers ``account_inactive`` until ``reinstall``. (Send the events with
        ``driver.app_uninstalled()`` / ``driver.tokens_revoked()``.)"""
        self.dispatcher.uninstalled = True

    def reinstall(self) -> None:
        """Install the app again: the bot token works again."""
        self.dispatcher.uninstalled = False

    @property
    def installed(self) -> bool:
        return not self.dispatcher.uninstalled

    # ------------------------------------------------------------------ directory

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str = "",
        tz: str = "Europe/London",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        title: str = "",
        email: str | None = None,
        display_name: str = "",
        deleted: bool = False,
    ) -> dict[str, Any]:
        """Add (or replace) a member; returns the users.info shape."""
        user = self.ws.add_user(
            User(
                id=user_id,
                name=name,
                real_name=real_name,
                tz=tz,
                is_admin=is_admin,
                is_owner=is_owner,
                is_primary_owner=is_owner,
                is_bot=is_bot,
                title=title,
                email=email,
                display_name=display_name,
                deleted=deleted,
            )
        )
        return user.to_api(self.team_id)

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        members: list[str] | tuple[str, ...] = (),
        is_private: bool = False,
        bot_is_member: bool = True,
        topic: str = "",
        purpose: str = "",
        is_archived: bool = False,
        is_general: bool = False,
    ) -> dict[str, Any]:
        """Add (or replace, keeping messages) a channel; returns conversations.info shape."""
        with self.ws.lock:
            unknown = [m for m in members if m not in self.ws.users]
            if unknown:
                raise TwinUsageError(f"add these users first: {', '.join(unknown)}")
            member_list = list(dict.fromkeys(members))
            if bot_is_member and self.bot_user_id not in member_list:
                member_list.append(self.bot_user_id)
            channel = self.ws.add_channel(
                Channel(
                    id=channel_id,
                    name=name,
                    is_private=is_private,
                    members=member_list,
                    creator=member_list[0] if member_list else self.bot_user_id,
                    topic=topic,
                    purpose=purpose,
                    is_archived=is_archived,
                    is_general=is_general,
                )
            )
            return copy.deepcopy(channel.to_api(self.ws, include_num_members=True))

    def join(self, channel_id: str, user_id: str) -> None:
        """Make a user (or the bot) a member of a channel."""
        with self.ws.lock:
            channel = self._channel(channel_id)
            self.ws.user(user_id)
            if user_id not in channel.members:
                channel.members.append(user_id)

    def leave(self, channel_id: str, user_id: str) -> None:
        with self.ws.lock:
            channel = self._channel(channel_id)
            if user_id in channel.members:
                channel.members.remove(user_id)

    def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Change a member's profile fields (name, real_name, tz, is_admin, title, email,
        deleted...), e.g. before ``driver.user_change``; returns the users.info shape."""
        with self.ws.lock:
            user = self.ws.user(user_id)
            for key, value in fields.items():
                if not hasattr(user, key) or key == "id":
                    raise TwinUsageError(f"users have no field {key!r}")
                setattr(user, key, value)
            user.updated = int(time.time())
            return user.to_api(self.team_id)

    def user(self, user_id: str) -> dict[str, Any]:
        with self.ws.lock:
            return self.ws.user(user_id).to_api(self.team_id)

    def user_name(self, user_id: str) -> str | None:
        """A display name for renderers (``resolve_user``): real name, else user name."""
        with self.ws.lock:
            user = self.ws.users.get(user_id)
            return (user.real_name or user.name) if user else None

    def channel_name(self, channel_id: str) -> str | None:
        """A channel's name for renderers (``resolve_channel``)."""
        with self.ws.lock:
            channel = self.ws.channels.get(channel_id)
            return channel.name if channel and not channel.is_im else None

    def channel(self, channel_id: str) -> dict[str, Any]:
        with self.ws.lock:
            return copy.deepcopy(
                self._channel(channel_id).to_api(self.ws, include_num_members=True)
            )

    def members(self, channel_id: str) -> list[str]:
        with self.ws.lock:
            return list(self._channel(channel_id).members)

    def _channel(self, channel_id: str) -> Channel:
        """A channel by id, or a user id meaning the app's DM with that user."""
        with self.ws.lock:
            if channel_id in self.ws.users and channel_id != self.bot_user_id:
                return self.ws.dm(channel_id)
            channel = self.ws.channels.get(channel_id)
            if channel is None:
                raise TwinUsageError(f"no such channel in the twin: {channel_id}")
            return channel

    # ------------------------------------------------------------------ rate limits, faults

    def set_rate_limit(self, method: str, *, per_minute: float, burst: int = 1) -> None:
        """Override one method's bucket (also chat.postMessage, replacing its special rule)."""
        self.limiter.set_limit(method, per_minute=per_minute, burst=burst)

    def reset_rate_limits(self) -> None:
        """Refill every bucket."""
        self.limiter.reset()

    def fail(
        self,
        method: str,
        *,
        status: int = 500,
        timeout: float | None = None,
        answer_late: float | None = None,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"``: any) fail.

        With ``timeout`` the twin waits that many seconds and then answers normally (the
        call takes effect, like a slow Slack; a client with a shorter timeout gives up
        first). With ``answer_late`` the call takes effect at once and its answer is held
        that many seconds: the window in which a caller can die knowing nothing of it.
        Otherwise it answers HTTP ``status`` with ``{"ok": false, "error": ...}``.
        """
        if timeout is not None:
            self.faults.add(method, Fault("timeout", times, delay=timeout))
        elif answer_late is not None:
            self.faults.add(method, Fault("late", times, delay=answer_late))
        else:
            if status < 400:
                raise ValueError("status must be an HTTP error status")
            self.faults.add(method, Fault("status", times, status=status, error=error))

    def ratelimit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls with 429 and ``Retry-After: retry_after``."""
        self.faults.add(method, Fault("ratelimit", times, retry_after=retry_after))

    def clear_faults(self) -> None:
        self.faults.clear()

    # ------------------------------------------------------------------ call log

    @property
    def calls(self) -> list[Call]:
        """Every call so far, in order, failed and rate limited ones included."""
        return self.log.all()

    def calls_to(self, method: str) -> list[Call]:
        return self.log.to(method)

    def reset_calls(self) -> None:
        self.log.clear()

    # ------------------------------------------------------------------ state queries

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel (or of the DM with a user id), oldest first."""
        with self.ws.lock:
            return copy.deepcopy(self.ws.top_level(self._channel(channel)))

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """A thread: the parent, then replies, oldest first ([] when there is no such ts)."""
        with self.ws.lock:
            return copy.deepcopy(self.ws.thread(self._channel(channel), ts))

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self.ws.lock:
            found = self.ws.find_message(self._channel(channel), ts)
            return copy.deepcopy(found)

    def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM with a user (stable; created on first use)."""
        with self.ws.lock:
            return self.ws.dm(user_id).id

    def group_dms(self, user_id: str) -> list[str]:
        """Ids of the group DMs (mpim) the app opened that include a user, oldest first."""
        with self.ws.lock:
            return [c.id for c in self.ws.channels.values() if c.is_mpim and user_id in c.members]

    def dms(self, user_id: str) -> list[dict[str, Any]]:
        """Top-level messages in the app's DM with a user, oldest first."""
        return self.messages(self.dm_channel(user_id))

    def ephemerals(self, user_id: str, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages shown to a user (chat.postEphemeral, response_url, command
        answers), oldest first; each has ts, channel, recipient, text, blocks, via."""
        with self.ws.lock:
            channel_id = self._channel(channel).id if channel else None
            return copy.deepcopy(
                [
                    e
                    for e in self.ws.ephemerals
                    if e["recipient"] == user_id and channel_id in (None, e["channel"])
                ]
            )

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The user's App Home view as last published (or updated), or None."""
        with self.ws.lock:
            view_id = self.ws.home_views.get(user_id)
            return copy.deepcopy(self.ws.views[view_id]) if view_id else None

    def modal_stack(self, user_id: str) -> list[dict[str, Any]]:
        """Open modal views of a user, root first."""
        with self.ws.lock:
            return copy.deepcopy(self.ws.modal_stack(user_id))

    def current_modal(self, user_id: str) -> dict[str, Any] | None:
        """The modal view the user sees (top of the stack), or None."""
        with self.ws.lock:
            return copy.deepcopy(self.ws.top_modal(user_id))

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self.ws.lock:
            return copy.deepcopy(self.ws.views.get(view_id))

    @property
    def files(self) -> list[dict[str, Any]]:
        """Completed uploads in files.info shape, plus ``content`` (bytes)."""
        with self.ws.lock:
            return [
                {**copy.deepcopy(r.to_api(self.ws)), "content": r.content}
                for r in self.ws.files.values()
                if r.completed
            ]

    def file(self, file_id: str) -> dict[str, Any] | None:
        return next((f for f in self.files if f["id"] == file_id), None)

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 10.0,
        interval: float = 0.02,
        message: str = "",
    ) -> T:
        """Poll until ``predicate()`` is truthy and return it; for effects after an ack.

        The generous default keeps tests steady on a loaded machine; it only costs time
        when the effect never comes.

        Raises ``TimeoutError`` (with ``message``) if it stays falsy for ``timeout`` s.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(message or f"condition not met within {timeout}s")
            time.sleep(interval)
