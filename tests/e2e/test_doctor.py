"""``copbot doctor`` against the twin, run as a user runs it: one line per finding with
its fix, a non-zero exit when something is wrong, "all good" otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from slacktwin import SlackTwin
from storage import Database, Workspace
from tests.support import BOT_TOKEN, CHANNEL, SIGNING_SECRET, TEAM

MANIFEST = json.loads((Path(__file__).parent.parent.parent / "manifest.json").read_text())
SCOPES = MANIFEST["oauth_config"]["scopes"]["bot"]


def doctor(twin: SlackTwin, database_url: str, cwd: Path, **env: str) -> tuple[int, list[str]]:
    """Run ``copbot doctor``; a variable given as "" is left unset."""
    given = {
        "PATH": os.environ["PATH"],
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": twin.api_url,
        "DATABASE_URL": database_url,
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "doctor"],
        env={name: value for name, value in given.items() if value},
        cwd=cwd,  # not the repository: manifest.json is found beside the package
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout.strip().splitlines()


def test_a_healthy_install_is_all_good(twin: SlackTwin, database_url: str, tmp_path: Path) -> None:
    code, lines = doctor(twin, database_url, tmp_path, COPBOT_IDEAS_CHANNEL=CHANNEL)
    assert code == 0, lines
    assert lines[-1] == "copbot doctor: all good"
    assert any("token valid" in line and TEAM in line for line in lines)
    assert any("#ideas exists and copbot is in it" in line for line in lines)


def test_a_missing_scope_and_channel_problems_are_named_with_their_fixes(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    granted = [scope for scope in SCOPES if scope != "channels:join"]
    with SlackTwin(
        team_id=TEAM, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, scopes=granted
    ) as twin:
        twin.add_channel(CHANNEL, name="ideas")
        twin.add_channel("C0DIGEST1", name="digest", bot_is_member=False)
        with database.session() as session:
            session.add(Workspace(team_id=TEAM, hub_channel="C0GONE001"))
        code, lines = doctor(
            twin,
            database_url,
            tmp_path,
            COPBOT_IDEAS_CHANNEL=CHANNEL,
            COPBOT_DIGEST_CHANNEL="C0DIGEST1",
        )
    assert code == 1, lines
    problems = [line for line in lines if line.startswith("PROBLEM")]
    assert problems == [
        "PROBLEM  missing scope channels:join: add it under OAuth & Permissions > "
        "Bot Token Scopes and reinstall",
        "PROBLEM  copbot is not in digest channel (COPBOT_DIGEST_CHANNEL) #digest: "
        "type /invite @copbot in #digest",
        "PROBLEM  case-study hub channel (App Home) C0GONE001 not found (or private without "
        "copbot in it): choose an existing channel in copbot's Home tab, or invite copbot "
        "to the private channel",
    ]
    assert lines[-1] == "copbot doctor: 3 problems to fix"


def test_a_refused_token_is_named_with_its_fix(
    twin: SlackTwin, database_url: str, tmp_path: Path
) -> None:
    twin.uninstall()
    code, lines = doctor(twin, database_url, tmp_path)
    assert code == 1
    assert "token refused by Slack (account_inactive)" in lines[0]
    assert "reinstall" in lines[0]


def test_a_missing_deployment_secret_is_named_with_its_fix(
    twin: SlackTwin, database_url: str, tmp_path: Path
) -> None:
    """Sealed pulse answers need SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) in every process
    that closes runs: a worker set up without it is caught here, before a run closes."""
    code, lines = doctor(twin, database_url, tmp_path, SLACK_SIGNING_SECRET="")
    assert code == 1, lines
    assert [line for line in lines if line.startswith("PROBLEM")] == [
        "PROBLEM  neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is set, so pulse answers "
        "cannot be sealed or opened at close and forgotten people cannot be kept out of the "
        "directory: set SLACK_SIGNING_SECRET to the Signing Secret from Basic Information > "
        "App Credentials, the same value in every copbot process (serve, run and worker)"
    ]
    assert lines[-1] == "copbot doctor: 1 problem to fix"

    code, lines = doctor(
        twin, database_url, tmp_path, SLACK_SIGNING_SECRET="", SLACK_APP_TOKEN="xapp-1-A1-2-abc"
    )
    assert code == 0, lines
    assert "ok       SLACK_APP_TOKEN is set (it seals pulse answers in Socket Mode)" in lines
