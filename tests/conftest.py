"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL),
the Slack twin, copbot served over real HTTP, and a driver that signs requests like Slack.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.slack import make_web_client
from handlers.app import build_app
from handlers.web import BackgroundServer, create_web_app
from slacktwin import SlackDriver, SlackTwin
from storage import Database
from storage.migrate import upgrade

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0TESTICS"
CHANNEL = "C0IDEAS01"
LEAD = "U0LEAD001"  # a lead through COPBOT_LEADS
MEMBER = "U0MEMB001"
OTHER = "U0MEMB002"
ADMIN = "U0ADMIN01"

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once per run: a SQLite template file, or the PostgreSQL database."""
    if POSTGRES_URL:
        database = Database(POSTGRES_URL)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade(database)
        database.dispose()
        return POSTGRES_URL
    template = tmp_path_factory.mktemp("template") / "copbot.db"
    database = Database(f"sqlite:///{template}")
    upgrade(database)
    database.dispose()
    return str(template)


@pytest.fixture
def database_url(migrated: str, tmp_path: Path) -> Iterator[str]:
    """A clean, migrated database for one test."""
    if POSTGRES_URL:
        database = Database(POSTGRES_URL)
        with database.engine.begin() as connection:
            tables = connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            names = ", ".join(f'"{name}"' for name in tables)
            if names:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        database.dispose()
        yield POSTGRES_URL
        return
    path = tmp_path / "copbot.db"
    shutil.copy(migrated, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def twin() -> Iterator[SlackTwin]:
    twin = SlackTwin(
        team_id=TEAM, team_name="Test ICS", bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET
    )
    twin.add_user(LEAD, name="lena", real_name="Lena Lead")
    twin.add_user(MEMBER, name="max", real_name="Max Member")
    twin.add_user(OTHER, name="olive", real_name="Olive Other", tz="Europe/Dublin")
    twin.add_user(ADMIN, name="ada", real_name="Ada Admin", is_admin=True)
    twin.add_channel(CHANNEL, name="ideas", members=[LEAD, MEMBER, OTHER, ADMIN])
    twin.start()
    yield twin
    twin.stop()


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


@pytest.fixture
def settings(twin: SlackTwin, database_url: str) -> Settings:
    return make_settings(twin, database_url)


class Copbot:
    """copbot served over real HTTP; ``restart()`` builds a new app on the same database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: BackgroundServer | None = None
        self.database: Database | None = None

    def start(self) -> Copbot:
        self.database = Database(self.settings.database_url)
        client = make_web_client(self.settings.slack_bot_token, self.settings.slack_api_url)
        app = build_app(self.settings, self.database, client=client)
        web = create_web_app(app, self.database, signing_secret=SIGNING_SECRET)
        self.server = BackgroundServer(web).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def stop(self) -> None:
        if self.server:
            self.server.stop()
        if self.database:
            self.database.dispose()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def copbot(settings: Settings) -> Iterator[Copbot]:
    served = Copbot(settings).start()
    yield served
    served.stop()


@pytest.fixture
def driver(twin: SlackTwin, copbot: Copbot) -> SlackDriver:
    return SlackDriver(twin, app_url=f"{copbot.url}/slack/events", signing_secret=SIGNING_SECRET)
