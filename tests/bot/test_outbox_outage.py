"""The outbox while Slack keeps failing (5xx): sending pauses, so an outage leaves a handful
of messages whose outcome must be checked (a Tier 3 call each), not one per message queued;
and every message still reaches Slack exactly once."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.platform import outbox
from bot.platform.outbox import EVENT_TYPE, OUTAGE_THRESHOLD, Deliverer, _Breaker
from slacktwin import SlackTwin
from storage import Database, OutboxMessage, OutboxStatus, utcnow
from tests.support import BOT_TOKEN, TEAM

CONCURRENCY = 4
UNTIL_CLEARED = 100_000  # twin.fail times: the outage lasts until the test clears it


def client_for(twin: SlackTwin) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=twin.api_url, timeout=5)


def queue_dms(database: Database, twin: SlackTwin, count: int) -> dict[str, str]:
    """``count`` members, one DM each queued; returns user -> key."""
    keys = {}
    with database.session() as session:
        for n in range(count):
            user = f"U0OUTAGE{n:03d}"
            twin.add_user(user, name=user.lower())
            keys[user] = f"{user}:pulse.reminder:2026-W47"
            outbox.enqueue(
                session,
                team_id=TEAM,
                key=keys[user],
                kind="pulse.reminder",
                channel=user,
                user_id=user,
                text="How is this week going?",
            )
    return keys


def delivered(twin: SlackTwin, users: Iterator[str] | list[str]) -> Counter[str]:
    """Outbox keys in the members' DMs, counted."""
    return Counter(
        m["metadata"]["event_payload"]["key"]
        for user in users
        for m in twin.dms(user)
        if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    )


def statuses(database: Database) -> Counter[str]:
    with database.session() as session:
        return Counter(row.status for row in session.exec(select(OutboxMessage)))


def leave_stale(database: Database, claimed_at: datetime) -> None:
    """Every row as a worker leaves it after an unknown outcome: sending, lease run out."""
    with database.session() as session:
        for row in session.exec(select(OutboxMessage)).all():
            row.status = OutboxStatus.SENDING
            row.claimed_by = "earlier-worker"
            row.claimed_at = claimed_at
            row.attempts = 1
            session.add(row)


@pytest.fixture
def deliverers() -> Iterator[list[Deliverer]]:
    made: list[Deliverer] = []
    yield made
    for deliverer in made:
        deliverer.close()


def test_an_outage_pauses_sending_and_each_message_arrives_once(
    database: Database,
    twin: SlackTwin,
    deliverers: list[Deliverer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = queue_dms(database, twin, 50)
    twin.fail("chat.postMessage", status=503, times=UNTIL_CLEARED)
    deliverer = Deliverer(
        database,
        client_for(twin),
        worker_id="outage",
        batch=25,
        concurrency=CONCURRENCY,
        channel_interval=0.05,
        idle_interval=0.05,
        outage_pause=0.1,
        outage_pause_max=0.4,
        retry_delay=lambda attempts: timedelta(seconds=0.1),  # check unknown outcomes soon
    )
    deliverers.append(deliverer)
    stop = threading.Event()
    worker = threading.Thread(target=deliverer.run_forever, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="bot.platform.outbox"):
        worker.start()
        try:
            # Sending paused, and the probe after the pause failed too: paused again.
            twin.wait_for(lambda: deliverer.totals.outage_waits >= 2, timeout=10)
            twin.clear_faults()
            twin.wait_for(lambda: statuses(database) == {OutboxStatus.SENT: 50}, timeout=30)
        finally:
            stop.set()
            worker.join(timeout=10)
    assert not worker.is_alive()

    assert delivered(twin, list(keys)) == Counter(keys.values())  # each exactly once
    failed = [c for c in twin.calls_to("chat.postMessage") if c.status == 503]
    totals = deliverer.totals
    # Before the first pause: OUTAGE_THRESHOLD failures plus the posts already on the wire;
    # after it, one probe per pause. Without the breaker all 50 would fail.
    assert (
        OUTAGE_THRESHOLD <= len(failed) <= OUTAGE_THRESHOLD + CONCURRENCY - 1 + totals.outage_waits
    )
    assert len(failed) < 25
    # Each failed post is checked once in Slack (Tier 3) before it is sent again.
    assert totals.requeued == len(failed) and totals.recovered == 0
    assert len(twin.calls_to("conversations.history")) == len(failed)
    assert len(twin.calls_to("conversations.open")) <= len(failed)
    assert totals.sent == 50
    paused = [r for r in caplog.records if "Slack keeps failing" in r.getMessage()]
    assert len(paused) == totals.outage_waits  # one line per pause


def test_recovery_stops_checking_while_slack_is_failing(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    keys = queue_dms(database, twin, 10)
    leave_stale(database, utcnow() - timedelta(minutes=5))
    twin.fail("*", status=503, times=UNTIL_CLEARED)
    deliverer = Deliverer(
        database, client_for(twin), worker_id="checker", outage_pause=60, outage_pause_max=60
    )
    deliverers.append(deliverer)

    # Each round stops at its first server error; the third in a row pauses recovery too.
    reports = [deliverer.run_once() for _ in range(5)]

    assert len(twin.calls) == OUTAGE_THRESHOLD  # not 10 checks per round
    assert sum(r.outage_waits for r in reports) == 1
    assert statuses(database) == {OutboxStatus.SENDING: 10}  # kept, to check later

    twin.clear_faults()
    survivor = Deliverer(database, client_for(twin), worker_id="survivor")
    deliverers.append(survivor)
    later = utcnow() + timedelta(seconds=3)
    for _ in range(5):
        survivor.run_once(now=later)
    assert statuses(database) == {OutboxStatus.SENT: 10}
    assert delivered(twin, list(keys)) == Counter(keys.values())


def test_the_breaker_pauses_probes_doubles_and_resets_on_an_answer() -> None:
    breaker = _Breaker(pause=0.01, ceiling=0.04)

    assert [breaker.record(True) for _ in range(OUTAGE_THRESHOLD)][-1] == 0.01
    assert breaker.admit() > 0 and breaker.paused() > 0
    assert breaker.record(True) is None  # a call already on the wire: no longer pause

    pauses = []
    for _ in range(4):
        time.sleep(breaker.paused() + 0.005)
        assert breaker.admit() == 0  # the probe goes...
        assert breaker.admit() == _Breaker.PROBE_POLL  # ...alone
        pauses.append(breaker.record(True))
    assert pauses == [0.02, 0.04, 0.04, 0.04]

    assert breaker.record(False) is None  # Slack answered: closed at once
    assert (breaker.admit(), breaker.admit(), breaker.paused()) == (0, 0, 0)
    assert [breaker.record(True) for _ in range(OUTAGE_THRESHOLD)] == [None, None, 0.01]
