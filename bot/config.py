"""Settings from the environment (and an optional ``.env``), exactly the contract's variables."""

from __future__ import annotations

import re
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
ANONYMITY_FLOOR = 3


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # Secrets never show in a repr, a log line or an error message.
    slack_bot_token: str | None = Field(default=None, repr=False)
    slack_signing_secret: str | None = Field(default=None, repr=False)
    slack_app_token: str | None = Field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = Field(default="sqlite:///var/copbot.db", repr=False)  # may hold a password
    openai_api_key: str | None = Field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_model: str | None = None
    copbot_leads: str = ""
    copbot_ideas_channel: str | None = None
    copbot_digest_channel: str | None = None
    copbot_timezone: str = "Europe/London"
    copbot_anonymity_min: int = 5
    copbot_llm_timeout: float = Field(default=20.0, gt=0)  # seconds for one model call

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value or None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError("is not a database URL (try sqlite:///var/copbot.db)") from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"names '{backend}'; copbot supports sqlite and postgresql")
        return value

    @field_validator("copbot_leads")
    @classmethod
    def _leads(cls, value: str) -> str:
        bad = [part for part in _split(value) if not USER_ID.match(part)]
        if bad:
            raise ValueError(f"must be Slack user IDs separated by commas (not {bad[0]!r})")
        return value

    @field_validator("copbot_ideas_channel", "copbot_digest_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value and not CHANNEL_ID.match(value):
            raise ValueError("must be a Slack channel ID such as C0123ABCD")
        return value or None

    @field_validator("copbot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/London") from None
        return value

    @field_validator("copbot_anonymity_min")
    @classmethod
    def _anonymity_min(cls, value: int) -> int:
        if value < ANONYMITY_FLOOR:
            raise ValueError(f"must be at least {ANONYMITY_FLOOR}")
        return value

    @cached_property
    def leads(self) -> frozenset[str]:
        return frozenset(_split(self.copbot_leads))

    @property
    def has_http_credentials(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = first["msg"].removeprefix("Value error, ")
        given = first.get("input")
        secret = any(word in name for word in ("TOKEN", "SECRET", "KEY", "DATABASE_URL"))
        shown = f" (got {given})" if isinstance(given, str | int) and not secret else ""
        raise ConfigError(f"{name} {message}{shown}") from None


def require(settings: Settings, *names: str) -> None:
    """Stop with one clear line when a variable this mode needs is not set."""
    for name in names:
        if not getattr(settings, name.lower()):
            raise ConfigError(f"{name} is not set; it is needed for this command")
