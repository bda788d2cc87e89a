import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


def settings_from(**env: str):
    return load_settings(_env_file=None, **{key.lower(): value for key, value in env.items()})


def test_defaults_follow_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from()
    assert settings.database_url == "sqlite:///var/copbot.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.copbot_timezone == "Europe/London"
    assert settings.copbot_anonymity_min == 5
    assert settings.leads == frozenset()


def test_leads_are_split_on_commas() -> None:
    assert settings_from(COPBOT_LEADS="U01AAA, U02BBB,").leads == {"U01AAA", "U02BBB"}


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("COPBOT_ANONYMITY_MIN", "2", "at least 3"),
        ("COPBOT_ANONYMITY_MIN", "lots", "integer"),
        ("COPBOT_TIMEZONE", "Mars/Olympus", "time zone"),
        ("DATABASE_URL", "mysql://db/copbot", "sqlite and postgresql"),
        ("COPBOT_LEADS", "U01AAA,bob", "Slack user IDs"),
        ("COPBOT_IDEAS_CHANNEL", "#ideas", "channel ID"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-wrong", "xapp-"),
        ("SLACK_API_URL", "slack.com/api", "http"),
    ],
)
def test_a_malformed_value_names_the_variable(variable: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(**{variable: value})
    message = str(raised.value)
    assert message.startswith(variable)
    assert words in message
    assert "\n" not in message


def test_secrets_are_never_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(SLACK_BOT_TOKEN="xoxp-very-secret")
    assert "very-secret" not in str(raised.value)


def test_start_up_stops_with_one_clear_line(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env={"COPBOT_ANONYMITY_MIN": "2", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "copbot: COPBOT_ANONYMITY_MIN must be at least 3 (got 2)"
