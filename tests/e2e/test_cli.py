"""The console script as a user runs it: migrate, seed-demo, and serve answering Slack."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.ideas import publish
from bot.roles import Role, role_of
from bot.slack import WebClientPort, make_web_client
from slacktwin import SlackDriver, SlackTwin
from storage import Database, Idea, Member, utcnow
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


def start_serve(
    twin: SlackTwin, database_url: str, cwd: Path, **env: str
) -> tuple[subprocess.Popen, str]:
    """``copbot serve`` in its own process against the twin; returns it and its URL once
    it answers ``/healthz``."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={
            "PATH": os.environ["PATH"],
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": twin.api_url,
            "DATABASE_URL": database_url,
            **env,
        },
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"copbot serve did not start: {process.stdout.read()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def served(twin: SlackTwin, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``copbot serve`` in its own process, against the twin, on a fresh database."""
    database_url = f"sqlite:///{tmp_path}/served.db"
    process, url = start_serve(twin, database_url, tmp_path)
    try:
        yield url, database_url
    finally:
        stop(process)


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


def test_a_kill_9_after_slack_took_the_card_ends_with_a_correct_card(
    twin: SlackTwin, tmp_path: Path
) -> None:
    """The post window for real: Slack takes the card and holds its answer; copbot serve is
    killed with SIGKILL before it hears the ts. Recovery links the card, redraws it, and a
    restarted copbot thanks the author; no second card is posted."""
    database_url = f"sqlite:///{tmp_path}/crash.db"
    process, url = start_serve(twin, database_url, tmp_path, COPBOT_IDEAS_CHANNEL=CHANNEL)
    driver = SlackDriver(twin, app_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
    driver.command(MEMBER, "/idea", "", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="idea modal")
    driver.fill(MEMBER, {"Title": "Discharge lounge at weekends", "Description": "Open Sat"})
    twin.fail("chat.postMessage", answer_late=60)
    assert not driver.submit(MEMBER).errors

    def card() -> dict | None:
        return next((m for m in twin.messages(CHANNEL) if m.get("blocks")), None)

    posted = twin.wait_for(card, message="the card, taken by Slack")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    database = Database(database_url)
    with database.session() as session:
        idea = session.exec(select(Idea)).one()
        assert idea.card_ts is None  # the dead process never heard Slack's answer

    twin.clear_faults()
    port = WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    later = utcnow() + publish.POST_WINDOW * 2
    assert publish.recover_unposted_cards(database, port, now=later) == 1
    with database.session() as session:
        idea = session.exec(select(Idea)).one()
    assert idea.card_ts == posted["ts"] and idea.permalink

    restarted, _ = start_serve(twin, database_url, tmp_path)
    try:
        thanks = twin.wait_for(
            lambda: [m for m in twin.dms(MEMBER) if "is posted" in m.get("text", "")],
            message="the author's thank-you",
        )
    finally:
        stop(restarted)
        database.dispose()
    assert len(thanks) == 1
    assert len([m for m in twin.messages(CHANNEL) if m.get("blocks")]) == 1  # one card
    assert "Discharge lounge at weekends" in json.dumps(twin.message(CHANNEL, posted["ts"]))
