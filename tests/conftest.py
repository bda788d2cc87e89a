"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL),
the Slack twin, copbot, and a driver that signs requests like Slack.

copbot answers in process (the fast tier: the App and web app built as in production,
requests handed to them without a socket); a test marked ``http`` gets it served over
real HTTP by uvicorn instead, for what is about the transport.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from bot.config import Settings
from bot.platform import scheduling
from bot.slack import WebClientPort, make_web_client
from handlers.views import install as install_views
from slacktwin import SlackDriver, SlackTwin
from storage import Database
from storage.migrate import upgrade
from tests.support import (
    ADMIN,
    BOT_TOKEN,
    CHANNEL,
    LEAD,
    MEMBER,
    OTHER,
    SIGNING_SECRET,
    TEAM,
    Copbot,
    make_settings,
)


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, the given one's
    name with the worker's (``test_gw0``), created the first time; it is put back in
    ``TEST_DATABASE_URL`` for the tests and processes that read it there."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    given = make_url(url)
    name = f"{given.database}_{worker}"
    server = Database(url)
    with server.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        known = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if connection.execute(known, {"name": name}).first() is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    own = given.set(database=name).render_as_string(hide_password=False)
    os.environ["TEST_DATABASE_URL"] = own
    return own


POSTGRES_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL"))

# Modules about the transport itself, whose copbot is served over real HTTP (marked ``http``).
OVER_HTTP = {
    "tests/e2e/test_transport.py",  # signatures, shapes, acks, health and metrics
    "tests/e2e/test_fuzz.py",  # thousands of requests to POST /slack/events, uvicorn's log read
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(config.rootpath).as_posix() in OVER_HTTP:
            item.add_marker(pytest.mark.http)


install_views()  # tests that call bot directly send domain messages drawn by these views


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


@pytest.fixture
def settings(twin: SlackTwin, database_url: str) -> Settings:
    return make_settings(twin, database_url)


@pytest.fixture
def copbot(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Copbot]:
    over_http = request.node.get_closest_marker("http") is not None
    served = Copbot(settings, in_process=not over_http).start()
    yield served
    served.stop()


@pytest.fixture
def driver(twin: SlackTwin, copbot: Copbot) -> Iterator[SlackDriver]:
    driver = copbot.drive(twin, signing_secret=SIGNING_SECRET)
    yield driver
    driver.shutdown()


@pytest.fixture
def slack_port(twin: SlackTwin) -> WebClientPort:
    """copbot's Slack port on the twin, as a scheduler process builds it."""
    return WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))


@pytest.fixture
def job_context(
    database: Database, settings: Settings, slack_port: WebClientPort
) -> Iterator[scheduling.JobContext]:
    """What a scheduler process sets up before running jobs."""
    yield scheduling.configure(database, settings, lambda: slack_port)
    scheduling.reset()
