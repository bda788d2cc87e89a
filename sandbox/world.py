"""Boots the sandbox's world: the twin with the demo community, copbot over HTTP, a driver."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from bot import demo
from bot.config import Settings
from bot.platform import outbox
from bot.runtime import Runtime
from bot.slack import make_web_client
from handlers.app import build_app
from handlers.common import Deps
from handlers.web import BackgroundServer, create_web_app
from sandbox.clock import Ticker, reschedule
from slacktwin import SlackDriver, SlackTwin
from storage import Database, clock
from storage.migrate import upgrade

DEFAULT_DATABASE = "sqlite:///var/copbot.db"
SANDBOX_DATABASE = "sqlite:///var/sandbox.db"
CHANNELS = {"C0SBIDEAS": "ideas", "C0SBGENRL": "general", "C0SBFRAIL": "frailty-network"}
CLOCK_FILE = Path("var/sandbox-clock.txt")
# The sandbox's signing secret seals pulse ballots (bot.pulse.ballots): kept beside its
# database so answers to a run still open when the sandbox stops are counted at its close.
SECRET_FILE = Path("var/sandbox-secret.txt")


def _signing_secret(path: Path | None) -> str:
    """The saved secret, or a new one (saved, readable by its owner only)."""
    if path is not None:
        try:
            saved = path.read_text().strip()
        except OSError:
            saved = ""
        if len(saved) == 32:
            return saved
    secret = secrets.token_hex(16)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secret)
    return secret


def _saved_offset(path: Path | None) -> timedelta:
    """How far ahead the sandbox's clock was when it last stopped (its data is dated so)."""
    try:
        return timedelta(seconds=float(path.read_text())) if path else timedelta(0)
    except (OSError, ValueError):
        return timedelta(0)


class World:
    """Everything the terminal drives; data persists in var/sandbox.db between runs."""

    def __init__(
        self,
        twin: SlackTwin,
        database: Database,
        server: BackgroundServer,
        runtime: Runtime,
        deps: Deps,
        movable: clock.MovableClock | None = None,
        clock_file: Path | None = None,
    ) -> None:
        self.twin = twin
        # The process's clock, moved by sandbox.clock.jump; jobs have run up to
        # jobs_ran_until (each jump runs what falls after it).
        self.clock = movable or clock.MovableClock()
        self.clock_file = clock_file
        self.clock_lock = threading.RLock()
        self.jobs_ran_until: datetime = self.clock.now()
        self.ticker: Ticker | None = None
        self.deps = deps
        self.database = database
        self.server = server
        self.runtime = runtime
        self.driver = SlackDriver(
            twin, app_url=f"{server.url}/slack/events", signing_secret=twin.signing_secret
        )
        self.people = list(demo.PEOPLE)

    @classmethod
    def start(
        cls,
        settings: Settings,
        tick: float | None = None,
        prepare: Callable[[SlackTwin], object] | None = None,
    ) -> World:
        """Boot it all; with ``tick`` (seconds) scheduled jobs also run as real time passes,
        caught up that often (without, only ``sandbox.clock.jump`` runs them). ``prepare``
        runs on the twin before copbot starts (the web page puts back saved conversations)."""
        kept = settings.database_url == DEFAULT_DATABASE  # the sandbox's own data, under var/
        signing_secret = _signing_secret(SECRET_FILE if kept else None)
        twin = SlackTwin(
            team_id=demo.TEAM_ID,
            team_name=demo.TEAM_NAME,
            bot_token="xoxb-sandbox",
            signing_secret=signing_secret,
        )
        everyone = [person.user_id for person in demo.PEOPLE]
        for person in demo.PEOPLE:
            twin.add_user(
                person.user_id,
                name=person.display_name,
                real_name=person.real_name,
                tz=person.tz,
                is_admin=person.is_admin,
                title=person.title,
            )
        for channel_id, name in CHANNELS.items():
            twin.add_channel(channel_id, name=name, members=everyone)
        if prepare is not None:
            prepare(twin)
        clock_file = CLOCK_FILE if kept else None
        movable = clock.MovableClock(_saved_offset(clock_file))
        twin.ws.clock.now = lambda: movable.now().timestamp()  # messages dated on its clock
        twin.start()
        url = settings.database_url
        sandbox_settings = settings.model_copy(
            update={
                "slack_bot_token": "xoxb-sandbox",
                "slack_signing_secret": signing_secret,
                "slack_app_token": None,
                "slack_api_url": twin.api_url,
                "database_url": SANDBOX_DATABASE if url == DEFAULT_DATABASE else url,
                "copbot_ideas_channel": settings.copbot_ideas_channel or "C0SBIDEAS",
            }
        )
        clock.install(movable)
        try:
            database = Database(sandbox_settings.database_url)
            upgrade(database)
            with database.session() as session:
                demo.seed(session, demo.TEAM_ID)
        except BaseException:
            clock.install(None)
            twin.stop()
            raise
        # Scheduled jobs run when the clock moves (sandbox.clock), not on their own.
        runtime = Runtime(sandbox_settings, database, idle_seconds=0.2, manual_jobs=True).start()
        client = make_web_client(sandbox_settings.slack_bot_token, twin.api_url)
        deps = Deps(settings=sandbox_settings, db=database, runtime=runtime)
        app = build_app(sandbox_settings, database, client=client, runtime=runtime, deps=deps)
        web = create_web_app(app, database, signing_secret=signing_secret)
        server = BackgroundServer(web).start()
        world = cls(twin, database, server, runtime, deps, movable, clock_file)
        with world.clock_lock:
            reschedule(world, world.jobs_ran_until)
        if tick:
            world.ticker = Ticker(world, tick).start()
        return world

    def settle(self, timeout: float = 5.0, quiet: float = 0.3) -> None:
        """Wait until copbot's work after an ack has finished and reached the twin: nothing
        left in its pools or due in its outbox, and no calls for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.twin.calls), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.03)
            now = len(self.twin.calls)
            if now != seen or self.busy():
                seen, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def busy(self) -> bool:
        if not self.deps.idle:
            return True
        with self.database.session() as session:
            waiting = outbox.backlog(session)
        return bool(waiting["pending_due"] or waiting["sending"])

    def close(self) -> None:
        if self.ticker is not None:
            self.ticker.stop()
        if self.clock_file is not None:
            self.clock_file.parent.mkdir(parents=True, exist_ok=True)
            self.clock_file.write_text(f"{self.clock.offset.total_seconds():.3f}\n")
        self.server.stop()
        self.runtime.stop()
        self.twin.stop()
        self.database.dispose()
        if clock.current() is self.clock:
            clock.install(None)

    def __enter__(self) -> World:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
