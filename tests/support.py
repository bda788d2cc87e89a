"""Constants and helpers shared by the tests (importable as ``tests.support``)."""

from __future__ import annotations

import time

from bot.config import Settings
from bot.runtime import Runtime
from bot.slack import make_web_client
from handlers.app import build_app
from handlers.common import Deps
from handlers.web import BackgroundServer, create_web_app
from slacktwin import SlackTwin
from storage import Database

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0TESTICS"
CHANNEL = "C0IDEAS01"
LEAD = "U0LEAD001"  # a lead through COPBOT_LEADS
MEMBER = "U0MEMB001"
OTHER = "U0MEMB002"
ADMIN = "U0ADMIN01"


def make_settings(twin: SlackTwin, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": twin.api_url,
        "database_url": database_url,
        "copbot_leads": LEAD,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Copbot:
    """copbot served over real HTTP; ``restart()`` builds a new app on the same database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: BackgroundServer | None = None
        self.runtime: Runtime | None = None
        self.database: Database | None = None
        self.deps: Deps | None = None

    def start(self) -> Copbot:
        self.database = Database(self.settings.database_url)
        # Delivery runs as in `copbot serve`; scheduled jobs are run by the tests themselves.
        self.runtime = Runtime(
            self.settings, self.database, run_jobs=False, idle_seconds=0.05
        ).start()
        client = make_web_client(self.settings.slack_bot_token, self.settings.slack_api_url)
        self.deps = Deps(settings=self.settings, db=self.database, runtime=self.runtime)
        app = build_app(
            self.settings, self.database, client=client, runtime=self.runtime, deps=self.deps
        )
        web = create_web_app(app, self.database, signing_secret=SIGNING_SECRET)
        self.server = BackgroundServer(web).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the work copbot does after its acks (profiles, replies) is done."""
        deadline = time.monotonic() + timeout
        while self.deps and not self.deps.idle and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server:
            self.server.stop()
        if self.runtime:
            self.runtime.stop()
        if self.database:
            self.database.dispose()

    def restart(self) -> None:
        self.stop()
        self.start()
