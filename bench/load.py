"""Load: a mixed Slack workload against ``copbot serve`` on PostgreSQL, rate step by rate
step, beside a bare Bolt app under the very same requests.

The bench creates a fresh PostgreSQL database (``copbot serve`` migrates it at start),
seeds the demo community with ``copbot seed-demo``, and serves the Slack twin in this
process (a thread; rate limits off, trigger_ids valid for an hour, an optional delay on
every Web API call for Slack's own latency). Through the twin's driver, as people would,
it then makes the community lived-in: every person meets copbot once (``/copbot help``,
their first contact, with ``users.info`` inside the ack: the warm-up row), a lead turns on
learning capture in #talk, members share ideas through the idea modal (cards in #ideas)
and a lead designs a pulse and sends it now (a DM with one-tap answers to everyone).

Each step then offers one rate of requests, open loop (Poisson arrivals: a request goes
out at its time whether or not earlier ones were answered), for ``--duration`` seconds:
events (``message`` in #talk, ``reaction_added``, ``app_home_opened``), clicks (Support
or Unsupport on an idea card, a one-tap pulse answer in the DM), slash commands
(``/copbot help``, ``/idea search <words>``, ``/pulse``, ``/exchange``) and idea modal
submissions, in the proportions printed as the mix. Every request is built by the twin's
driver from what the twin shows that person now (the card, the DM, the Home tab, the
modal copbot opened), exactly as Slack would send it, and signed with Slack's v0
signature when it is sent. A separate process (this file with ``--role send``, asyncio
and aiohttp) sends them, so the load shares no interpreter with any server.

The same requests go first to a bare Bolt app (slack_bolt's AsyncApp behind Bolt's async
Starlette adapter, as bench/bare_bolt.py runs it, with listeners that only ack every
command, action, view and event) and then to copbot. Per step and server the bench prints
the offered rate, the sustained rate (requests answered 2xx per second, from the first
send to the last answer), p50/p95/p99 ack latency (send to answer, on the client) and the
error rate: non-2xx, no answer within 3 s (Slack's limit: counted as an error at 3 s),
connection failures, and for copbot an answer carrying its apology or its "busy" answer
(a command shed under overload). Ratios compare copbot with the bare app. At the end it
prints the highest rate at which copbot sustained the offered load (at least 95% of it
answered per second) with p99 under 1 s and under 1% errors. It never asserts timings.

    .venv/bin/python bench/load.py                                   # 10..200 req/s, 60 s
    .venv/bin/python bench/load.py --rates 10,50 --duration 10       # a smoke run
    .venv/bin/python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/test

``--database-url`` names the PostgreSQL server (any database on it); the bench creates
``copbot_bench_load`` there and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import gc
import hashlib
import hmac
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for folder in (ROOT, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import httpx  # noqa: E402

TOKEN = "xoxb-load-bench"
SECRET = "load-bench-signing-secret"
TEAM = "T0LOADICS"
IDEAS = "C0LOADIDEA"
TALK = "C0LOADTALK"
LEAD = "U0DEMO001"  # Amara, a lead in the demo community (and in COPBOT_LEADS)
BENCH_DATABASE = "copbot_bench_load"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
SLACK_TIMEOUT = 3.0  # Slack gives up on an answer after 3 s
APOLOGY = b"something went wrong on our side"
BUSY = b"copbot is very busy right now"  # a command shed under overload (handlers/web.py)
SUSTAINED = 0.95  # share of the offered rate answered per second that counts as sustained
P99_LIMIT = 1.0
ERROR_LIMIT = 0.01

# (kind, share, what it is)
MIX: tuple[tuple[str, float, str], ...] = (
    ("message", 0.30, "event: message in #talk (a thread reply one time in five)"),
    ("reaction", 0.12, "event: reaction_added in #talk (+1, heart, bulb, memo)"),
    ("home", 0.15, "event: app_home_opened"),
    ("support", 0.09, "click: Support on an idea card"),
    ("unsupport", 0.03, "click: Unsupport on an idea card"),
    ("pulse", 0.08, "click: a one-tap pulse answer (1-5) in the DM"),
    ("help", 0.04, "command: /copbot help"),
    ("search", 0.06, "command: /idea search <words>"),
    ("mypulse", 0.04, "command: /pulse"),
    ("exchange", 0.04, "command: /exchange"),
    ("idea", 0.05, "modal: the idea modal submitted with a valid idea"),
)
KINDS = [kind for kind, _, _ in MIX]

CHATTER = (
    "Has anyone tried a discharge-to-assess huddle at 10am instead of the afternoon?",
    "Our frailty virtual ward took 14 referrals from the ambulance service this week.",
    "Reminder: the falls prevention drop-in is on Thursday in the education centre.",
    "We cut outpatient DNAs by texting a day before with a one-tap reschedule link.",
    "Social prescribing link workers are now in three more practices in the north PCN.",
    "Would love to hear how other wards run safety huddles on night shifts.",
    "The medicines reconciliation checklist saved us about ten minutes per admission.",
    "Big thanks to the care home team who joined the MDT call this morning.",
    "Our staff wellbeing room is finally open, with a kettle that works.",
    "Anyone have a good template for a one-page improvement project summary?",
    "Trialling a shared care record view for paramedics on scene from next week.",
    "Carers told us the discharge letter is hard to read; we are rewriting it with them.",
)
REPLIES = (
    "Yes, we did this last year. Happy to share what worked.",
    "Interesting: how did you measure it?",
    "Following, we have the same problem on our ward.",
    "Could we bring this to the next design group?",
)
IDEA_STARTS = (
    "Text reminders for",
    "A shared checklist for",
    "Daily huddles about",
    "Volunteer drivers for",
    "Pharmacist-led reviews of",
    "A single phone number for",
    "Video consultations for",
    "Peer support for",
    "An escalation card for",
    "Protected learning time for",
)
IDEA_SUBJECTS = (
    "discharge planning on medical wards",
    "frail patients leaving the emergency department",
    "new starters in community nursing",
    "care home residents with repeat falls",
    "medicines at transfer of care",
    "carers of people with dementia",
    "night shift handovers",
    "outpatient follow-up appointments",
    "children waiting for mental health support",
    "people with long waits for elective surgery",
    "patients who need interpreters",
    "staff returning from long-term sickness",
)
SEARCH_WORDS = (
    "discharge",
    "frailty falls",
    "care home",
    "medicines",
    "mental health",
    "handover",
    "carers dementia",
    "volunteer",
    "outpatient",
    "wellbeing",
)
THEMES = (
    "Discharge and flow",
    "Frailty",
    "Medicines safety",
    "Mental health",
    "Workforce retention and wellbeing",
    "Prevention",
    "Health inequalities",
)
PULSE_QUESTIONS = [
    "How are you feeling about improvement work this week?",
    "I can raise a concern and be heard",
]


# ============================================================================ the sender


def sign(body: bytes, secret: bytes) -> dict[str, str]:
    """Slack's v0 signature headers for ``body``, made now (as Slack does per request)."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest(),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def arrivals(count: int, rate: float, seed: int) -> list[float]:
    """Poisson arrival times (seconds from the start) for ``count`` requests at ``rate``."""
    rng = random.Random(seed)
    times, now = [], 0.0
    for _ in range(count):
        times.append(now)
        now += rng.expovariate(rate)
    return times


async def send_all(job: dict[str, Any]) -> dict[str, Any]:
    """Open-loop sending: each request at its arrival time, whatever is still in flight."""
    import aiohttp

    url, secret = job["url"], job["secret"].encode()
    items = job["items"]
    times = arrivals(len(items), job["rate"], job["seed"])
    out: list[list[Any]] = [[] for _ in items]
    timeout = aiohttp.ClientTimeout(total=job["timeout"])
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # Open a few keep-alive connections before timing anything.
        health = url.replace("/slack/events", "/healthz")
        warm = max(2, min(32, math.ceil(job["rate"] / 10)))

        async def ping() -> None:
            with contextlib.suppress(Exception):
                async with session.get(health) as answer:
                    await answer.read()

        await asyncio.gather(*(ping() for _ in range(warm)))
        loop = asyncio.get_running_loop()

        async def one(index: int, due: float) -> None:
            kind, content_type, body = items[index]
            data = body.encode()
            headers = {"Content-Type": content_type, **sign(data, secret)}
            began = loop.time()
            status, apology = 0, ""
            try:
                async with session.post(url, data=data, headers=headers) as answer:
                    content = await answer.read()
                    status = answer.status
                    apology = "apology" if APOLOGY in content else "busy" if BUSY in content else ""
            except TimeoutError:
                status = 0  # no answer within Slack's limit
            except aiohttp.ClientError:
                status = -1
            ended = loop.time()
            latency = ended - began if status != 0 else job["timeout"]
            out[index] = [kind, status, latency, began - due, apology, ended]

        gc.collect()
        gc.disable()  # keep the sender's own collector pauses out of the figures
        start = loop.time() + 0.2
        tasks = []
        try:
            for index, at in enumerate(times):
                due = start + at
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(index, due)))
            await asyncio.gather(*tasks)
        finally:
            gc.enable()
    first = min(row[3] + (start + times[i]) for i, row in enumerate(out))
    return {"results": out, "start": start, "first_send": first, "last_due": start + times[-1]}


def run_sender(args: argparse.Namespace) -> int:
    job = json.loads(Path(args.input).read_text())
    result = asyncio.run(send_all(job))
    Path(args.output).write_text(json.dumps(result))
    return 0


# ============================================================================ the bare app


def run_bare(args: argparse.Namespace) -> int:
    """slack_bolt's AsyncApp behind Bolt's async Starlette adapter (bench/bare_bolt.py's
    baseline), with listeners that only ack every command, action, view and event the
    mix sends."""
    import logging

    import bare_bolt
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    token = os.environ.pop("SLACK_BOT_TOKEN")
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    app.command(re.compile(r"^/"))(ack_only)
    app.action(re.compile(r".*"))(ack_only)
    app.view(re.compile(r".*"))(ack_only)
    for event in ("app_home_opened", "reaction_added", "message"):
        app.event(event)(ack_only)

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    web = bare_bolt.make_web(AsyncSlackRequestHandler(app).handle)
    bare_bolt.exit_when_stdin_closes()
    uvicorn.run(web, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")
    return 0


# ============================================================================ requests


def capturing_driver(twin: Any) -> Any:
    """A SlackDriver whose requests are kept (content type, body) instead of sent: built
    by the driver's own code from what the twin shows, encoded as its ``_deliver`` does."""
    from slacktwin import SlackDriver

    class CapturingDriver(SlackDriver):
        def __init__(self) -> None:
            super().__init__(twin, "http://127.0.0.1:9/not-sent", SECRET)
            self.kept: list[tuple[str, str]] = []

        def _deliver(
            self,
            kind: Any,
            payload: Any,
            *,
            retry_num: int | None = None,
            retry_reason: str | None = None,
        ) -> httpx.Response:
            if kind == "slash_commands":
                self.kept.append((FORM, urlencode(payload)))
            elif kind == "interactive":
                self.kept.append((FORM, urlencode({"payload": json.dumps(payload)})))
            else:
                self.kept.append((JSON, json.dumps(payload)))
            return httpx.Response(200, content=b"", request=httpx.Request("POST", self.app_url))

        def take(self) -> tuple[str, str]:
            return self.kept.pop()

    return CapturingDriver()


def idea_text(rng: random.Random) -> tuple[str, str]:
    subject = rng.choice(IDEA_SUBJECTS)
    title = f"{rng.choice(IDEA_STARTS)} {subject}"
    description = (
        f"Today {subject} take too long and people fall through the gaps. "
        f"We could try this for a month on one site and measure waits and feedback "
        f"({rng.randrange(10_000)})."
    )
    return title, description


@dataclass
class World:
    """What the requests are made of: people, the idea modal copbot opens, and what the
    twin currently shows (cards in #ideas, messages in #talk, pulse DMs)."""

    twin: Any
    people: list[str]
    idea_modal: dict[str, Any]
    talk: list[str] = field(default_factory=list)  # ts of top-level messages in #talk
    supported: list[tuple[str, str]] = field(default_factory=list)  # (person, card ts)

    def cards(self) -> list[str]:
        from handlers.ideas.ids import IdeaId

        return [
            m["ts"]
            for m in self.twin.messages(IDEAS)
            if IdeaId.SUPPORT in json.dumps(m.get("blocks") or [])
        ]

    def pulse_dm(self, user: str) -> str | None:
        """The ts of the person's latest pulse DM (as copbot last drew it), or None."""
        from handlers.pulse.ids import PulseId

        for message in reversed(self.twin.dms(user)):
            if PulseId.ANSWER in json.dumps(message.get("blocks") or []):
                return str(message["ts"])
        return None


class Builder:
    """Makes one step's requests in the mix's proportions, from the twin's current state."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world, self.rng = world, rng
        self.driver = capturing_driver(world.twin)
        self.cards = world.cards()
        self.pulse_users = list(world.people)
        rng.shuffle(self.pulse_users)
        self.fallbacks: Counter[str] = Counter()

    def person(self) -> str:
        return self.rng.choice(self.world.people)

    def make(self, kind: str) -> tuple[str, str, str]:
        """(kind, content type, body); a kind that cannot be made now becomes a message."""
        maker: Callable[[], bool] = getattr(self, f"_{kind}")
        if not maker():
            self.fallbacks[kind] += 1
            kind = "message"
            self._message()
        content_type, body = self.driver.take()
        return kind, content_type, body

    # ---------------------------------------------------------------- events

    def _message(self) -> bool:
        rng, talk = self.rng, self.world.talk
        if talk and rng.random() < 0.2:
            ts, _ = self.driver.post_message(
                self.person(), TALK, rng.choice(REPLIES), thread_ts=rng.choice(talk[-50:])
            )
        else:
            ts, _ = self.driver.post_message(self.person(), TALK, rng.choice(CHATTER))
            talk.append(ts)
        return True

    def _reaction(self) -> bool:
        from slacktwin.errors import ApiError

        talk = self.world.talk[-200:]
        if not talk:
            return False
        name = self.rng.choices(("+1", "heart", "bulb", "memo"), (60, 15, 15, 10))[0]
        for _ in range(5):
            try:
                self.driver.react(self.person(), TALK, self.rng.choice(talk), name)
                return True
            except ApiError:  # already_reacted: someone else reacts instead
                continue
        return False

    def _home(self) -> bool:
        self.driver.app_home_opened(self.person())
        return True

    # ---------------------------------------------------------------- clicks

    def _support(self) -> bool:
        """Someone supports a card they don't support yet (as far as the bench knows)."""
        if not self.cards:
            return False
        done = set(self.world.supported)
        for _ in range(5):
            user, ts = self.person(), self.rng.choice(self.cards)
            if (user, ts) not in done:
                break
        self.driver.click(user, "Support", message=(IDEAS, ts))
        self.world.supported.append((user, ts))
        return True

    def _unsupport(self) -> bool:
        """Someone who supported a card takes their support back."""
        supported = self.world.supported
        if not supported:
            return False
        index = self.rng.randrange(len(supported))
        supported[index], supported[-1] = supported[-1], supported[index]
        user, ts = supported.pop()
        self.driver.click(user, "Unsupport", message=(IDEAS, ts))
        return True

    def _pulse(self) -> bool:
        """One answer per person per step, on their DM as copbot last drew it."""
        while self.pulse_users:
            user = self.pulse_users.pop()
            ts = self.world.pulse_dm(user)
            if ts is None:
                continue
            where = (self.world.twin.dm_channel(user), ts)
            value = str(self.rng.randint(1, 5))
            index = self.rng.randrange(len(PULSE_QUESTIONS))
            try:
                self.driver.click(user, value, message=where, index=index)
            except LookupError:
                self.driver.click(user, value, message=where, index=0)
            return True
        return False

    # ---------------------------------------------------------------- commands

    def _command(self, command: str, text: str) -> bool:
        channel = TALK if self.rng.random() < 0.5 else None
        self.driver.command(self.person(), command, text, channel=channel)
        return True

    def _help(self) -> bool:
        return self._command("/copbot", "help")

    def _search(self) -> bool:
        return self._command("/idea", f"search {self.rng.choice(SEARCH_WORDS)}")

    def _mypulse(self) -> bool:
        return self._command("/pulse", "")

    def _exchange(self) -> bool:
        return self._command("/exchange", "")

    # ---------------------------------------------------------------- modals

    def _idea(self) -> bool:
        """The idea modal as copbot opens it (views.open), filled in and submitted."""
        user = self.person()
        self.world.twin.ws.open_modal(user, copy.deepcopy(self.world.idea_modal))
        title, description = idea_text(self.rng)
        self.driver.fill(
            user,
            {
                "Title": title,
                "Description": description,
                "Themes": self.rng.sample(THEMES, self.rng.randint(1, 2)),
            },
        )
        return bool(self.driver.submit(user).sent)


def make_requests(builder: Builder, count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    weights = [share for _, share, _ in MIX]
    return [builder.make(rng.choices(KINDS, weights)[0]) for _ in range(count)]


# ============================================================================ measuring


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Outcome:
    """One server's run of one step."""

    server: str
    rows: list[list[Any]]
    first_send: float
    last_due: float
    copbot: bool

    @property
    def count(self) -> int:
        return len(self.rows)

    def failed(self, row: list[Any]) -> str | None:
        kind, status, latency, _, apology, _ = row
        if status == 0:
            return f"no answer in {SLACK_TIMEOUT:.0f} s"
        if status == -1:
            return "connection failed"
        if not 200 <= status < 300:
            return f"HTTP {status}"
        if latency > SLACK_TIMEOUT:
            return f"answered after {SLACK_TIMEOUT:.0f} s"
        if self.copbot and apology:
            return f"{apology} ({kind})"
        return None

    @property
    def errors(self) -> Counter[str]:
        return Counter(e for e in (self.failed(r) for r in self.rows) if e)

    @property
    def error_rate(self) -> float:
        return sum(self.errors.values()) / self.count if self.count else float("nan")

    @property
    def offered(self) -> float:
        """Requests per second as actually sent (arrival times, as the sender kept them)."""
        span = self.last_due - self.first_send
        return (self.count - 1) / span if span > 0 else float("nan")

    @property
    def sustained(self) -> float:
        """Good answers per second, from the first send to the last answer."""
        good = sum(1 for r in self.rows if self.failed(r) is None)
        span = max(r[5] for r in self.rows) - self.first_send
        return good / span if span > 0 else float("nan")

    def latencies(self, kind: str | None = None) -> list[float]:
        return [r[2] for r in self.rows if kind is None or r[0] == kind]

    def p(self, q: float, kind: str | None = None) -> float:
        return percentile(self.latencies(kind), q)

    @property
    def lag_p99(self) -> float:
        return percentile([r[3] for r in self.rows], 99)

    def meets(self) -> bool:
        return (
            self.sustained >= SUSTAINED * self.offered
            and self.p(99) < P99_LIMIT
            and self.error_rate < ERROR_LIMIT
        )


def ms(value: float) -> str:
    return "-" if value != value else f"{value * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b == b and a == a and b > 0 else "-"


# ============================================================================ processes


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int = 0

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self.popen.stdin:
                self.popen.stdin.close()
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)

    def new_problems(self) -> list[str]:
        """Log lines at WARNING or above (and tracebacks' last lines) since the last call."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            text = log.read().decode(errors="replace")
            self.log_offset = log.tell()
        return problems(text)


def problems(text: str, levels: tuple[str, ...] = ("warning", "error", "critical")) -> list[str]:
    """Lines of a log at these levels, as "LEVEL logger: message" (copbot's servers write
    JSON lines; other processes plain text), and the last line of each traceback."""
    found, in_traceback = [], False
    pattern = re.compile(r"\b(" + "|".join(levels) + r")\b", re.IGNORECASE)
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if str(entry.get("level", "")).lower() in levels:
                    found.append(
                        f"{entry['level'].upper()} {entry.get('logger', '')}: "
                        f"{entry.get('message', '')}"
                    )
                error = str(entry.get("error") or "").strip().splitlines()
                if error:
                    found.append(f"traceback: {error[-1]}")
                continue
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            in_traceback = False
            found.append(f"traceback: {line}")
        elif not in_traceback and pattern.search(line):
            found.append(line)
    return found


class Children:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.all: list[Child] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
            )
        child = Child(name, popen, log_path)
        self.all.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.all):
            with contextlib.suppress(Exception):
                child.stop()


def child_env(extra: dict[str, str]) -> dict[str, str]:
    prefixes = ("SLACK_", "COPBOT_", "OPENAI_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, child: Child, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.popen.poll() is not None:
            tail = child.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{child.name} exited:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{child.name} did not answer {url} within {timeout:.0f} s")


@contextlib.contextmanager
def fresh_database(url: str, name: str = BENCH_DATABASE) -> Iterator[str]:
    """A new PostgreSQL database ``name`` on ``url``'s server; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("this bench runs on PostgreSQL: give a postgresql:// URL")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def send(
    workdir: Path, url: str, items: list[tuple[str, str, str]], rate: float, seed: int
) -> dict[str, Any]:
    """Run the sender process over ``items`` at ``rate`` and return what it measured."""
    job = {
        "url": url,
        "secret": SECRET,
        "rate": rate,
        "seed": seed,
        "timeout": SLACK_TIMEOUT,
        "items": items,
    }
    job_path, out_path = workdir / "job.json", workdir / "result.json"
    job_path.write_text(json.dumps(job))
    out_path.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--role", "send"]
    command += ["--input", str(job_path), "--output", str(out_path)]
    finished = subprocess.run(command, cwd=ROOT, env=child_env({}), check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"the sender failed with exit code {finished.returncode}")
    return dict(json.loads(out_path.read_text()))


# ============================================================================ the run


@dataclass(frozen=True)
class Options:
    rates: list[float]
    duration: float
    people: int
    ideas: int
    servers: list[str]
    slack_latency_ms: float
    database_url: str
    warmup_rate: float
    settle: float
    seed: int


def call_count(twin: Any) -> int:
    return len(twin.log.all())


def handled(metrics_url: str) -> int | None:
    """How many Slack requests copbot has answered so far (``copbot_requests_total``)."""
    try:
        text = httpx.get(metrics_url, timeout=5.0).text
    except httpx.HTTPError:
        return None
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("copbot_requests_total")
        )
    )


def settle(twin: Any, metrics_url: str, target: int, quiet: float, limit: float) -> float:
    """Wait until copbot has handled ``target`` requests (those the sender gave up on too)
    and its work after the acks has reached Slack (no twin call for ``quiet`` seconds), or
    ``limit`` passed. Returns how long after the start copbot's last effect came."""
    began = time.monotonic()
    last_count, last_change = call_count(twin), time.monotonic()
    while time.monotonic() - began < limit:
        time.sleep(0.25)
        now = call_count(twin)
        done = handled(metrics_url)
        if now != last_count or done is None or done < target:
            if now != last_count or (done is not None and done < target):
                last_count, last_change = now, time.monotonic()
            continue
        if time.monotonic() - last_change >= quiet:
            break
    return last_change - began


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system, all threads) a process has used; with ``children``,
    also what its exited and waited-for children used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / TICKS


def postgres() -> tuple[float, set[int]]:
    """CPU seconds of the PostgreSQL server (live processes, and through the postmaster the
    backends that have exited), and the pids of its processes now."""
    total, pids = 0.0, set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if stat.read_text().split(" (", 1)[1].startswith("postgres)"):
                pid = int(stat.parent.name)
                pids.add(pid)
                total += cpu_of(pid, children=True)
    return total, pids


def cpu_snapshot(servers: dict[str, Child]) -> dict[str, Any]:
    import resource

    own = os.times()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the finished sender runs
    snap: dict[str, Any] = {name: cpu_of(child.popen.pid) for name, child in servers.items()}
    snap["postgres"], snap["pids"] = postgres()
    snap["twin"] = own.user + own.system
    snap["sender"] = children.ru_utime + children.ru_stime
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    snap["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / TICKS  # all but idle and iowait
    return snap


def cpu_line(before: dict[str, Any], after: dict[str, Any], seconds: float) -> str:
    """Cores kept busy, per process, over ``seconds``; what else on the machine used; and
    PostgreSQL connections opened."""
    if seconds <= 0:
        return "-"
    used = {k: (after[k] - before[k]) / seconds for k in after if k != "pids"}
    machine = used.pop("machine")
    parts = [f"{k} {v:.2f}" for k, v in used.items()]
    others = max(0.0, machine - sum(used.values()))
    opened = len(after["pids"] - before["pids"])
    return (
        "cores busy: "
        + ", ".join(parts)
        + f", other processes {others:.2f} (of {os.cpu_count()}); "
        + f"{opened} new PostgreSQL connections"
    )


def slack_calls(twin: Any, since: int) -> tuple[int, Counter[str], Counter[str]]:
    """Calls since ``since``: how many, the failed ones by method and error, and what copbot
    told people privately (ephemeral messages and response_url answers, by their start)."""
    calls = twin.log.all()[since:]
    failed = Counter(
        f"{call.method} {call.status} {call.response.get('error', '')}".strip()
        for call in calls
        if not (200 <= call.status < 300 and call.response.get("ok", True))
    )
    told = Counter(
        re.sub(r"\s+", " ", str(call.args.get("text") or ""))[:48]
        for call in calls
        if call.method in ("chat.postEphemeral", "response_url")
    )
    return len(calls), failed, told


def print_step(
    rate: float, items: list[tuple[str, str, str]], outcomes: dict[str, Outcome]
) -> None:
    print(f"\nstep: {rate:g} req/s offered for {len(items)} requests")
    header = (
        f"  {'server':<10}{'offered/s':>10}{'done/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}{'error %':>9}{'send lag p99':>14}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, o in outcomes.items():
        print(
            f"  {name:<10}{o.offered:>10.1f}{o.sustained:>9.1f}{ms(o.p(50)):>9}{ms(o.p(95)):>9}"
            f"{ms(o.p(99)):>9}{sum(o.errors.values()):>8}{o.error_rate * 100:>8.2f}%"
            f"{ms(o.lag_p99):>11} ms"
        )
    if "copbot" in outcomes and "bare" in outcomes:
        c, b = outcomes["copbot"], outcomes["bare"]
        print(
            f"  {'copbot/bare':<10}{'':>10}{ratio(c.sustained, b.sustained):>9}"
            f"{ratio(c.p(50), b.p(50)):>9}{ratio(c.p(95), b.p(95)):>9}{ratio(c.p(99), b.p(99)):>9}"
        )
    for name, o in outcomes.items():
        if o.errors:
            shown = ", ".join(f"{n}x {e}" for e, n in o.errors.most_common(6))
            print(f"  {name} errors: {shown}")
    if "copbot" in outcomes:
        c = outcomes["copbot"]
        parts = [
            f"{kind} {ms(c.p(50, kind))}/{ms(c.p(99, kind))}" for kind in KINDS if c.latencies(kind)
        ]
        print("  copbot p50/p99 ms by kind: " + ", ".join(parts))


def print_summary(steps: list[tuple[float, dict[str, Outcome]]], servers: list[str]) -> None:
    print("\nsummary (ack latency in ms, send to answer; errors: non-2xx, >3 s, apologies, busy)")
    cols = "offered/s  done/s   p50    p95    p99  err %"
    line = f"  {'rate':>6} | " + " | ".join(f"{s:<6} {cols}" for s in servers)
    if "copbot" in servers and "bare" in servers:
        line += " | copbot/bare done/s  p50   p95   p99"
    print(line)
    print("  " + "-" * (len(line) - 2))
    for rate, outcomes in steps:
        cells = []
        for s in servers:
            o = outcomes[s]
            cells.append(
                f"{'':<6} {o.offered:>9.1f} {o.sustained:>7.1f} {ms(o.p(50)):>6} {ms(o.p(95)):>6}"
                f" {ms(o.p(99)):>6} {o.error_rate * 100:>5.2f}"
            )
        row = f"  {rate:>6g} | " + " | ".join(cells)
        if "copbot" in servers and "bare" in servers:
            c, b = outcomes["copbot"], outcomes["bare"]
            row += (
                f" | {'':<11}{ratio(c.sustained, b.sustained):>6} {ratio(c.p(50), b.p(50)):>5}"
                f" {ratio(c.p(95), b.p(95)):>5} {ratio(c.p(99), b.p(99)):>5}"
            )
        print(row)
    if "copbot" in servers:
        good = [rate for rate, outcomes in steps if outcomes["copbot"].meets()]
        best = max(good) if good else None
        print(
            f"\nhighest rate copbot sustained (>= {SUSTAINED:.0%} of the offered rate answered "
            f"per second, p99 ack < {P99_LIMIT:g} s, errors < {ERROR_LIMIT:.0%}): "
            + (f"{best:g} req/s" if best is not None else "none of the rates tried")
        )
        missed = [rate for rate, outcomes in steps if not outcomes["copbot"].meets()]
        if best is not None and any(rate < best for rate in missed):
            print(f"  (note: lower rates missed it too: {', '.join(map(str, missed))})")


def setup_community(
    driver: Any, twin: Any, people: list[str], options: Options, rng: random.Random
) -> dict[str, Any]:
    """Capture in #talk, ideas in #ideas and a pulse to everyone, all through the driver as
    people would; returns the idea modal copbot opens (for the steps' submissions)."""
    notes: dict[str, Any] = {}
    # A lead turns on learning capture in #talk.
    try:
        driver.app_home_opened(LEAD)
        twin.wait_for(lambda: "Capture a channel" in json.dumps(twin.home_view(LEAD) or {}))
        driver.click(LEAD, "Capture a channel", home=True)
        twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="capture form")
        driver.fill(LEAD, {"Channel": TALK})
        notes["capture"] = "on" if not driver.submit(LEAD).errors else "refused"
    except Exception as error:  # the bench still runs without capture
        notes["capture"] = f"not turned on ({type(error).__name__}: {error})"[:160]
        twin.ws.clear_modals(LEAD)

    # Members share ideas through the modal copbot opens for /idea.
    modal: dict[str, Any] | None = None
    posted = 0
    for number in range(options.ideas):
        user = people[(number * 7) % len(people)]
        before = len(twin.messages(IDEAS))
        driver.command(user, "/idea", "", channel=TALK)
        twin.wait_for(lambda user=user: twin.current_modal(user) is not None, message="modal")
        if modal is None:
            opened = [c for c in twin.calls_to("views.open") if c.ok]
            modal = copy.deepcopy(opened[-1].args["view"])
        title, description = idea_text(rng)
        driver.fill(user, {"Title": title, "Description": description, "Themes": [THEMES[0]]})
        result = driver.submit(user)
        if result.view is not None and "Post mine anyway" in json.dumps(result.view):
            driver.click(user, "Post mine anyway")
        with contextlib.suppress(TimeoutError):
            twin.wait_for(lambda before=before: len(twin.messages(IDEAS)) > before, timeout=10)
            posted += 1
        twin.ws.clear_modals(user)
    notes["ideas"] = posted
    if modal is None:
        raise RuntimeError("copbot opened no idea modal")
    notes["modal"] = modal

    # A lead designs a pulse and sends it now: one DM to everyone, with one-tap answers.
    driver.command(LEAD, "/pulse", "new", channel=TALK)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="pulse designer")
    driver.fill(
        LEAD,
        {
            "Name": "weekly",
            "Audience": "Everyone",
            "Questions": PULSE_QUESTIONS,
            "Schedule": "Weekly",
            "Day": "Monday",
            "Time": "09:30",
        },
    )
    errors = driver.submit(LEAD).errors
    if errors:
        raise RuntimeError(f"the pulse designer refused: {errors}")
    driver.command(LEAD, "/pulse", "send-now weekly", channel=TALK)
    world = World(twin, people, modal)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        reached = sum(1 for user in people if world.pulse_dm(user))
        if reached >= len(people):
            break
        time.sleep(1.0)
    notes["pulse_dms"] = sum(1 for user in people if world.pulse_dm(user))
    return notes


def bench(options: Options, children: Children, workdir: Path) -> None:
    from bot import demo
    from slacktwin import SlackDriver, SlackTwin

    twin = SlackTwin(
        team_id=TEAM,
        team_name="Load Bench ICS",
        bot_token=TOKEN,
        signing_secret=SECRET,
        rate_limits=False,
        trigger_ttl=3600.0,
        app_token=None,
        socket_ping_interval=None,
    )
    if options.slack_latency_ms > 0:
        twin.fail("*", timeout=options.slack_latency_ms / 1000.0, times=10**9)
    twin.start()
    rng = random.Random(options.seed)
    try:
        people = [p.user_id for p in demo.PEOPLE]
        for p in demo.PEOPLE:
            twin.add_user(p.user_id, name=p.display_name, real_name=p.real_name, tz=p.tz)
        zones = ("Europe/London",) * 8 + ("Europe/Dublin", "Europe/Paris")
        for n in range(1, options.people + 1):
            user = f"U0LOAD{n:04d}"
            twin.add_user(user, name=f"member{n}", real_name=f"Member {n}", tz=zones[n % 10])
            people.append(user)
        twin.add_channel(IDEAS, name="ideas", members=people)
        twin.add_channel(TALK, name="talk", members=people)

        with contextlib.ExitStack() as stack:
            database_url = stack.enter_context(fresh_database(options.database_url))
            stack.callback(children.stop_all)  # the servers stop before the database goes
            env = child_env(
                {
                    "SLACK_BOT_TOKEN": TOKEN,
                    "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": twin.api_url,
                    "DATABASE_URL": database_url,
                    "COPBOT_LEADS": LEAD,
                    "COPBOT_IDEAS_CHANNEL": IDEAS,
                }
            )
            urls: dict[str, str] = {}
            servers: dict[str, Child] = {}
            for name in options.servers:
                port = free_port()
                if name == "copbot":
                    argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"]
                    argv += ["--port", str(port)]
                else:
                    argv = [sys.executable, str(Path(__file__).resolve()), "--role", "bare"]
                    argv += ["--port", str(port)]
                servers[name] = children.start(name, argv, env)
                urls[name] = f"http://127.0.0.1:{port}/slack/events"
            began = time.monotonic()
            for name, child in servers.items():
                wait_until_up(urls[name].replace("/slack/events", "/healthz"), child)
            print(
                f"  servers up in {time.monotonic() - began:.1f} s (copbot migrated the database)"
            )
            metrics = urls["copbot"].replace("/slack/events", "/metrics")
            seeded = subprocess.run(
                [sys.executable, "-m", "bot", "seed-demo", "--team", TEAM],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if seeded.returncode != 0:
                raise RuntimeError(f"copbot seed-demo failed:\n{seeded.stderr[-2000:]}")
            print(f"  {seeded.stdout.strip()}")

            # Warm-up: everyone meets copbot once (users.info inside the ack).
            builder = capturing_driver(twin)
            warm = []
            for user in people:
                builder.command(user, "/copbot", "help", channel=TALK)
                warm.append(("help", *builder.take()))
            result = send(workdir, urls["copbot"], warm, options.warmup_rate, options.seed)
            first = Outcome("copbot", result["results"], result["first_send"], 0.0, True)
            print(
                f"  warm-up: {len(warm)} first contacts (/copbot help) at "
                f"{options.warmup_rate:g}/s: p50 {ms(first.p(50))} ms, p99 {ms(first.p(99))} ms, "
                f"{sum(first.errors.values())} errors"
            )
            driver = SlackDriver(twin, urls["copbot"], SECRET, timeout=30.0)
            began = time.monotonic()
            notes = setup_community(driver, twin, people, options, rng)
            driver.shutdown()
            settle(twin, metrics, 0, 2.0, 60.0)
            print(
                f"  community ready in {time.monotonic() - began:.0f} s: capture in #talk "
                f"{notes['capture']}; {notes['ideas']} idea cards in #ideas; the weekly pulse "
                f"reached {notes['pulse_dms']} of {len(people)} people by DM"
            )
            for child in servers.values():
                child.new_problems()  # the steps report only their own log lines
            world = World(twin, people, notes["modal"])
            world.talk = [m["ts"] for m in twin.messages(TALK)]
            print_mix()

            steps: list[tuple[float, dict[str, Outcome]]] = []
            for number, rate in enumerate(options.rates):
                count = max(1, round(rate * options.duration))
                began = time.monotonic()
                builder_ = Builder(world, rng)
                items = make_requests(builder_, count, rng)
                made = Counter(kind for kind, _, _ in items)
                print(
                    f"\n[{rate:g} req/s] {count} requests made in {time.monotonic() - began:.1f} s:"
                    " "
                    + ", ".join(f"{k} {made[k]}" for k in KINDS if made[k])
                    + (
                        f" (made as messages instead: {dict(builder_.fallbacks)})"
                        if builder_.fallbacks
                        else ""
                    )
                )
                outcomes: dict[str, Outcome] = {}
                cpu: dict[str, str] = {}
                for name in options.servers:
                    since = call_count(twin)
                    before_cpu, before_time = cpu_snapshot(servers), time.monotonic()
                    before_handled = handled(metrics) if name == "copbot" else 0
                    result = send(workdir, urls[name], items, rate, options.seed + number)
                    outcome = Outcome(
                        name,
                        result["results"],
                        result["first_send"],
                        result["last_due"],
                        name == "copbot",
                    )
                    outcomes[name] = outcome
                    cpu[name] = cpu_line(
                        before_cpu, cpu_snapshot(servers), time.monotonic() - before_time
                    )
                    if name == "copbot":
                        drained = settle(
                            twin, metrics, (before_handled or 0) + len(items), 2.0, options.settle
                        )
                        calls, failed, told = slack_calls(twin, since)
                        problems = servers[name].new_problems()
                        behind = (before_handled or 0) + len(items) - (handled(metrics) or 0)
                        if behind > 0:
                            print(
                                f"  copbot was still working through {behind} of the step's "
                                f"requests (the sender gave up on them) when the bench stopped "
                                f"waiting ({options.settle:g} s)"
                            )
                        print(
                            f"  copbot after the acks: {calls} Web API calls to the twin, the "
                            f"last {drained:.1f} s after the sender's last answer; failed calls: "
                            + (
                                ", ".join(f"{n}x {k}" for k, n in failed.most_common(5))
                                if failed
                                else "none"
                            )
                            + f"; log lines at WARNING+: {len(problems)}"
                        )
                        print(
                            "  copbot told people privately (ephemeral, response_url): "
                            + (", ".join(f"{n}x “{t}”" for t, n in told.most_common(6)) or "-")
                        )
                        for line in problems[:5]:
                            print(f"    {line[:220]}")
                    else:
                        servers[name].new_problems()
                print_step(rate, items, outcomes)
                for name, line in cpu.items():
                    print(f"  during the {name} run, {line}")
                steps.append((rate, outcomes))
            print_summary(steps, options.servers)
    finally:
        twin.stop()


def print_mix() -> None:
    print("\nmix (share of requests in every step):")
    for kind, share, what in MIX:
        print(f"  {share:>5.0%}  {kind:<10}{what}")


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, Options | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,25,50,100,200", help="offered req/s per step")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per step")
    parser.add_argument("--people", type=int, default=1000, help="members besides the demo 40")
    parser.add_argument("--ideas", type=int, default=40, help="ideas shared before the steps")
    parser.add_argument("--servers", default="bare,copbot", help="bare and/or copbot, in order")
    parser.add_argument(
        "--slack-latency-ms", type=float, default=50.0, help="delay on every twin Web API call"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE,
        help=f"a PostgreSQL server to create {BENCH_DATABASE} on (default {DEFAULT_DATABASE})",
    )
    parser.add_argument("--warmup-rate", type=float, default=50.0, help="first contacts per s")
    parser.add_argument(
        "--settle", type=float, default=120.0, help="at most this long for copbot to catch up"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--role", choices=["bench", "send", "bare"], default="bench")
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role != "bench":
        return args, None
    rates = [float(part) for part in args.rates.split(",") if part.strip()]
    servers = [part.strip() for part in args.servers.split(",") if part.strip()]
    if not rates or min(rates) <= 0 or max(rates) > 2000:
        parser.error("--rates takes rates from above 0 to 2000 req/s")
    if "copbot" not in servers or set(servers) - {"bare", "copbot"}:
        parser.error("--servers takes copbot and optionally bare")
    if args.duration <= 0 or not 10 <= args.people <= 20_000:
        parser.error("--duration must be positive and --people 10..20000")
    return args, Options(
        rates=rates,
        duration=args.duration,
        people=args.people,
        ideas=args.ideas,
        servers=servers,
        slack_latency_ms=args.slack_latency_ms,
        database_url=args.database_url,
        warmup_rate=args.warmup_rate,
        settle=args.settle,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> int:
    args, options = parse(argv)
    if args.role == "send":
        return run_sender(args)
    if args.role == "bare":
        return run_bare(args)
    assert options is not None
    print("copbot load bench")
    print(
        f"  machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; slack_bolt {version('slack_bolt')}, "
        f"uvicorn {version('uvicorn')}; sender: asyncio + aiohttp {version('aiohttp')} "
        "in its own process"
    )
    print(f"  load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        f"  rates {', '.join(f'{r:g}' for r in options.rates)} req/s, {options.duration:g} s "
        f"each, open loop (Poisson arrivals); {options.people + 40} people; servers in order: "
        f"{', '.join(options.servers)}; Slack twin in this process, no rate limits, "
        f"{options.slack_latency_ms:g} ms per Web API call"
    )
    began = time.monotonic()
    with (
        contextlib.ExitStack() as stack,
        tempfile.TemporaryDirectory(prefix="copbot-load-") as tmp,
    ):
        children = Children(Path(tmp))
        stack.callback(children.stop_all)
        try:
            bench(options, children, Path(tmp))
        except KeyboardInterrupt:
            print("\nbench: interrupted")
            return 130
        except RuntimeError as error:
            print(f"\nbench: {error}", file=sys.stderr)
            return 1
    print(
        f"\ntotal time {time.monotonic() - began:.0f} s; load average now "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
