"""Secrets never leave: not in logs, error messages, Slack messages, HTTP answers or a
printed ``Settings``.

copbot runs with distinctive credentials (bot token, signing secret, app-level token,
OpenAI key); then everything that could fail is made to fail (Slack's Web API answering
5xx, 429 and ``invalid_auth``, the language model answering 401, 429 and 500, forged and
malformed requests, bad configuration in-process and through the ``copbot`` command) while
every log record at DEBUG (tracebacks included), the process's stdout and stderr, each
subprocess's output, every call and message the Slack twin received and every request
the LLM twin received are kept. None may contain a secret, whole or its distinctive core.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.runtime import Runtime
from bot.slack import make_web_client
from handlers.app import build_app
from handlers.web import BackgroundServer, create_web_app
from llmtwin import LLMTwin
from slacktwin import SlackDriver, SlackTwin
from storage import Database
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER, TEAM, Copbot, make_settings

# The distinctive middle of each secret is checked as well as the whole, so a secret cut,
# re-prefixed or quoted in part is still found.
BOT_TOKEN = "xoxb-1234-SECRETbotb0a7c3e1"
SIGNING_SECRET = "SECRETsign5e1f0c9d8a7b"
APP_TOKEN = "xapp-1-A0COPBOT-SECRETappd4f21c"
OPENAI_KEY = "sk-proj-SECRETopenai9b8e7f6a"
DB_PASSWORD = "SECRETdbpw3c2b1a"
SECRETS = {
    BOT_TOKEN: "SECRETbotb0a7c3e1",
    SIGNING_SECRET: "SECRETsign5e1f0c9d8a7b",
    APP_TOKEN: "SECRETappd4f21c",
    OPENAI_KEY: "SECRETopenai9b8e7f6a",
    DB_PASSWORD: DB_PASSWORD,
}


def leaks(text: str) -> list[str]:
    """The secrets (or their cores) found in ``text``."""
    return [secret for secret, core in SECRETS.items() if secret in text or core in text]


def assert_no_secrets(where: str, text: str) -> None:
    found = leaks(text)
    if found:
        index = min(text.find(SECRETS[s]) for s in found)
        context = text[max(0, index - 300) : index + 100]
        raise AssertionError(f"{where} holds {len(found)} secret(s), e.g. near:\n{context}")


class Everything(logging.Handler):
    """Every record of every logger at DEBUG, formatted with its traceback."""

    LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []
        self.records = 0
        self._levels: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        self.lines.append(self.format(record))

    def attach(self) -> None:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            self._levels.setdefault(name, logger.level)
            logger.setLevel(logging.DEBUG)
            if self not in logger.handlers:
                logger.addHandler(self)

    def detach(self) -> None:
        for name, level in self._levels.items():
            logging.getLogger(name).removeHandler(self)
            logging.getLogger(name).setLevel(level)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def logs() -> Iterator[Everything]:
    handler = Everything()
    handler.attach()
    yield handler
    handler.detach()


@pytest.fixture
def llm() -> Iterator[LLMTwin]:
    with LLMTwin(api_key=OPENAI_KEY) as twin:
        yield twin


@pytest.fixture
def twin() -> Iterator[SlackTwin]:
    twin = SlackTwin(
        team_id=TEAM,
        team_name="Test ICS",
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        app_token=APP_TOKEN,
    )
    twin.add_user(LEAD, name="lena", real_name="Lena Lead")
    twin.add_user(MEMBER, name="max", real_name="Max Member")
    twin.add_user(OTHER, name="olive", real_name="Olive Other")
    twin.add_user(ADMIN, name="ada", real_name="Ada Admin", is_admin=True)
    twin.add_channel(CHANNEL, name="ideas", members=[LEAD, MEMBER, OTHER, ADMIN])
    twin.start()
    yield twin
    twin.stop()


@pytest.fixture
def settings(twin: SlackTwin, database_url: str, llm: LLMTwin) -> Settings:
    return make_settings(
        twin,
        database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=APP_TOKEN,
        openai_api_key=OPENAI_KEY,
        openai_base_url=llm.base_url,
        copbot_ideas_channel=CHANNEL,
    )


class Served(Copbot):
    """``tests.support.Copbot``, checking signatures with the settings' own secret."""

    def start(self) -> Served:
        self.database = Database(self.settings.database_url)
        self.runtime = Runtime(
            self.settings, self.database, run_jobs=False, idle_seconds=0.05
        ).start()
        client = make_web_client(self.settings.slack_bot_token, self.settings.slack_api_url)
        app = build_app(self.settings, self.database, client=client, runtime=self.runtime)
        secret = self.settings.slack_signing_secret or ""
        self.server = BackgroundServer(create_web_app(app, self.database, signing_secret=secret))
        self.server.start()
        return self


@pytest.fixture
def copbot(settings: Settings, logs: Everything) -> Iterator[Served]:
    served = Served(settings).start()
    logs.attach()  # uvicorn configured its loggers on start: listen to them again
    yield served
    served.stop()


@pytest.fixture
def driver(twin: SlackTwin, copbot: Served) -> SlackDriver:
    return SlackDriver(twin, app_url=f"{copbot.url}/slack/events", signing_secret=SIGNING_SECRET)


def what_slack_saw(twin: SlackTwin) -> str:
    """Every Web API call (arguments and answers), response_url post and command answer
    the twin recorded, and every ephemeral it showed."""
    calls = [(c.method, c.args, c.status, c.response) for c in twin.calls]
    with twin.ws.lock:
        ephemerals = list(twin.ws.ephemerals)
    return json.dumps([calls, ephemerals], default=str)


def what_the_model_saw(llm: LLMTwin) -> str:
    return json.dumps([(r.path, r.body) for r in llm.requests], default=str)


def settle(twin: SlackTwin, seconds: float = 0.5) -> None:
    """Let the work after an ack finish: no new twin calls for ``seconds``."""
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        now = len(twin.calls)
        if now != seen:
            seen, quiet_since = now, time.monotonic()
        time.sleep(0.05)


def open_modal(driver: SlackDriver, twin: SlackTwin, user: str, text: str) -> None:
    driver.command(user, "/idea", text, channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(user) is not None, message="the idea modal")


# ------------------------------------------------------------------------------ in process


def test_secrets_stay_out_of_everything_when_slack_and_the_model_fail(
    logs: Everything,
    driver: SlackDriver,
    twin: SlackTwin,
    llm: LLMTwin,
    copbot: Served,
    capfd: pytest.CaptureFixture[str],
) -> None:
    answers: list[str] = []

    def keep(response: httpx.Response | None) -> None:
        if response is not None:
            answers.append(f"{response.status_code} {response.text}")

    # Things working: first contact, an idea with similar-idea search through the model.
    keep(driver.command(MEMBER, "/copbot", "help", channel=CHANNEL))
    open_modal(driver, twin, MEMBER, "Virtual wards for frail patients at home")
    driver.fill(MEMBER, {"Title": "Virtual wards for frail patients at home"})
    keep(driver.submit(MEMBER).response)

    # Slack failing: 5xx (retried, then given up), 429 with Retry-After, invalid_auth.
    twin.fail("users.info", status=503, times=6)
    keep(driver.command(OTHER, "/copbot", "help", channel=CHANNEL))
    twin.ratelimit("views.open", retry_after=1, times=1)
    open_modal(driver, twin, OTHER, "Pharmacy blood pressure checks")
    twin.fail("views.open", status=500, times=10)
    keep(driver.command(OTHER, "/idea", "Discharge lounges", channel=CHANNEL))
    twin.fail("*", status=401, error="invalid_auth", times=40)
    keep(driver.command(LEAD, "/idea", "Frailty huddles", channel=CHANNEL))
    keep(driver.shortcut(LEAD, "share_idea"))
    keep(driver.app_home_opened(ADMIN))
    settle(twin)
    twin.clear_faults()

    # The model failing: wrong answers for embeddings and chat, 401, 429 and 500.
    llm.fail(401, times=3, message="Incorrect API key provided")
    llm.ratelimit(retry_after=0.1, times=3)
    llm.fail(500, times=20)
    open_modal(driver, twin, LEAD, "Virtual wards for frail patients")
    driver.fill(LEAD, {"Title": "Virtual wards for frail patients"})
    keep(driver.submit(LEAD).response)
    ts, _ = driver.post_message(MEMBER, CHANNEL, "We cut readmissions with a virtual ward.")
    driver.post_message(OTHER, CHANNEL, "Which patients did you start with?", thread_ts=ts)
    keep(driver.message_shortcut(LEAD, "write_case_study", CHANNEL, ts))
    keep(driver.command(LEAD, "/digest", "", channel=CHANNEL))
    settle(twin)
    llm.clear_faults()

    # Forged, stale and malformed requests.
    forged = SlackDriver(twin, app_url=driver.app_url, signing_secret="not-the-secret")
    keep(forged.command(MEMBER, "/copbot", "help", channel=CHANNEL))
    keep(driver.send_raw(b"command=/copbot", "application/x-www-form-urlencoded", timestamp=1))
    keep(driver.send_raw(b'{"type": "event_callback"}', "application/json"))
    keep(httpx.get(f"{copbot.url}/metrics"))
    keep(httpx.get(f"{copbot.url}/healthz"))
    settle(twin)

    # Every way out was taken, then nothing that went out holds a secret.
    assert logs.records > 100
    assert any(r.status >= 400 for r in twin.calls), "Slack's failures were not reached"
    assert any("handler failed" in line for line in logs.lines)
    assert llm.requests, "the model was not asked"
    assert_no_secrets("the logs", logs.text)
    assert_no_secrets("what Slack received", what_slack_saw(twin))
    assert_no_secrets("what the model received", what_the_model_saw(llm))
    assert_no_secrets("copbot's HTTP answers", "\n".join(answers))
    out, err = capfd.readouterr()
    assert_no_secrets("stdout and stderr", out + err)


BAD_SETTINGS = [
    pytest.param(
        {"SLACK_BOT_TOKEN": "xoxp-1234-SECRETbotb0a7c3e1"}, "SLACK_BOT_TOKEN", id="user-token"
    ),
    pytest.param({"SLACK_BOT_TOKEN": SIGNING_SECRET}, "SLACK_BOT_TOKEN", id="secret-as-token"),
    pytest.param({"SLACK_APP_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN", id="bot-token-as-app-token"),
    pytest.param(
        {"DATABASE_URL": f"mysql://copbot:{DB_PASSWORD}@db.example/copbot"},
        "DATABASE_URL",
        id="database-url-with-password",
    ),
    pytest.param({"DATABASE_URL": f"not a url {DB_PASSWORD}"}, "DATABASE_URL", id="not-a-url"),
    pytest.param({"COPBOT_TIMEZONE": "Mars/Olympus"}, "COPBOT_TIMEZONE", id="timezone"),
    pytest.param({"COPBOT_ANONYMITY_MIN": "2"}, "COPBOT_ANONYMITY_MIN", id="anonymity"),
]
GOOD_SECRETS = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "SLACK_APP_TOKEN": APP_TOKEN,
    "OPENAI_API_KEY": OPENAI_KEY,
}


@pytest.mark.parametrize(("bad", "variable"), BAD_SETTINGS)
def test_a_config_error_names_the_variable_never_a_secret(
    bad: dict[str, str], variable: str, tmp_path: Path
) -> None:
    """In-process (the message, repr and full traceback of the error) and through the
    ``copbot`` command (its whole output)."""
    values = {**GOOD_SECRETS, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **bad}
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{k.lower(): v for k, v in values.items()})
    error = caught.value
    assert str(error).startswith(variable)
    shown = "\n".join(
        [str(error), repr(error), *traceback.format_exception(error), str(error.__cause__)]
    )
    assert_no_secrets("the ConfigError", shown)

    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        env={"PATH": os.environ["PATH"], **values},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"copbot: {variable}"), result.stderr
    assert_no_secrets("copbot's output", result.stdout + result.stderr)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_copbot_serve_under_failure_prints_no_secret(
    twin: SlackTwin, llm: LLMTwin, tmp_path: Path
) -> None:
    """``copbot serve`` as deployed (its own logging set-up, INFO and above), with Slack
    and the model failing and forged requests; then the whole of its output is read."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        **GOOD_SECRETS,
        "SLACK_APP_TOKEN": "",  # else `run` would pick Socket Mode; serve ignores it anyway
        "SLACK_API_URL": twin.api_url,
        "OPENAI_BASE_URL": llm.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/served.db",
        "COPBOT_IDEAS_CHANNEL": CHANNEL,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
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
                raise AssertionError("copbot serve did not start")
            time.sleep(0.1)
        driver = SlackDriver(twin, app_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET)
        driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
        twin.fail("views.open", status=500, times=10)
        driver.command(MEMBER, "/idea", "Frailty huddles", channel=CHANNEL)
        twin.fail("*", status=401, error="invalid_auth", times=30)
        driver.command(OTHER, "/idea", "Discharge lounges", channel=CHANNEL)
        driver.app_home_opened(LEAD)
        settle(twin)
        twin.clear_faults()
        llm.fail(500, times=20)
        ts, _ = driver.post_message(MEMBER, CHANNEL, "Virtual wards cut readmissions.")
        driver.message_shortcut(LEAD, "write_case_study", CHANNEL, ts)
        settle(twin)
        forged = SlackDriver(twin, app_url=driver.app_url, signing_secret="not-the-secret")
        assert forged.command(MEMBER, "/copbot", "help", channel=CHANNEL).status_code == 401
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    assert "handler failed" in output  # the failures were logged
    assert_no_secrets("copbot serve's output", output)
    assert_no_secrets("what Slack received", what_slack_saw(twin))


def test_a_token_slack_refuses_prints_no_secret(twin: SlackTwin, tmp_path: Path) -> None:
    """``copbot serve`` and ``copbot run`` (Socket Mode) with tokens Slack does not know."""
    wrong = {
        "PATH": os.environ["PATH"],
        "SLACK_API_URL": twin.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "OPENAI_API_KEY": OPENAI_KEY,
    }
    outputs = []
    for command, tokens, method in [
        (
            ["serve", "--port", str(free_port())],
            {"SLACK_BOT_TOKEN": "xoxb-1234-SECRETbotb0a7c3e1-old"},
            "auth.test",
        ),
        (
            ["run"],
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN + "-old"},
            "apps.connections.open",
        ),
    ]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *command],
            env={**wrong, **tokens},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # It gives up (serve) or keeps retrying (Socket Mode): either way, once Slack has
        # refused the token and a moment has passed for the logs, its output is complete.
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            if any(c.method == method and c.error == "invalid_auth" for c in twin.calls):
                time.sleep(1.0)
                break
            time.sleep(0.05)
        process.terminate()
        outputs.append(process.communicate(timeout=15)[0])
        assert any(c.method == method and c.error == "invalid_auth" for c in twin.calls)
    for output in outputs:
        assert_no_secrets("copbot's output", output)


def test_printing_the_settings_shows_no_secret(settings: Settings) -> None:
    assert settings.slack_bot_token == BOT_TOKEN  # they are there, and not shown
    for shown in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert_no_secrets("the printed settings", shown)


def test_printing_the_settings_shows_no_database_password(twin: SlackTwin) -> None:
    url = f"postgresql://copbot:{DB_PASSWORD}@db.example:5432/copbot"
    settings = make_settings(twin, url)
    assert_no_secrets("the printed settings", repr(settings) + str(settings))
