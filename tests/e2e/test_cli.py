"""The console script as a user runs it: migrate, seed-demo, and serve answering Slack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.roles import Role, role_of
from slacktwin import SlackDriver, SlackTwin
from storage import Database, Member
from tests.support import ADMIN, BOT_TOKEN, CHANNEL, LEAD, MEMBER, OTHER, SIGNING_SECRET


def copbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_migrate_and_seed_demo(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/copbot.db"}
    migrated = copbot("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "revision" in migrated.stdout
    first = copbot("seed-demo", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "40 members added" in first.stdout
    again = copbot("seed-demo", env=env, cwd=tmp_path)
    assert "0 members added" in again.stdout
    database = Database(env["DATABASE_URL"])
    with database.session() as session:
        people = list(session.exec(select(Member)))
        groups = {person.staff_group for person in people}
        organisations = {person.organisation_id for person in people}
    database.dispose()
    assert len(people) == 40
    assert len(groups) == 14  # every staff group in the field's defaults
    assert len(organisations) == 16  # every organisation type
    assert {role_of(person, _no_env_leads()) for person in people} == set(Role)


def _no_env_leads():
    from bot.config import Settings

    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def served(twin: SlackTwin, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``copbot serve`` in its own process, against the twin, on a fresh database."""
    port = free_port()
    database_url = f"sqlite:///{tmp_path}/served.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={
            "PATH": os.environ["PATH"],
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": twin.api_url,
            "DATABASE_URL": database_url,
        },
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"copbot serve did not start: {process.stdout.read()}")
            time.sleep(0.1)
        yield url, database_url
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_serve_applies_migrations_and_answers_signed_requests(
    served: tuple[str, str], twin: SlackTwin
) -> None:
    url, database_url = served
    driver = SlackDriver(twin, app_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
    response = driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    assert response.status_code == 200
    assert "/idea" in response.text
    forged = SlackDriver(twin, app_url=f"{url}/slack/events", signing_secret="not-the-secret")
    assert forged.command(MEMBER, "/copbot", "help", channel=CHANNEL).status_code == 401
    database = Database(database_url)

    def people() -> set[str]:
        with database.session() as session:
            return set(session.exec(select(Member.slack_user_id)))

    # A first start reads the workspace's directory: its four people, and nobody else.
    twin.wait_for(lambda: people() == {LEAD, MEMBER, OTHER, ADMIN}, message="directory")
    database.dispose()


def test_serve_without_credentials_names_what_is_missing(tmp_path: Path) -> None:
    result = copbot("serve", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "copbot: SLACK_BOT_TOKEN is not set; it is needed for this command"
    )
