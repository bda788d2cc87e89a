"""``copbot doctor``: checks a real install, one line per finding with its fix.

It asks Slack what it would ask on day one: is the token valid (``auth.test``), which bot
scopes were granted (Slack's ``x-oauth-scopes`` header on that answer) against
``manifest.json``, and whether the configured channels exist with copbot in them
(``conversations.info``); and it checks that the deployment secret that seals pulse
answers is set. Read-only: it changes nothing in Slack or the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.config import Settings
from bot.slack import make_web_client

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"ok       {self.text}"
        return f"PROBLEM  {self.text}: {self.fix}" if self.fix else f"PROBLEM  {self.text}"


def find_manifest(start: Path | None = None) -> Path | None:
    """``manifest.json`` beside the package (the repository root), else the working folder."""
    here = Path(__file__).resolve().parent.parent
    for folder in (start, here, Path.cwd()):
        if folder is not None and (folder / MANIFEST_NAME).is_file():
            return folder / MANIFEST_NAME
    return None


def manifest_scopes(path: Path) -> list[str]:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return list(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or [])


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def _error(error: SlackApiError) -> str:
    data = error.response.data if isinstance(error.response.data, dict) else {}
    return str(data.get("error") or f"http {error.response.status_code}")


def check_token(client: WebClient) -> tuple[list[Finding], dict[str, Any] | None, set[str] | None]:
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = _error(error)
        fix = (
            "the app was uninstalled or its token revoked: reinstall it (OAuth & Permissions > "
            "Install to Workspace) and set the new SLACK_BOT_TOKEN"
            if code in ("token_revoked", "account_inactive", "invalid_auth", "not_authed")
            else "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...) "
            "from OAuth & Permissions"
        )
        return [Finding(False, f"token refused by Slack ({code})", fix)], None, None
    except OSError as error:
        return (
            [
                Finding(
                    False,
                    f"Slack could not be reached ({error})",
                    "check SLACK_API_URL and the network",
                )
            ],
            None,
            None,
        )
    data = dict(answer.data) if isinstance(answer.data, dict) else {}
    team, bot = data.get("team") or "?", data.get("user") or "?"
    found = [Finding(True, f"token valid: {team} ({data.get('team_id')}) as @{bot}")]
    raw = _header(answer.headers, "x-oauth-scopes")
    granted = None if raw is None else {scope.strip() for scope in raw.split(",") if scope.strip()}
    return found, data, granted


def check_scopes(
    granted: set[str] | None, wanted: Iterable[str], manifest: Path | None
) -> list[Finding]:
    if manifest is None:
        return [Finding(False, "manifest.json not found", "run copbot doctor from copbot's folder")]
    if granted is None:
        return [
            Finding(
                False,
                "Slack did not say which scopes the token has (no x-oauth-scopes header)",
                "check that SLACK_BOT_TOKEN is a bot token (xoxb-...)",
            )
        ]
    missing = [scope for scope in wanted if scope not in granted]
    found = [
        Finding(
            False,
            f"missing scope {scope}",
            "add it under OAuth & Permissions > Bot Token Scopes and reinstall",
        )
        for scope in missing
    ]
    if not missing:
        found.append(
            Finding(True, f"all {len(list(wanted))} bot scopes in manifest.json are granted")
        )
    return found


def configured_channels(
    settings: Settings, database: Any | None
) -> tuple[list[tuple[str, str]], list[Finding]]:
    """(what it is for, channel id) from the environment and from App Home's settings."""
    channels: list[tuple[str, str]] = []
    if settings.copbot_ideas_channel:
        channels.append(("ideas channel (COPBOT_IDEAS_CHANNEL)", settings.copbot_ideas_channel))
    if settings.copbot_digest_channel:
        channels.append(("digest channel (COPBOT_DIGEST_CHANNEL)", settings.copbot_digest_channel))
    findings: list[Finding] = []
    if database is None:
        return channels, findings
    from storage import Workspace

    try:
        with database.session() as session:
            rows = list(session.exec(select(Workspace)))
    except Exception as error:
        findings.append(
            Finding(
                False,
                f"the database could not be read ({type(error).__name__})",
                "check DATABASE_URL and run copbot migrate",
            )
        )
        return channels, findings
    for workspace in rows:
        for what, channel in (
            ("ideas channel (App Home)", workspace.ideas_channel),
            ("digest channel (App Home)", workspace.digest_channel),
            ("case-study hub channel (App Home)", workspace.hub_channel),
        ):
            if channel:
                channels.append((what, channel))
        if getattr(workspace, "uninstalled_at", None) is not None:
            findings.append(
                Finding(
                    False,
                    f"workspace {workspace.team_id} is recorded as uninstalled since "
                    f"{workspace.uninstalled_at:%Y-%m-%d %H:%M} UTC (messages are held)",
                    "reinstall the app; copbot resumes when Slack calls it again",
                )
            )
    return channels, findings


def check_channel(client: WebClient, what: str, channel: str) -> Finding:
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        code = _error(error)
        if code == "channel_not_found":
            return Finding(
                False,
                f"{what} {channel} not found (or private without copbot in it)",
                "choose an existing channel in copbot's Home tab, "
                "or invite copbot to the private channel",
            )
        return Finding(
            False, f"{what} {channel}: Slack answered {code}", "check the channel in App Home"
        )
    name = f"#{info.get('name') or channel}"
    if info.get("is_archived"):
        return Finding(
            False, f"{what} {name} is archived", "choose another channel in copbot's Home tab"
        )
    if not info.get("is_member"):
        return Finding(False, f"copbot is not in {what} {name}", f"type /invite @copbot in {name}")
    return Finding(True, f"{what} {name} exists and copbot is in it")


def check_secret(settings: Settings) -> Finding:
    """Pulse answers are sealed, and the forgotten-people list keyed, with a key derived
    from this secret (``bot.pulse.ballots``): every process that answers or closes pulses
    (serve, run, worker) needs the same one."""
    if settings.slack_signing_secret:
        return Finding(True, "SLACK_SIGNING_SECRET is set (it seals pulse answers)")
    if settings.slack_app_token:
        return Finding(True, "SLACK_APP_TOKEN is set (it seals pulse answers in Socket Mode)")
    return Finding(
        False,
        "neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is set, so pulse answers cannot be "
        "sealed or opened at close and forgotten people cannot be kept out of the directory",
        "set SLACK_SIGNING_SECRET to the Signing Secret from Basic Information > App "
        "Credentials, the same value in every copbot process (serve, run and worker)",
    )


def run_checks(
    settings: Settings, database: Any | None = None, manifest: Path | None = None
) -> list[Finding]:
    secret = check_secret(settings)
    if not settings.slack_bot_token:
        return [
            Finding(
                False,
                "SLACK_BOT_TOKEN is not set",
                "copy the Bot User OAuth Token from OAuth & Permissions into SLACK_BOT_TOKEN",
            ),
            secret,
        ]
    client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    found, answer, granted = check_token(client)
    found.append(secret)
    if answer is None:
        return found
    manifest = manifest or find_manifest()
    found += check_scopes(granted, manifest_scopes(manifest) if manifest else [], manifest)
    channels, more = configured_channels(settings, database)
    found += more
    seen: set[str] = set()
    for what, channel in channels:
        if channel in seen:
            continue
        seen.add(channel)
        found.append(check_channel(client, what, channel))
    if not channels:
        found.append(
            Finding(
                True, "no channels configured yet (set the ideas and digest channels in App Home)"
            )
        )
    return found
