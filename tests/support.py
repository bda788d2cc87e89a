"""Constants and helpers shared by the tests (importable as ``tests.support``)."""

from __future__ import annotations

import time

import httpx
from starlette.testclient import TestClient

from bot.config import Settings
from bot.runtime import Runtime
from bot.slack import make_web_client
from handlers.app import build_app
from handlers.common import Deps
from handlers.web import BackgroundServer, create_web_app
from slacktwin import SlackDriver, SlackTwin
from storage import Database

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0TESTICS"
CHANNEL = "C0IDEAS01"
LEAD = "U0LEAD001"  # a lead through COPBOT_LEADS
MEMBER = "U0MEMB001"
OTHER = "U0MEMB002"
ADMIN = "U0ADMIN01"

IN_PROCESS_URL = "http://copbot.in-process"


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
    """copbot as ``copbot serve`` builds it (the Bolt app from ``handlers.app``, its
    runtime, the web app of ``handlers.web`` in front), on the Slack twin.

    Served over real HTTP by uvicorn, or with ``in_process=True`` (the fast tier) without
    a server: requests go straight into the same web app, which checks the signature,
    builds the ``BoltRequest`` and dispatches it into the App, as over HTTP, with no
    socket, no server thread to start or stop. ``restart()`` builds a new app on the same
    database; a driver from ``drive()`` follows it.
    """

    def __init__(self, settings: Settings, *, in_process: bool = False) -> None:
        self.settings = settings
        self.in_process = in_process
        self.server: BackgroundServer | None = None
        self.client: TestClient | None = None
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
        if self.in_process:
            # What uvicorn would answer: a 500 for an exception, not the exception.
            self.client = TestClient(web, base_url=IN_PROCESS_URL, raise_server_exceptions=False)
            self.client.__enter__()
        else:
            self.server = BackgroundServer(web).start()
        return self

    @property
    def url(self) -> str:
        if self.in_process:
            return IN_PROCESS_URL
        assert self.server is not None
        return self.server.url

    def drive(self, twin: SlackTwin, signing_secret: str = SIGNING_SECRET) -> SlackDriver:
        """A driver sending Slack's requests to this copbot (over HTTP, or in process)."""
        url = f"{self.url}/slack/events"
        driver = SlackDriver(twin, app_url=url, signing_secret=signing_secret)
        if self.in_process:
            driver.http.close()
            driver.http = httpx.Client(transport=_InProcess(self))
        return driver

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the work copbot does after its acks (profiles, replies) is done."""
        deadline = time.monotonic() + timeout
        while self.deps and not self.deps.idle and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.client:
            self.client.__exit__(None, None, None)
            self.client = None
        if self.server:
            self.server.stop()
        if self.runtime:
            self.runtime.stop()
        if self.database:
            self.database.dispose()

    def restart(self) -> None:
        self.stop()
        self.start()


class _InProcess(httpx.BaseTransport):
    """Hands each request to the copbot's current web app (a restart builds a new one)."""

    def __init__(self, copbot: Copbot) -> None:
        self.copbot = copbot

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert self.copbot.client is not None, "copbot is stopped"
        answer = self.copbot.client.request(
            request.method, str(request.url), content=request.read(), headers=request.headers.raw
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
