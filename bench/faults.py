"""Faults, measured: a pulse fan-out and a learning digest on PostgreSQL while the
database restarts, Slack answers 5xx and 429, and copbot's processes are SIGKILLed.

(a) **Pulse fan-out.** The bench serves the Slack twin in this process with Slack-like
limits (chat.postMessage ``--rate-per-minute`` for the workspace, about 1 a second per
channel; Tier 3 for conversations.history), and runs copbot as it is deployed with
several processes: ``copbot serve --no-scheduler`` for Slack's requests and ``copbot
worker`` for the scheduler and outbox delivery, all on a fresh PostgreSQL database that
``serve`` migrates at start. It seeds the demo community (``copbot seed-demo``) plus
``--members`` members, then a lead designs a pulse to everyone through the twin's driver
(``/pulse new``, the designer modal) and sends it now (``/pulse send-now``). While the
worker delivers one DM per member, the bench

1. restarts PostgreSQL once (``pg_ctlcluster ... restart``) at about 15% delivered;
2. makes the twin answer every Web API call with HTTP 503 for ``--error-seconds``, then
   with 429 and ``Retry-After`` for ``--ratelimit-seconds``, at about 35%;
3. SIGKILLs the worker at about 60% while the twin holds a few of its posts (so they
   land after it died: sent, never recorded), and starts another worker at once.

When the outbox has nothing pending or sending it prints, per fault, when it came, how
long it lasted and how long until delivery recovered; the wall time; outbox rows by
status; and what was lost and what was duplicated, counted from the twin's own DMs per
member by each message's outbox key against the run's participants (both must be 0).

(b) **Digest.** A lead with learning capture on in #talk runs ``/digest`` (a private
preview in their DM) once per scenario: no fault; the language model (the LLM twin,
through ``OPENAI_BASE_URL``) answering 500, then 429; Slack answering 503, then 429, for a
few seconds; and ``copbot serve`` SIGKILLed while the digest is being written (after its
"Reading N messages" message, while the model is slow), then started again: the digest
was written down before the work began, so the restarted copbot finishes it once its
claim lapses. Each
``/digest`` must give exactly one preview (Publish, Edit): the bench prints previews,
lost and duplicated per scenario, the time to the preview and what the lead saw.

    .venv/bin/python bench/faults.py                                 # 2,000 members
    .venv/bin/python bench/faults.py --members 500 --skip-digest     # a quicker run
    .venv/bin/python bench/faults.py --database-url postgresql://postgres@127.0.0.1:5432/test

``--database-url`` names the PostgreSQL server; the bench creates ``copbot_bench_faults``
there and drops it at the end. It restarts that server only when it runs on this machine
(``pg_ctlcluster``; ``--no-postgres-restart`` skips that fault) and always leaves it
running. The bench exits 1 when anything was lost or duplicated. It never asserts timings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for folder in (ROOT, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import load  # noqa: E402  (bench/load.py: processes, the fresh database, environments)
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402

from bot import demo  # noqa: E402
from bot.learning.digest import LEASE  # noqa: E402
from bot.platform.outbox import EVENT_TYPE  # noqa: E402
from llmtwin import LLMTwin  # noqa: E402
from slacktwin import RateLimits, SlackDriver, SlackTwin  # noqa: E402
from storage import (  # noqa: E402
    Database,
    Digest,
    Member,
    OutboxMessage,
    PulseParticipation,
    PulseRun,
)

TEAM = "T0FAULTICS"
TOKEN = "xoxb-faults-bench"
SECRET = "faults-bench-signing-secret"
LLM_KEY = "sk-faults-bench"
LEAD = load.LEAD  # Amara, a lead in the demo community
# One lead per digest scenario: copbot allows a member 3 digests in 10 minutes.
DIGEST_LEADS = [f"U0DEMO{n:03d}" for n in range(2, 9)]
TALK = "C0FAULTTALK"
DATABASE = "copbot_bench_faults"
FOREVER = 10**9
PULSE = "faults"
CONVERSATION = (
    "Virtual wards reduced readmissions for frail patients on the east side this month.",
    "The discharge checklist worked better once pharmacy joined the 10am huddle.",
    "Night handovers still lose information about falls risk; any templates?",
    "Care home MDT calls are saving ambulance call-outs, staff say.",
    "The main barrier is a delay in social care assessments on Fridays.",
    "Peer support sessions for new starters have started in community nursing.",
    "Text reminders cut missed outpatient appointments by about a fifth.",
    "We need protected time for improvement work, or it happens after shifts.",
)


# ============================================================================ PostgreSQL


def postgres_cluster() -> tuple[str, str] | None:
    """The local cluster (version, name) pg_ctlcluster manages, or None."""
    with contextlib.suppress(OSError):
        versions = sorted(os.listdir("/etc/postgresql"))
        if versions:
            return versions[0], "main"
    return None


def pg_ctl(action: str) -> subprocess.CompletedProcess[str]:
    cluster = postgres_cluster()
    if cluster is None:
        raise RuntimeError("no local PostgreSQL cluster (/etc/postgresql)")
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def postgres_online() -> bool:
    found = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False)
    return any("online" in line for line in found.stdout.splitlines())


def ensure_postgres() -> str:
    """Start the local cluster if it is down; say how it is."""
    if postgres_cluster() is None:
        return "not local"
    if not postgres_online():
        pg_ctl("start")
    return "online" if postgres_online() else "DOWN"


def is_local(url: str) -> bool:
    return (make_url(url).host or "localhost") in ("127.0.0.1", "localhost", "::1")


# ============================================================================ copbot


class Copbot:
    """``copbot serve --no-scheduler`` and ``copbot worker`` processes on one database."""

    def __init__(self, children: load.Children, env: dict[str, str]) -> None:
        self.children, self.env = children, env
        self.port = load.free_port()
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        self.serve: load.Child | None = None
        self.workers: list[load.Child] = []
        self.serves = 0

    def start_serve(self) -> load.Child:
        self.serves += 1
        argv = [sys.executable, "-m", "bot", "serve", "--no-scheduler"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        self.serve = self.children.start(f"serve-{self.serves}", argv, self.env)
        load.wait_until_up(self.url.replace("/slack/events", "/healthz"), self.serve)
        return self.serve

    def start_worker(self) -> load.Child:
        name = f"worker-{len(self.workers) + 1}"
        child = self.children.start(name, [sys.executable, "-m", "bot", "worker"], self.env)
        self.workers.append(child)
        return child


def kill(child: load.Child) -> None:
    child.popen.send_signal(signal.SIGKILL)
    child.popen.wait(timeout=10)


def log_problems(child: load.Child) -> Counter[str]:
    """A child's log lines at ERROR or above, and tracebacks, by a short form."""
    found: Counter[str] = Counter()
    text = child.log_path.read_text(errors="replace")
    for line in load.problems(text, ("error", "critical")):
        short = re.sub(r"^\S+ \S+ (?=ERROR|CRITICAL)", "", line)  # a plain line's time stamp
        short = re.sub(r"U\d{8}|U0[A-Z0-9]+|\d+(\.\d+)?", "#", short)
        found[short[:150]] += 1
    return found


# ============================================================================ (a) fan-out


@dataclass
class Sample:
    at: float  # seconds since send-now
    delivered: int  # DMs with the run's keys in the twin
    states: dict[str, int] | None  # outbox rows by status, None when the database is down
    sending_by: dict[str, int] | None  # rows in "sending" by claimed_by


@dataclass
class Fault:
    name: str
    began: float
    ended: float
    delivered: int
    note: str = ""
    resumed: float | None = None  # the first delivery recorded after the fault ended
    affected: set[str] = field(default_factory=set)  # outbox keys the fault caught in flight
    ended_epoch: float = field(default_factory=time.time)


class Monitor(threading.Thread):
    """Samples delivery (twin) and the outbox (database) every 0.2 s."""

    def __init__(
        self, twin: SlackTwin, database: Database, users: list[str], prefix: str, t0: float
    ) -> None:
        super().__init__(name="fault-monitor", daemon=True)
        self.twin, self.database, self.users, self.prefix, self.t0 = (
            twin,
            database,
            users,
            prefix,
            t0,
        )
        self.samples: list[Sample] = []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def delivered(self) -> Counter[str]:
        return twin_keys(self.twin, self.users, self.prefix)

    def outbox(self) -> tuple[dict[str, int] | None, dict[str, int] | None]:
        try:
            with self.database.session() as session:
                rows = session.exec(
                    select(OutboxMessage.status, func.count())
                    .where(col(OutboxMessage.key).startswith(self.prefix))
                    .group_by(col(OutboxMessage.status))
                ).all()
                sending = session.exec(
                    select(OutboxMessage.claimed_by, func.count())
                    .where(
                        col(OutboxMessage.key).startswith(self.prefix),
                        OutboxMessage.status == "sending",
                    )
                    .group_by(col(OutboxMessage.claimed_by))
                ).all()
        except Exception:
            return None, None
        return {str(s): int(n) for s, n in rows}, {str(w): int(n) for w, n in sending}

    def run(self) -> None:
        while not self.stop_event.is_set():
            delivered = sum(self.delivered().values())
            states, sending = self.outbox()
            with self.lock:
                self.samples.append(Sample(time.monotonic() - self.t0, delivered, states, sending))
            self.stop_event.wait(0.2)

    def latest(self) -> Sample:
        while True:
            with self.lock:
                if self.samples:
                    return self.samples[-1]
            time.sleep(0.05)

    def last_states(self) -> dict[str, int]:
        with self.lock:
            for sample in reversed(self.samples):
                if sample.states is not None:
                    return sample.states
        return {}


def twin_keys(twin: SlackTwin, users: list[str], prefix: str) -> Counter[str]:
    """Outbox keys (with ``prefix``) of the messages in the members' DMs, from the twin."""
    found: Counter[str] = Counter()
    with twin.ws.lock:
        for user in users:
            for message in twin.ws.top_level(twin.ws.dm(user)):
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == EVENT_TYPE:
                    key = str(metadata["event_payload"]["key"])
                    if key.startswith(prefix):
                        found[key] += 1
    return found


def keys_in_flight(database: Database, prefix: str, claimed_by: str | None = None) -> set[str]:
    """Keys of the run's rows in "sending" now (optionally: claimed by a worker id part)."""
    query = select(OutboxMessage.key).where(
        col(OutboxMessage.key).startswith(prefix), OutboxMessage.status == "sending"
    )
    if claimed_by:
        query = query.where(col(OutboxMessage.claimed_by).contains(claimed_by))
    with database.session() as session:
        return set(session.exec(query))


def failed_posts(twin: SlackTwin, since: float, until: float, prefix: str) -> set[str]:
    """Keys of the run's chat.postMessage calls the twin refused between two times."""
    keys = set()
    for call in twin.calls_to("chat.postMessage"):
        if since <= call.at <= until and call.status != 200:
            metadata = call.args.get("metadata")
            if isinstance(metadata, str):
                with contextlib.suppress(ValueError):
                    metadata = json.loads(metadata)
            key = str(((metadata or {}).get("event_payload") or {}).get("key") or "")
            if key.startswith(prefix):
                keys.add(key)
    return keys


def settled_after(database: Database, fault: Fault) -> float | None:
    """Seconds from the fault's end until the last row it caught was recorded sent."""
    if not fault.affected:
        return None
    with database.session() as session:
        rows = session.exec(
            select(OutboxMessage.sent_at).where(col(OutboxMessage.key).in_(fault.affected))
        ).all()
    if any(at is None for at in rows):
        return None
    return max(0.0, max(at.timestamp() for at in rows) - fault.ended_epoch)


def sent(sample: Sample) -> int | None:
    return None if sample.states is None else sample.states.get("sent", 0)


def recovery(fault: Fault, samples: list[Sample]) -> float | None:
    """Seconds from the fault's end until a delivery was recorded again (the outbox's sent
    count grew past what it was when the fault began)."""
    before = next(
        (sent(s) for s in reversed(samples) if s.at <= fault.began and sent(s) is not None), 0
    )
    for sample in samples:
        count = sent(sample)
        if sample.at >= fault.ended and count is not None and count > (before or 0):
            return max(0.0, sample.at - fault.ended)
    return None


def wait_for(monitor: Monitor, done: Any, limit: float, what: str) -> Sample:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sample = monitor.latest()
        if done(sample):
            return sample
        time.sleep(0.1)
    raise RuntimeError(f"gave up waiting for {what} after {limit:.0f} s")


def seed_members(database: Database, twin: SlackTwin, count: int) -> list[str]:
    """Member rows (copbot has met them) and matching twin users; returns their ids."""
    users = [f"U{n:08d}" for n in range(count)]
    for user in users:
        twin.add_user(user, name=f"member{user[1:]}", real_name=f"Member {int(user[1:])}")
    for offset in range(0, count, 1000):
        with database.session() as session:
            session.add_all(
                Member(
                    team_id=TEAM,
                    slack_user_id=user,
                    display_name=f"member{user[1:]}",
                    tz="Europe/London",
                )
                for user in users[offset : offset + 1000]
            )
    return users


def design_pulse(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(LEAD, "/pulse", "new", channel=TALK)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="pulse designer")
    driver.fill(
        LEAD,
        {
            "Name": PULSE,
            "Audience": "Everyone",
            "Questions": ["How are you feeling about improvement work this week?"],
            "Schedule": "Weekly",
            "Day": "Monday",
            "Time": "09:30",
        },
    )
    errors = driver.submit(LEAD).errors
    if errors:
        raise RuntimeError(f"the pulse designer refused: {errors}")
    twin.wait_for(lambda: "every week" in json.dumps(twin.dms(LEAD)), message="pulse saved")


def fanout(
    args: argparse.Namespace,
    twin: SlackTwin,
    database: Database,
    copbot: Copbot,
    driver: SlackDriver,
    users: list[str],
) -> bool:
    """(a): returns True when nothing was lost or duplicated."""
    print("\n(a) pulse fan-out under faults")
    design_pulse(driver, twin)
    everyone = [p.user_id for p in demo.PEOPLE] + users
    worker = copbot.start_worker()
    time.sleep(2.0)  # the worker is up before the rows arrive
    twin.reset_calls()
    t0 = time.monotonic()
    driver.command(LEAD, "/pulse", "send-now " + PULSE, channel=TALK)
    twin.wait_for(
        lambda: "Sent the" in json.dumps(twin.ephemerals(LEAD)), timeout=60, message="send-now"
    )
    queued = time.monotonic() - t0
    answer = next(e["text"] for e in reversed(twin.ephemerals(LEAD)) if "Sent the" in e["text"])
    with database.session() as session:
        run_id = session.exec(select(func.max(PulseRun.id))).one()
        invited = list(
            session.exec(
                select(PulseParticipation.user_id).where(PulseParticipation.run_id == run_id)
            )
        )
    prefix = f"pulse:{run_id}:"
    total = len(invited)
    print(
        f"  queued          {total} DMs (run {run_id}) {queued:.1f} s after /pulse send-now; "
        f"the lead was told: “{answer}”"
    )
    monitor = Monitor(twin, database, everyone, prefix, t0)
    monitor.start()
    faults: list[Fault] = []
    deaths: list[str] = []

    def at(share: float) -> Sample:
        def reached(sample: Sample) -> bool:
            if worker.popen.poll() is not None:
                raise WorkerDied(worker.name, worker.popen.returncode)
            return sample.delivered >= share * total

        return wait_for(monitor, reached, args.max_seconds, f"{share:.0%} delivered")

    def now() -> float:
        return time.monotonic() - t0

    try:
        # 1. PostgreSQL restarts once.
        if args.postgres_restart:
            sample = at(0.15)
            caught = keys_in_flight(database, prefix)
            began = now()
            done = pg_ctl("restart")
            fault = Fault("PostgreSQL restart", began, now(), sample.delivered, affected=caught)
            fault.note = "pg_ctlcluster restart" + (
                "" if done.returncode == 0 else f" FAILED: {done.stderr.strip()[:100]}"
            )
            faults.append(fault)
            time.sleep(1.0)
            if worker.popen.poll() is not None:
                deaths.append(
                    f"{worker.name} exited with {worker.popen.returncode} after the restart"
                )
                worker = copbot.start_worker()
        # 2. Slack answers 503 to everything, then 429 with Retry-After.
        sample = at(0.35)
        began, since = now(), time.time()
        twin.fail("*", status=503, times=FOREVER)
        time.sleep(args.error_seconds)
        twin.clear_faults()
        fault = Fault("Slack 503 on every call", began, now(), sample.delivered, "HTTP 503")
        fault.affected = failed_posts(twin, since, fault.ended_epoch, prefix)
        faults.append(fault)
        began, delivered, since = now(), monitor.latest().delivered, time.time()
        twin.ratelimit("*", retry_after=args.retry_after, times=FOREVER)
        time.sleep(args.ratelimit_seconds)
        twin.clear_faults()
        fault = Fault(
            "Slack 429 on every call", began, now(), delivered, f"Retry-After: {args.retry_after}"
        )
        fault.affected = failed_posts(twin, since, fault.ended_epoch, prefix)
        faults.append(fault)
        # 3. The worker is SIGKILLed mid-delivery; another starts at once.
        sample = at(0.60)
        if args.hold:
            twin.fail("chat.postMessage", timeout=args.hold_seconds, times=args.hold)
            time.sleep(min(0.5, args.hold_seconds / 2))
        killed_pid = worker.popen.pid
        kill(worker)
        began = now()
        twin.clear_faults()  # holds not yet taken
        caught = keys_in_flight(database, prefix, f":{killed_pid}:")
        worker = copbot.start_worker()
        fault = Fault(
            f"SIGKILL {copbot.workers[-2].name}, start {worker.name}",
            began,
            began,
            monitor.latest().delivered,
            f"{args.hold} posts held {args.hold_seconds:g} s across the kill" if args.hold else "",
            affected=caught,
        )
        faults.append(fault)

        # Until the outbox has nothing pending or sending.
        def settled(sample: Sample) -> bool:
            if worker.popen.poll() is not None:
                raise WorkerDied(worker.name, worker.popen.returncode)
            states = sample.states
            return (
                states is not None
                and sum(states.values()) >= total
                and not states.get("pending")
                and not states.get("sending")
            )

        final = wait_for(monitor, settled, args.max_seconds, "an empty outbox")
    except WorkerDied as died:
        deaths.append(str(died))
        final = monitor.latest()
        print(f"  STOPPED: {died}")
    finally:
        monitor.stop_event.set()
        monitor.join(timeout=10)
    samples = monitor.samples
    wall = final.at

    # Recovery after each fault.
    print(
        f"\n  {'fault':<34}{'at':>8}{'delivered':>12}{'lasted':>9}{'resumed':>9}"
        f"{'caught':>8}{'all sent':>10}  note"
    )
    for fault in faults:
        fault.resumed = recovery(fault, samples)
        resumed = f"{fault.resumed:.1f} s" if fault.resumed is not None else "never"
        done = settled_after(database, fault)
        after = f"{done:.1f} s" if done is not None else ("-" if not fault.affected else "never")
        print(
            f"  {fault.name:<34}{fault.began:>6.1f} s{fault.delivered:>6}/{total:<5}"
            f"{fault.ended - fault.began:>7.1f} s{resumed:>9}{len(fault.affected):>8}{after:>10}"
            f"  {fault.note}"
        )
    print(
        "  (at: seconds after /pulse send-now; resumed: from the fault's end to the next "
        "delivery recorded; caught: messages in flight or refused during the fault; all "
        "sent: from the fault's end until the last of them was recorded sent)"
    )
    if faults and faults[-1].name.startswith("SIGKILL"):
        kill_fault, mark = faults[-1], f":{killed_pid}:"

        def held(sample: Sample) -> int:
            return sum(n for w, n in (sample.sending_by or {}).items() if mark in w)

        after = [s for s in samples if s.at >= kill_fault.began and s.sending_by is not None]
        inflight = max((held(s) for s in after), default=0)
        last_held = max((s.at for s in after if held(s)), default=kill_fault.began)
        cleared = next((s.at - kill_fault.began for s in after if s.at > last_held), None)
        print(
            f"  the killed worker left {inflight} rows claimed in 'sending' (with any it was "
            "still checking after the 503s); the new worker took over the last of them "
            + (f"{cleared:.1f} s after the kill" if cleared is not None else "(not seen)")
            + ", once their 60 s lease ran out"
        )
    for line in deaths:
        print(f"  process died: {line}")

    # What arrived.
    keys = twin_keys(twin, everyone, prefix)
    expected = {f"{prefix}{u}" for u in invited}
    lost = sorted(expected - set(keys))
    duplicated = sum(n - 1 for n in keys.values() if n > 1)
    strays = sorted(set(keys) - expected)
    per_member = Counter(keys[k] for k in expected)
    with database.session() as session:
        rows = session.exec(
            select(OutboxMessage.status, func.count())
            .where(col(OutboxMessage.key).startswith(prefix))
            .group_by(col(OutboxMessage.status))
        ).all()
    statuses = {str(s): int(n) for s, n in rows}
    posts = Counter(call.status for call in twin.calls_to("chat.postMessage"))
    history = len(twin.calls_to("conversations.history"))
    lower = total / (args.rate_per_minute / 60.0)
    print(f"\n  wall time       {wall:.1f} s from /pulse send-now to an empty outbox", end="")
    print(f" (the rate limit alone needs {lower:.1f} s)")
    print(f"  outbox rows     {statuses}")
    print(
        f"  DMs per member  expected 1 for each of {total}: "
        + ", ".join(f"{n} DM(s): {m} members" for n, m in sorted(per_member.items()))
    )
    print(f"  lost            {len(lost)}" + (f" (e.g. {', '.join(lost[:5])})" if lost else ""))
    print(f"  duplicated      {duplicated}")
    if strays:
        print(f"  unexpected      {len(strays)} DMs to people not in the run")
    print(
        "  slack calls     chat.postMessage "
        + ", ".join(f"HTTP {s}: {n}" for s, n in sorted(posts.items()))
        + f"; conversations.history (recovery checks) {history}"
    )
    for child in [copbot.serve, *copbot.workers]:
        if child is None:
            continue
        problems = log_problems(child)
        print(
            f"  {child.name} log  {sum(problems.values())} ERROR lines"
            + (
                ": " + "; ".join(f"{n}x {p}" for p, n in problems.most_common(3))
                if problems
                else ""
            )
        )
    return not lost and not duplicated and not strays


class WorkerDied(RuntimeError):
    def __init__(self, name: str, code: int | None) -> None:
        super().__init__(f"{name} exited with code {code}")


# ============================================================================ (b) digest


def turn_on_capture(driver: SlackDriver, twin: SlackTwin, people: list[str]) -> int:
    """Capture in #talk (the lead, from App Home), then a conversation; returns messages."""
    driver.app_home_opened(LEAD)
    twin.wait_for(lambda: "Capture a channel" in json.dumps(twin.home_view(LEAD) or {}))
    driver.click(LEAD, "Capture a channel", home=True)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="capture form")
    driver.fill(LEAD, {"Channel": TALK})
    errors = driver.submit(LEAD).errors
    if errors:
        raise RuntimeError(f"capture refused: {errors}")
    twin.wait_for(lambda: any("capture" in m["text"] for m in twin.messages(TALK)))
    for number, text in enumerate(CONVERSATION * 3):
        driver.post_message(people[number % len(people)], TALK, text)
    return len(CONVERSATION) * 3


@dataclass
class DigestOutcome:
    name: str
    previews: int
    stuck: int
    seconds: float | None
    offline: bool
    told: list[str]
    drafts: int
    logged: list[str]
    refused: Counter[str]


def lead_dms_since(twin: SlackTwin, lead: str, since: float) -> list[dict[str, Any]]:
    return [m for m in twin.dms(lead) if float(m["ts"]) >= since]


def is_preview(message: dict[str, Any]) -> bool:
    return "Publish" in json.dumps(message.get("blocks") or [])


def digest_count(database: Database) -> int | None:
    try:
        with database.session() as session:
            return int(session.exec(select(func.count()).select_from(Digest)).one())
    except Exception:
        return None


def run_digest(
    name: str,
    lead: str,
    args: argparse.Namespace,
    twin: SlackTwin,
    llm: LLMTwin,
    database: Database,
    copbot: Copbot,
    driver: SlackDriver,
    fault: Any,
) -> DigestOutcome:
    """One /digest by ``lead`` under ``fault(phase, lead)``: called with "before" (just
    before the command) and "after" (once it is answered); returns what the lead got."""
    since = time.time()
    if copbot.serve is not None:
        copbot.serve.new_problems()  # only this scenario's log lines below
    drafts_before = digest_count(database) or 0
    ephemerals_before = len(twin.ephemerals(lead))
    dms_before = len(twin.dms(lead))
    calls_before = len(twin.log.all())
    began = time.monotonic()
    fault("before", lead)
    with contextlib.suppress(Exception):  # a killed server may not answer
        driver.command(lead, "/digest", "", channel=TALK)
    fault("after", lead)
    seconds = None
    # A digest cut short by a crash waits for its claim to lapse (bot.learning.digest.LEASE)
    # and the next "unfinished digests" job run, once a minute.
    wait = args.digest_wait + (LEASE.total_seconds() + 75 if "SIGKILL" in name else 0)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if any(is_preview(m) for m in lead_dms_since(twin, lead, since)):
            seconds = time.monotonic() - began
            break
        time.sleep(0.1)
    twin.clear_faults()
    llm.clear_faults()
    time.sleep(1.0)  # a second copy, if one were coming
    messages = lead_dms_since(twin, lead, since)
    previews = [m for m in messages if is_preview(m)]
    stuck = [m for m in messages if m["text"].startswith("Reading ") and not is_preview(m)]
    told = [e["text"] for e in twin.ephemerals(lead)[ephemerals_before:]]
    told += [m["text"] for m in twin.dms(lead)[dms_before:] if not is_preview(m) and m not in stuck]
    logged = [
        line
        for line in (copbot.serve.new_problems() if copbot.serve is not None else [])
        if line.startswith(("ERROR", "CRITICAL", "traceback"))
    ]
    return DigestOutcome(
        name,
        len(previews),
        len(stuck),
        seconds,
        any("offline summary" in json.dumps(m.get("blocks") or []) for m in previews),
        told,
        (digest_count(database) or 0) - drafts_before,
        logged,
        Counter(
            f"{call.method} {call.status}"
            for call in twin.log.all()[calls_before:]
            if call.status != 200
        ),
    )


def digests(
    args: argparse.Namespace,
    twin: SlackTwin,
    llm: LLMTwin,
    database: Database,
    copbot: Copbot,
    driver: SlackDriver,
) -> bool:
    """(b): returns True when every /digest gave exactly one preview."""
    print("\n(b) /digest previews under faults")
    print(
        f"  capture on in #talk; {args.digest_messages} messages kept; each scenario by "
        "another lead (copbot allows a member 3 digests in 10 minutes)"
    )

    def none(_: str, __: str) -> None:
        return None

    def llm_500(phase: str, _: str) -> None:
        if phase == "before":
            llm.fail(500, times=FOREVER)

    def llm_429(phase: str, _: str) -> None:
        if phase == "before":
            llm.ratelimit(retry_after=1, times=FOREVER)

    def slack_window(kind: str) -> Any:
        def apply(phase: str, _: str) -> None:
            if phase == "before":  # the ack needs no Slack call; the work after it does
                if kind == "503":
                    twin.fail("*", status=503, times=FOREVER)
                else:
                    twin.ratelimit("*", retry_after=1, times=FOREVER)
                threading.Timer(args.error_seconds, twin.clear_faults).start()

        return apply

    def kill_serve(phase: str, lead: str) -> None:
        if phase == "before":
            llm.slow(seconds=args.llm_slow, times=FOREVER)
            return
        since = time.time() - 5
        with contextlib.suppress(TimeoutError):  # killed anyway; the table tells
            twin.wait_for(
                lambda: any(
                    m["text"].startswith("Reading ") for m in lead_dms_since(twin, lead, since)
                ),
                timeout=30,
            )
        assert copbot.serve is not None
        kill(copbot.serve)
        llm.clear_faults()
        copbot.start_serve()

    scenarios = [
        ("no fault", none),
        ("LLM answers 500", llm_500),
        ("LLM answers 429 (Retry-After 1)", llm_429),
        (f"Slack 503 on every call for {args.error_seconds:g} s", slack_window("503")),
        (f"Slack 429 on every call for {args.error_seconds:g} s", slack_window("429")),
        ("copbot serve SIGKILLed mid-digest, restarted", kill_serve),
    ]
    outcomes = []
    for (name, fault), lead in zip(scenarios, DIGEST_LEADS, strict=False):
        outcomes.append(run_digest(name, lead, args, twin, llm, database, copbot, driver, fault))
        time.sleep(args.error_seconds if "Slack" in name else 0.5)
    print(
        f"\n  {'scenario':<44}{'previews':>9}{'lost':>6}{'dup':>5}{'preview after':>15}"
        f"{'drafts':>8}  engine; what else the lead saw"
    )
    clean = True
    for o in outcomes:
        lost, dup = max(0, 1 - o.previews), max(0, o.previews - 1)
        clean = clean and not lost and not dup
        after = f"{o.seconds:.1f} s" if o.seconds is not None else f"none in {args.digest_wait:g} s"
        engine = "offline summary" if o.offline else ("model" if o.previews else "-")
        seen = [f"“{' '.join(t.split())[:70]}”" for t in o.told]
        if o.stuck:
            seen.append(f"{o.stuck} progress message(s) never replaced")
        if o.refused:
            seen.append(
                "Slack refused " + ", ".join(f"{n}x {m}" for m, n in o.refused.most_common(3))
            )
        print(
            f"  {o.name:<44}{o.previews:>9}{lost:>6}{dup:>5}{after:>15}{o.drafts:>8}  "
            + "; ".join([engine, *seen])
        )
        for line in o.logged[:2]:
            print(f"      serve log: {line[:150]}")
    return clean


# ============================================================================ the run


def bench(args: argparse.Namespace, children: load.Children) -> int:
    twin = SlackTwin(
        team_id=TEAM,
        team_name="Faults Bench ICS",
        bot_token=TOKEN,
        signing_secret=SECRET,
        rate_limits=RateLimits(
            post_message_workspace_per_minute=float(args.rate_per_minute),
            post_message_workspace_burst=max(1, round(args.rate_per_minute / 60)),
        ),
        app_token=None,
        socket_ping_interval=None,
    )
    llm = LLMTwin(api_key=LLM_KEY)
    twin.start()
    llm.start()
    ok = True
    try:
        for p in demo.PEOPLE:
            twin.add_user(p.user_id, name=p.display_name, real_name=p.real_name, tz=p.tz)
        people = [p.user_id for p in demo.PEOPLE]
        twin.add_channel(TALK, name="talk", members=people)
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(load.fresh_database(args.database_url, DATABASE))
            database = Database(url)
            stack.callback(database.dispose)
            env = load.child_env(
                {
                    "SLACK_BOT_TOKEN": TOKEN,
                    "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": twin.api_url,
                    "DATABASE_URL": url,
                    "COPBOT_LEADS": ",".join([LEAD, *DIGEST_LEADS]),
                    "OPENAI_API_KEY": LLM_KEY,
                    "OPENAI_BASE_URL": llm.base_url,
                }
            )
            copbot = Copbot(children, env)
            stack.callback(children.stop_all)  # before the database goes
            copbot.start_serve()
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
            users = seed_members(database, twin, args.members) if not args.skip_fanout else []
            driver = SlackDriver(twin, copbot.url, SECRET, timeout=30.0)
            stack.callback(driver.shutdown)
            print(
                f"  database        {make_url(url).render_as_string(hide_password=True)} "
                "(fresh; copbot serve migrated it; dropped at the end)"
            )
            print(
                f"  community       {seeded.stdout.strip().removeprefix('copbot: ')}; "
                f"{len(users)} more members"
            )
            print(
                f"  slack twin      this process; chat.postMessage {args.rate_per_minute}/min "
                "for the workspace, 1/s per channel; Tier 3 (50/min) for conversations.history"
            )
            print(
                "  copbot          copbot serve --no-scheduler (Slack's requests) and copbot "
                "worker processes (scheduler, outbox delivery)"
            )
            if not args.skip_digest:
                args.digest_messages = turn_on_capture(driver, twin, people)
            if not args.skip_fanout:
                ok = fanout(args, twin, database, copbot, driver, users) and ok
            if not args.skip_digest:
                ok = digests(args, twin, llm, database, copbot, driver) and ok
    finally:
        twin.stop()
        llm.stop()
    print(f"\n  PostgreSQL      {ensure_postgres()} at the end")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000, help="members besides the demo 40")
    parser.add_argument(
        "--rate-per-minute", type=int, default=3000, help="the twin's chat.postMessage budget"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL") or load.DEFAULT_DATABASE,
        help=f"a PostgreSQL server to create {DATABASE} on",
    )
    parser.add_argument(
        "--no-postgres-restart",
        dest="postgres_restart",
        action="store_false",
        help="skip the PostgreSQL restart",
    )
    parser.add_argument("--error-seconds", type=float, default=5.0, help="Slack 503 window")
    parser.add_argument("--ratelimit-seconds", type=float, default=5.0, help="Slack 429 window")
    parser.add_argument("--retry-after", type=int, default=2, help="Retry-After in the window")
    parser.add_argument("--hold", type=int, default=8, help="posts held across the SIGKILL")
    parser.add_argument("--hold-seconds", type=float, default=1.5)
    parser.add_argument("--max-seconds", type=float, default=600.0, help="give up after this")
    parser.add_argument("--digest-wait", type=float, default=45.0, help="wait for each preview")
    parser.add_argument(
        "--llm-slow", type=float, default=8.0, help="model delay while serve is killed"
    )
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-digest", action="store_true")
    args = parser.parse_args(argv)
    args.digest_messages = 0
    if args.postgres_restart and not (is_local(args.database_url) and postgres_cluster()):
        print("(PostgreSQL is not local: skipping the restart)")
        args.postgres_restart = False
    print("copbot faults bench")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="copbot-faults-") as tmp:
        children = load.Children(Path(tmp))
        try:
            code = bench(args, children)
        except (RuntimeError, TimeoutError) as error:
            print(f"\nbench: {error}", file=sys.stderr)
            for child in children.all:
                tail = child.log_path.read_text(errors="replace").splitlines()[-12:]
                print(f"--- {child.name} log, last lines:\n" + "\n".join(tail), file=sys.stderr)
            code = 2
        finally:
            children.stop_all()
            ensure_postgres()
    print(f"\ntotal time {time.monotonic() - began:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
