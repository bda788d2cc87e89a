"""Ack latency under load: copbot against a bare Bolt app, in one run, under one load.

Each server runs in a process of its own and gets the same sequence of signed requests:
about 70% ``/copbot help`` slash commands and 30% ``home_edit_profile`` button clicks
from App Home, from a pool of people. The bench prints p50/p95/p99 ack latency (send to
response, on the client) for every concurrency level and server:

- ``bare``: slack_bolt's AsyncApp behind Bolt's async Starlette adapter under uvicorn,
  listeners that only ack (bench/bare_bolt.py). This is the baseline.
- ``copbot``: ``python -m bot serve``, copbot's own transport (signature check, then
  ``App.dispatch`` in a thread pool).
- ``stock``: copbot's same Bolt app behind Bolt's stock synchronous Starlette adapter,
  which calls ``App.dispatch`` on the event loop.
- ``bare-sync`` (optional): the bare listeners on the sync App behind the stock adapter.

The target is copbot's p99 within 1.5x of the bare app's p99. The Slack twin
(bench/twin_server.py) plays Slack's Web API in a process of its own, with rate limits
off and an optional delay per call (``--slack-latency-ms``). copbot calls ``users.info``
inside the request on a person's first contact, and ``views.open`` in a lazy listener
after a click's ack. Timings are only printed; nothing is asserted.

    .venv/bin/python bench/ack_latency.py            # concurrency 1,8,32; 1500 requests each
    .venv/bin/python bench/ack_latency.py --quick    # a smoke run well under a minute
    .venv/bin/python bench/ack_latency.py --database-url postgresql://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
TOKEN = "xoxb-bench-token"
SECRET = "bench-signing-secret"
TEAM = "T0BENCH01"
TEAM_DOMAIN = "bench-ics"
APP_ID = "A0COPBOT"  # the twin's app id for a bot named "copbot"
VERIFICATION_TOKEN = "twin-verification-token"
TARGET = 1.5
SLACK_TRIGGER_TTL = 3.0  # seconds Slack gives an app to use a trigger_id
NEW = "new"  # a Step from someone copbot has not met: replaced by a fresh user per run
LAZY_WAIT = 30.0  # seconds to wait after a run for copbot's views.open calls


# ---------------------------------------------------------------------- servers


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server and what its answers look like."""

    key: str
    label: str
    copbot_app: bool  # runs copbot's app: answers /copbot help with the guide, works lazily

    def command(self, port: int) -> list[str]:
        where = ["--host", "127.0.0.1", "--port", str(port)]
        if self.key == "copbot":
            return [sys.executable, "-m", "bot", "serve", *where]
        return [sys.executable, str(BENCH / "bare_bolt.py"), "--variant", self.key, *where]


SERVERS = {
    spec.key: spec
    for spec in (
        ServerSpec("bare", "bare AsyncApp, async adapter", copbot_app=False),
        ServerSpec("copbot", "copbot serve (thread pool)", copbot_app=True),
        ServerSpec("stock", "copbot app, stock sync adapter", copbot_app=True),
        ServerSpec("bare-sync", "bare App, stock sync adapter", copbot_app=False),
    )
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A child process whose output goes to a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def stop(self) -> None:
        """Close its stdin, SIGTERM, then SIGKILL if it lingers."""
        with contextlib.suppress(OSError):
            if self.popen.stdin:
                self.popen.stdin.close()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self.log_file.close()

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def problems(self) -> list[str]:
        """Log lines at WARNING or above; a traceback as its last line (the exception)."""
        pattern = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b")
        found: list[str] = []
        in_traceback = False
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("Traceback"):
                in_traceback = True
            elif in_traceback and line and not line[0].isspace():
                in_traceback = False
                found.append(f"traceback: {line}")
            elif not in_traceback and pattern.search(line):
                found.append(line)
        return found


class Processes:
    """Starts children in a temporary directory and always stops them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.children: list[Process] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Process:
        log_path = self.workdir / f"{name}.log"
        log_file = log_path.open("wb")
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=env,
        )
        child = Process(name, popen, log_path, log_file)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                child.stop()


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment without any Slack, copbot, OpenAI or database settings, plus ``extra``."""
    prefixes = ("SLACK_", "COPBOT_", "OPENAI_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **extra}


async def wait_until_up(url: str, child: Process, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail with the child's log if it dies or hangs."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if child.popen.poll() is not None:
                raise RuntimeError(f"{child.name} exited:\n{child.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(
        f"{child.name} did not answer {url} within {timeout:.0f}s:\n{child.log_tail()}"
    )


# ---------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Step:
    user: str
    kind: str  # "command" or "click"


def person(index: int, tag: str = "BENCH") -> dict[str, str]:
    return {
        "id": f"U0{tag}{index:04d}",
        "name": f"{tag.lower()}{index:04d}",
        "real_name": f"{tag.title()} Person {index}",
    }


def one_pass(users: list[str], rng: random.Random, click_share: float) -> list[Step]:
    """Every person once, in a shuffled order."""
    order = list(users)
    rng.shuffle(order)
    return [Step(u, "click" if rng.random() < click_share else "command") for u in order]


def load(
    users: list[str], count: int, rng: random.Random, click_share: float, new_share: float
) -> list[Step]:
    """``count`` requests from random people; a ``new_share`` of them from someone new."""
    return [
        Step(
            NEW if rng.random() < new_share else rng.choice(users),
            "click" if rng.random() < click_share else "command",
        )
        for _ in range(count)
    ]


def command_body(step: Step, response_url: str) -> bytes:
    """``/copbot help`` from the person's DM with the app, form-encoded like Slack."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM,
        "team_domain": TEAM_DOMAIN,
        "channel_id": "D" + step.user[1:],
        "channel_name": "directmessage",
        "user_id": step.user,
        "user_name": step.user.lower(),
        "command": "/copbot",
        "text": "help",
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.{random.getrandbits(40)}.bench",
    }
    return urlencode(fields).encode()


def home_view(user: str) -> dict[str, Any]:
    """An App Home view much like copbot publishes, as Slack echoes it in block_actions."""
    section = "Hello. copbot helps our improvement community work together, here in Slack:\n"
    section += "• *Ideas*: share an idea in seconds, support others, and hear what happened.\n" * 4
    return {
        "id": "V0HOME" + user[-6:],
        "team_id": TEAM,
        "type": "home",
        "blocks": [
            {"type": "header", "block_id": "b1", "text": {"type": "plain_text", "text": "Hi"}},
            {"type": "section", "block_id": "b2", "text": {"type": "mrkdwn", "text": section}},
            {"type": "divider", "block_id": "b3"},
            {
                "type": "section",
                "block_id": "b4",
                "text": {"type": "mrkdwn", "text": "*Staff group:* not set"},
                "accessory": {
                    "type": "button",
                    "action_id": "home_edit_profile",
                    "text": {"type": "plain_text", "text": "Edit profile"},
                },
            },
        ],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": "1700000000.bench",
        "app_id": APP_ID,
        "bot_id": "BBOTCOPBOT",
    }


def click_body(step: Step, trigger_id: str) -> bytes:
    """A press of *Edit profile* in App Home: ``payload=<block_actions json>``."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": TEAM_DOMAIN},
        "user": {"id": step.user, "username": step.user.lower(), "team_id": TEAM},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "is_enterprise_install": False,
        "enterprise": None,
        "trigger_id": trigger_id,
        "container": {"type": "view", "view_id": "V0HOME" + step.user[-6:]},
        "view": home_view(step.user),
        "actions": [
            {
                "type": "button",
                "action_id": "home_edit_profile",
                "block_id": "b4",
                "text": {"type": "plain_text", "text": "Edit profile"},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_headers(body: bytes) -> dict[str, str]:
    """Slack's v0 signature, as ``SlackDriver.signed_headers`` makes it, for now."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


# ---------------------------------------------------------------------- measuring


@dataclass
class Result:
    """One server's run: per-request latency and outcome, and the lazy work it caused."""

    server: str
    seconds: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0
    stopped_early: bool = False
    lazy_delays: list[float] = field(default_factory=list)  # click sent -> views.open at Slack
    lazy_expected: int = 0
    lazy_failed: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.seconds)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Twin:
    """The Slack twin process, through its bench routes."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30.0)

    async def add_users(self, people: list[dict[str, str]]) -> None:
        (await self.http.post("/bench/users", json={"users": people})).raise_for_status()

    async def triggers(self, users: list[str]) -> list[str]:
        if not users:
            return []
        answer = await self.http.post("/bench/triggers", json={"users": users})
        answer.raise_for_status()
        return list(answer.json()["triggers"])

    async def calls(self, since: int) -> tuple[list[dict[str, Any]], int]:
        answer = await self.http.get("/bench/calls", params={"since": since})
        answer.raise_for_status()
        data = answer.json()
        return data["calls"], int(data["next"])

    async def close(self) -> None:
        await self.http.aclose()


async def drive(
    spec: ServerSpec,
    url: str,
    twin: Twin,
    steps: list[Step],
    concurrency: int,
    max_seconds: float,
    lazy_wait: float,
) -> Result:
    """Send ``steps`` to ``url`` from ``concurrency`` workers; then wait for lazy work."""
    clicks = [s.user for s in steps if s.kind == "click"]
    triggers = iter(await twin.triggers(clicks))
    bodies: list[tuple[bytes, str | None]] = []
    for step in steps:
        if step.kind == "click":
            trigger = next(triggers)
            bodies.append((click_body(step, trigger), trigger))
        else:
            bodies.append((command_body(step, twin.base_url + "response/bench"), None))
    _, since = await twin.calls(1 << 62)
    result = Result(spec.key)
    seconds: list[float | None] = [None] * len(steps)
    sent_at: dict[str, float] = {}
    # One keep-alive connection per worker, each in a client of its own: httpx's pool
    # slows down badly when many requests share one client (at 32 connections the bare
    # app's throughput fell from about 1,600 to about 380 requests a second).
    health = url.replace("/slack/events", "/healthz")
    queue = iter(range(len(steps)))
    go, connected = asyncio.Event(), asyncio.Event()
    timing = {"deadline": 0.0, "connected": 0}

    async def worker() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as client:
            await client.get(health)  # open the connection before timing anything
            timing["connected"] += 1
            if timing["connected"] == concurrency:
                connected.set()
            await go.wait()
            for index in queue:
                if time.perf_counter() > timing["deadline"]:
                    result.stopped_early = True
                    return
                body, trigger = bodies[index]
                headers = signed_headers(body)
                if trigger:
                    sent_at[trigger] = time.time()
                began = time.perf_counter()
                try:
                    answer = await client.post(url, content=body, headers=headers)
                    seconds[index] = time.perf_counter() - began
                    problem = answer_problem(spec, steps[index], answer)
                except httpx.HTTPError as error:
                    seconds[index] = time.perf_counter() - began
                    problem = type(error).__name__
                if problem:
                    result.errors[problem] = result.errors.get(problem, 0) + 1

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        await asyncio.wait_for(connected.wait(), timeout=30)
        gc.collect()
        gc.disable()  # keep the load generator's own collector pauses out of the figures
        started = time.perf_counter()
        timing["deadline"] = started + max_seconds
        go.set()
        await asyncio.gather(*workers)
    finally:
        gc.enable()
        for task in workers:
            task.cancel()
    result.wall = time.perf_counter() - started
    for index, value in enumerate(seconds):
        if value is not None:
            result.seconds.append(value)
            result.kinds.append(steps[index].kind)
    if spec.copbot_app:
        await collect_lazy(twin, since, sent_at, result, lazy_wait)
    return result


def answer_problem(spec: ServerSpec, step: Step, answer: httpx.Response) -> str | None:
    """What is wrong with an answer: not 2xx, or for copbot's help an answer without the
    guide's blocks (copbot's error handler answers 200 with an apology)."""
    if not 200 <= answer.status_code < 300:
        return f"HTTP {answer.status_code}"
    if spec.copbot_app and step.kind == "command":
        try:
            body = json.loads(answer.content)
        except ValueError:
            return "help answer not JSON"
        if not isinstance(body, dict) or not body.get("blocks"):
            return "help answer without the guide"
    return None


async def collect_lazy(
    twin: Twin, since: int, sent_at: dict[str, float], result: Result, wait: float
) -> None:
    """Wait (bounded) for the views.open calls of this run's clicks and time them."""
    result.lazy_expected = len(sent_at)
    seen: set[str] = set()
    deadline = time.monotonic() + wait
    while True:
        calls, since = await twin.calls(since)
        for call in calls:
            trigger = call.get("trigger_id")
            if call["method"] != "views.open" or trigger not in sent_at or trigger in seen:
                continue
            seen.add(trigger)
            if call["ok"]:
                result.lazy_delays.append(call["at"] - sent_at[trigger])
            else:
                error = str(call["error"])
                result.lazy_failed[error] = result.lazy_failed.get(error, 0) + 1
        if len(seen) >= len(sent_at) or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------------- reporting


def ms(value: float) -> str:
    return "-" if value != value else f"{value * 1000:.1f}"


def print_table(title: str, results: list[Result]) -> None:
    """One row per server; the ratio column compares p99 with the first (the baseline)."""
    print(f"\n{title}")
    header = (
        f"  {'server':<32}{'requests':>9}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p99/base':>10}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    base_p99 = percentile(results[0].seconds, 99)
    for result in results:
        p99 = percentile(result.seconds, 99)
        ratio = p99 / base_p99 if base_p99 == base_p99 and base_p99 > 0 else float("nan")
        rate = result.count / result.wall if result.wall else float("nan")
        print(
            f"  {SERVERS[result.server].label:<32}{result.count:>9}{result.error_count:>8}"
            f"{rate:>9.0f}{ms(percentile(result.seconds, 50)):>9}"
            f"{ms(percentile(result.seconds, 95)):>9}{ms(p99):>9}"
            + (f"{ratio:>9.2f}x" if ratio == ratio else f"{'-':>10}")
        )
    for result in results:
        by_kind = []
        for kind, name in (("command", "commands"), ("click", "clicks")):
            values = [s for s, k in zip(result.seconds, result.kinds, strict=True) if k == kind]
            by_kind.append(
                f"{name} p50 {ms(percentile(values, 50))} p99 {ms(percentile(values, 99))}"
            )
        notes = []
        if result.errors:
            notes.append("errors: " + ", ".join(f"{n}x {e}" for e, n in result.errors.items()))
        if result.stopped_early:
            notes.append("stopped at the time limit")
        if result.lazy_expected:
            late = sum(1 for d in result.lazy_delays if d > SLACK_TRIGGER_TTL)
            lazy = (
                f"views.open after click p50 {ms(percentile(result.lazy_delays, 50))} "
                f"p99 {ms(percentile(result.lazy_delays, 99))} ms, "
                f"{len(result.lazy_delays)}/{result.lazy_expected} ok"
            )
            if result.lazy_failed:
                lazy += ", failed: " + ", ".join(f"{n}x {e}" for e, n in result.lazy_failed.items())
            if late:
                lazy += f", {late} later than Slack's {SLACK_TRIGGER_TTL:.0f} s trigger limit"
            notes.append(lazy)
        print(f"    {result.server:<10}" + " | ".join(by_kind + notes) + " (ms)")


def verdict(results: list[Result]) -> list[str]:
    """copbot's (and the stock variant's) p99 against the baseline's, with the target."""
    baseline, lines = results[0], []
    base_p99 = percentile(baseline.seconds, 99)
    for result in results[1:]:
        if not SERVERS[result.server].copbot_app:
            continue
        ratio = percentile(result.seconds, 99) / base_p99 if base_p99 > 0 else float("nan")
        line = f"{result.server} p99 / {baseline.server} p99 = {ratio:.2f}x"
        if result.server == "copbot":
            line += f": {'meets' if ratio <= TARGET else 'MISSES'} the {TARGET}x target"
        lines.append(line)
    return lines


def describe_database(url: str | None) -> str:
    if not url:
        return "SQLite, a fresh file per copbot server in a temporary directory"
    parsed = make_url(url)
    return (
        f"{parsed.get_backend_name()} at {parsed.render_as_string(hide_password=True)}, shared by "
        "the copbot servers: a later one finds the people an earlier one met, so its warm-up "
        "has no first contacts (use a throwaway database: the bench adds its people to it)"
    )


# ---------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Options:
    levels: list[int]
    requests: int
    warmup: int
    people: int
    click_share: float
    new_share: float
    servers: list[str]
    slack_latency_ms: float
    database_url: str | None
    max_run_seconds: float
    seed: int


async def bench(options: Options, processes: Processes, workdir: Path) -> None:
    twin_port = free_port()
    twin_proc = processes.start(
        "twin",
        [
            sys.executable,
            str(BENCH / "twin_server.py"),
            "--port",
            str(twin_port),
            "--team",
            TEAM,
            "--token",
            TOKEN,
            "--signing-secret",
            SECRET,
            "--latency-ms",
            str(options.slack_latency_ms),
        ],
        child_env({}),
    )
    twin_url = f"http://127.0.0.1:{twin_port}/"
    await wait_until_up(twin_url, twin_proc)
    twin = Twin(twin_url)
    people = [person(i) for i in range(1, options.people + 1)]
    await twin.add_users(people)
    users = [p["id"] for p in people]

    urls: dict[str, str] = {}
    children: dict[str, Process] = {}
    for key in options.servers:
        port = free_port()
        database = options.database_url or f"sqlite:///{workdir / key}.db"
        env = child_env(
            {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": twin_url + "api/",
                "DATABASE_URL": database,
            }
        )
        children[key] = processes.start(key, SERVERS[key].command(port), env)
        urls[key] = f"http://127.0.0.1:{port}/slack/events"
    for key, child in children.items():
        await wait_until_up(urls[key].replace("/slack/events", "/healthz"), child)

    rng = random.Random(options.seed)
    newcomers = iter(range(1, 1 << 30))

    async def run(key: str, steps: list[Step], level: int) -> Result:
        """One server, one run; people marked NEW are fresh for every run."""
        if any(step.user == NEW for step in steps):
            fresh = [person(next(newcomers), "NEW") if s.user == NEW else None for s in steps]
            await twin.add_users([p for p in fresh if p])
            steps = [Step(p["id"], s.kind) if p else s for s, p in zip(steps, fresh, strict=True)]
        return await drive(
            SERVERS[key], urls[key], twin, steps, level, options.max_run_seconds, LAZY_WAIT
        )

    try:
        if options.warmup:
            warm_level = min(8, max(options.levels))
            passes = [one_pass(users, rng, options.click_share) for _ in range(options.warmup)]
            first = []
            for key in options.servers:
                for number, steps in enumerate(passes):
                    result = await run(key, steps, warm_level)
                    if number == 0:
                        first.append(result)
            print_table(
                f"warm-up, first pass: each of {len(users)} people once, concurrency "
                f"{warm_level} (copbot fetches users.info inside the ack on first contact)",
                first,
            )
        steps = load(users, options.requests, rng, options.click_share, options.new_share)
        clicks = sum(1 for s in steps if s.kind == "click")
        new = sum(1 for s in steps if s.user == NEW)
        for level in options.levels:
            results = [await run(key, steps, level) for key in options.servers]
            print_table(
                f"concurrency {level}: {len(steps)} requests "
                f"({len(steps) - clicks} /copbot help, {clicks} Edit profile clicks"
                + (f"; {new} from people copbot has not met" if new else "")
                + ")",
                results,
            )
            for line in verdict(results):
                print(f"  {line}")
    finally:
        await twin.close()


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description="Ack latency of copbot against a bare Bolt app under the same load."
    )
    parser.add_argument("--concurrency", default="1,8,32", help="levels, comma-separated")
    parser.add_argument("--requests", type=int, default=1500, help="measured requests per run")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up passes over all people")
    parser.add_argument("--people", type=int, default=200, help="distinct Slack users")
    parser.add_argument("--click-share", type=float, default=0.3, help="share of button clicks")
    parser.add_argument(
        "--new-share",
        type=float,
        default=0.0,
        help="share of measured requests from people copbot has not met (users.info in the ack)",
    )
    parser.add_argument(
        "--servers",
        default="bare,copbot,stock",
        help="first is the baseline; choose from " + ", ".join(SERVERS),
    )
    parser.add_argument(
        "--slack-latency-ms", type=float, default=50.0, help="delay on every twin Web API call"
    )
    parser.add_argument("--database-url", help="copbot's database (default: fresh SQLite files)")
    parser.add_argument(
        "--max-run-seconds", type=float, default=60.0, help="stop sending after this per run"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 300 requests, concurrency 1,8"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency, args.requests, args.people = "1,8", 300, 50
    levels = [int(part) for part in args.concurrency.split(",") if part.strip()]
    servers = [part.strip() for part in args.servers.split(",") if part.strip()]
    unknown = [s for s in servers if s not in SERVERS]
    if unknown or not servers or len(set(servers)) != len(servers):
        parser.error(f"--servers takes distinct names from {', '.join(SERVERS)}")
    if not levels or min(levels) < 1 or max(levels) > 256:
        parser.error("--concurrency takes levels from 1 to 256")
    if not 1 <= args.requests <= 100_000 or not 1 <= args.people <= 10_000:
        parser.error("--requests must be 1..100000 and --people 1..10000")
    if not 0 <= args.click_share <= 1 or not 0 <= args.new_share <= 1:
        parser.error("--click-share and --new-share must be 0..1")
    if not 0 <= args.warmup <= 10:
        parser.error("--warmup must be 0..10")
    return Options(
        levels=levels,
        requests=args.requests,
        warmup=args.warmup,
        people=args.people,
        click_share=args.click_share,
        new_share=args.new_share,
        servers=servers,
        slack_latency_ms=args.slack_latency_ms,
        database_url=args.database_url,
        max_run_seconds=args.max_run_seconds,
        seed=args.seed,
    )


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_facts(options: Options) -> None:
    cores = os.cpu_count()
    print("copbot ack latency bench")
    print(
        f"  machine: {cores} CPUs, Python {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}; slack_bolt {version('slack_bolt')}, uvicorn {version('uvicorn')}, "
        f"load from httpx {version('httpx')} (HTTP/1.1 keep-alive)"
    )
    print(
        f"  load average before the run: {load_average()} (other work on the machine skews timings)"
    )
    print(f"  database: {describe_database(options.database_url)}")
    print(
        f"  load: {options.requests} requests per run at concurrency "
        f"{', '.join(map(str, options.levels))}; {options.people} people; "
        f"{options.click_share:.0%} button clicks; {options.new_share:.0%} from people copbot "
        f"has not met; {options.warmup} warm-up pass(es) over everyone first"
    )
    latency = (
        f"{options.slack_latency_ms:g} ms on every Web API call"
        if options.slack_latency_ms > 0
        else "none (the twin answers at once)"
    )
    print(f"  Slack twin: its own process, no rate limits; added latency: {latency}")
    print(
        "  each server runs in its own process; latency is send to response on the client; "
        "errors are non-2xx, failed requests and copbot answers other than the help guide"
    )
    if "stock" in options.servers:
        print(
            "  note: copbot's app leaves signature checks to its transport, so the stock "
            "adapter variant skips them and does slightly less work than copbot"
        )


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so that cleanup runs."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    if "bare" in options.servers:
        try:
            import aiohttp  # noqa: F401  (slack_bolt's AsyncApp needs it)
        except ImportError:
            print(
                "bench: the bare AsyncApp needs aiohttp (pip install aiohttp); "
                "or pass --servers bare-sync,copbot,stock",
                file=sys.stderr,
            )
            return 2
    print_facts(options)
    began = time.monotonic()
    with (
        sigterm_as_exit(),
        tempfile.TemporaryDirectory(prefix="copbot-bench-") as tmp,
    ):
        processes = Processes(Path(tmp))
        try:
            asyncio.run(bench(options, processes, Path(tmp)))
        except (KeyboardInterrupt, SystemExit):
            print("\nbench: interrupted; in-flight requests may show as errors in the logs")
            return 130
        except RuntimeError as error:
            print(f"\nbench: {error}", file=sys.stderr)
            return 1
        finally:
            processes.stop_all()
            report_logs(processes)
    print(f"\ntotal time {time.monotonic() - began:.0f} s; load average now {load_average()}")
    return 0


def report_logs(processes: Processes) -> None:
    """Server log lines at WARNING or above (there should be none)."""
    print("\nserver logs (WARNING and above):")
    for child in processes.children:
        problems = child.problems()
        print(f"  {child.name}: {len(problems) or 'none'}")
        for line in problems[:5]:
            print(f"    {line[:200]}")


if __name__ == "__main__":
    sys.exit(main())
