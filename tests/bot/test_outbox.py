"""The outbox against the Slack twin with a real WebClient: each message reaches Slack once,
through rate limits, server errors, lost answers, dead workers and members who left."""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import text
from sqlmodel import select

from bot.platform import outbox
from bot.platform.outbox import EVENT_TYPE, Deliverer, DeliveryHalted, DeliveryReport
from bot.slack import make_web_client
from slacktwin import SlackTwin
from storage import Database, NudgePreference, OutboxMessage, OutboxStatus, utcnow
from tests.conftest import POSTGRES_URL
from tests.support import BOT_TOKEN, CHANNEL, MEMBER, OTHER, TEAM

LEASE = timedelta(seconds=60)


# --------------------------------------------------------------------------- helpers


def client_for(twin: SlackTwin, *, token: str = BOT_TOKEN, timeout: int = 5) -> WebClient:
    return WebClient(token=token, base_url=twin.api_url, timeout=timeout)


def add_members(twin: SlackTwin, count: int, prefix: str = "U0OUT") -> list[str]:
    users = [f"{prefix}{n:04d}" for n in range(count)]
    for user in users:
        twin.add_user(user, name=user.lower(), real_name=f"Member {user}")
    return users


def queue_dms(
    database: Database, users: list[str], *, kind: str = "pulse.reminder", **extra: object
) -> list[str]:
    keys = []
    with database.session() as session:
        for user in users:
            key = f"{user}:{kind}:2026-W47"
            assert outbox.enqueue(
                session,
                team_id=TEAM,
                key=key,
                kind=kind,
                channel=user,
                user_id=user,
                text=f"Hello {user}, how is this week going?",
                **extra,  # type: ignore[arg-type]
            )
            keys.append(key)
    return keys


def keys_in(twin: SlackTwin, channel: str) -> list[str]:
    """The outbox keys of the messages in a conversation (a user ID means the app's DM)."""
    return [
        m["metadata"]["event_payload"]["key"]
        for m in twin.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    ]


def rows_by_key(database: Database) -> dict[str, OutboxMessage]:
    with database.session() as session:
        return {row.key: row for row in session.exec(select(OutboxMessage)).all()}


def total(reports: list[DeliveryReport]) -> DeliveryReport:
    summed = DeliveryReport()
    for report in reports:
        for name, value in report.as_dict().items():
            setattr(summed, name, getattr(summed, name) + value)
    return summed


def drain(
    deliverer: Deliverer, database: Database, *, now: datetime | None = None, rounds: int = 40
) -> DeliveryReport:
    """run_once until nothing is due or in flight (bounded), summing the reports."""
    reports = []
    for _ in range(rounds):
        reports.append(deliverer.run_once(now=now))
        with database.session() as session:
            left = outbox.backlog(session, now=now)
        if left["pending_due"] == 0 and left["sending"] == 0:
            return total(reports)
    raise AssertionError(f"outbox not drained after {rounds} rounds: {left}")


def posts(twin: SlackTwin) -> list[object]:
    return [c for c in twin.calls_to("chat.postMessage") if c.ok]


@pytest.fixture
def deliverers(database: Database) -> Iterator[list[Deliverer]]:
    made: list[Deliverer] = []
    yield made
    for deliverer in made:
        deliverer.close()


def make(
    deliverers: list[Deliverer], database: Database, client: WebClient, **options: object
) -> Deliverer:
    options.setdefault("worker_id", f"test-{len(deliverers)}")
    deliverer = Deliverer(database, client, **options)  # type: ignore[arg-type]
    deliverers.append(deliverer)
    return deliverer


# --------------------------------------------------------------------------- enqueue


def test_enqueue_is_idempotent_on_the_key(database: Database) -> None:
    with database.session() as session:
        first = outbox.enqueue(
            session, team_id=TEAM, key="k1", kind="digest.weekly", channel=CHANNEL, text="one"
        )
        again = outbox.enqueue(
            session, team_id=TEAM, key="k1", kind="digest.weekly", channel=CHANNEL, text="two"
        )
    assert (first, again) == (True, False)
    rows = rows_by_key(database)
    assert list(rows) == ["k1"]
    assert rows["k1"].text == "one"
    assert rows["k1"].status == OutboxStatus.PENDING


def test_enqueue_refuses_values_the_table_cannot_hold(database: Database) -> None:
    with database.session() as session:
        for bad in (
            {"key": "k" * 201},
            {"key": ""},
            {"text": "x" * 4001},
            {"due_at": datetime(2026, 1, 1)},
        ):
            values: dict[str, object] = {"key": "k", "text": "t", **bad}
            with pytest.raises(ValueError):
                outbox.enqueue(
                    session,
                    team_id=TEAM,
                    kind="x",
                    channel=CHANNEL,
                    **values,  # type: ignore[arg-type]
                )
    assert rows_by_key(database) == {}


# --------------------------------------------------------------------------- delivery


def test_each_member_gets_one_dm_with_its_key_and_no_tier3_calls(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 30)
    keys = queue_dms(database, users)
    deliverer = make(deliverers, database, client_for(twin), batch=10, concurrency=4)

    report = drain(deliverer, database)

    assert report.sent == 30 and report.retried == 0 and report.undeliverable == 0
    rows = rows_by_key(database)
    for user, key in zip(users, keys, strict=True):
        assert keys_in(twin, user) == [key]
        row = rows[key]
        assert row.status == OutboxStatus.SENT
        assert row.sent_channel == twin.dm_channel(user)
        assert row.sent_ts == twin.dms(user)[0]["ts"]
        assert row.attempts == 1
    assert len(posts(twin)) == 30
    # Posting to a user ID reaches the DM: no Tier 3 call per member at send time.
    assert twin.calls_to("conversations.open") == []
    assert twin.calls_to("conversations.history") == []
    with database.session() as session:
        assert outbox.backlog(session) == {"pending_due": 0, "pending_later": 0, "sending": 0}


def test_channel_messages_and_blocks_go_out_with_metadata(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Digest* for the week"}}]
    with database.session() as session:
        for week in (46, 47):
            outbox.enqueue(
                session,
                team_id=TEAM,
                key=f"digest:{week}",
                kind="digest.weekly",
                channel=CHANNEL,
                text=f"Digest {week}",
                blocks=blocks,
                essential=True,
            )
    deliverer = make(deliverers, database, client_for(twin))

    drain(deliverer, database)

    assert keys_in(twin, CHANNEL) == ["digest:46", "digest:47"]
    assert twin.messages(CHANNEL)[0]["blocks"][0]["text"]["text"] == "*Digest* for the week"


def test_a_message_due_later_waits_for_its_time(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    now = utcnow()
    queue_dms(database, [MEMBER], due_at=now + timedelta(hours=1))
    deliverer = make(deliverers, database, client_for(twin))

    assert deliverer.run_once(now=now).claimed == 0
    with database.session() as session:
        assert outbox.backlog(session, now=now) == {
            "pending_due": 0,
            "pending_later": 1,
            "sending": 0,
        }
    assert twin.dms(MEMBER) == []

    assert deliverer.run_once(now=now + timedelta(hours=1, seconds=1)).sent == 1
    assert len(keys_in(twin, MEMBER)) == 1


def test_run_forever_delivers_and_stops_when_asked(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 5)
    keys = queue_dms(database, users)
    deliverer = make(deliverers, database, client_for(twin), idle_interval=0.05)
    stop = threading.Event()
    worker = threading.Thread(target=deliverer.run_forever, args=(stop,))
    worker.start()
    try:
        twin.wait_for(lambda: all(keys_in(twin, u) for u in users), timeout=5)
        # A message enqueued while the worker idles goes out on its next look.
        with database.session() as session:
            outbox.enqueue(
                session, team_id=TEAM, key="late", kind="x", channel=CHANNEL, text="late"
            )
        twin.wait_for(lambda: keys_in(twin, CHANNEL) == ["late"], timeout=5)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert all(rows_by_key(database)[k].status == OutboxStatus.SENT for k in keys)


# --------------------------------------------------------------------------- rate limits


def test_429_pauses_every_sender_for_retry_after_and_loses_nothing(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 12)
    keys = queue_dms(database, users)
    twin.ratelimit("chat.postMessage", retry_after=1, times=3)
    deliverer = make(deliverers, database, client_for(twin), batch=12, concurrency=4)

    report = drain(deliverer, database)

    assert report.sent == 12
    assert report.rate_limit_waits >= 1
    assert report.retried == 0  # a 429 is a wait, not a failed attempt
    for user, key in zip(users, keys, strict=True):
        assert keys_in(twin, user) == [key]
    assert all(row.attempts == 1 for row in rows_by_key(database).values())
    calls = twin.calls_to("chat.postMessage")
    limited = [c for c in calls if c.status == 429]
    assert len(limited) == 3
    # Honoured: once the first 429 was in, no sender called again within its Retry-After
    # (calls already on the wire then may land just after it).
    first = limited[0].at
    assert not [c for c in calls if first + 0.2 < c.at < first + 0.95]
    assert len([c for c in calls if c.at >= first + 0.95]) >= 8


def test_workspace_rate_limit_is_followed_without_loss_or_duplicate(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    twin.set_rate_limit("chat.postMessage", per_minute=600, burst=5)  # 10/s, small burst
    users = add_members(twin, 12)
    keys = queue_dms(database, users)
    deliverer = make(deliverers, database, client_for(twin), batch=12, concurrency=6)

    report = drain(deliverer, database)

    assert report.sent == 12 and report.rate_limit_waits >= 1
    assert Counter(k for u in users for k in keys_in(twin, u)) == Counter(keys)


def test_a_default_client_with_retry_handlers_is_used_without_them(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    """slack_sdk's handlers would retry a 5xx or a dropped connection blindly, and sleep one
    thread per 429; the deliverer copies the client without them."""
    deliverer = make(deliverers, database, make_web_client(BOT_TOKEN, twin.api_url))
    assert deliverer.client.retry_handlers == []
    assert deliverer.client.base_url == twin.api_url


# --------------------------------------------------------------------------- failures


def test_server_error_is_checked_in_slack_then_sent_once(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    [key] = queue_dms(database, [MEMBER])
    twin.fail("chat.postMessage", status=500, times=1)
    deliverer = make(deliverers, database, client_for(twin))

    first = deliverer.run_once()
    assert (first.sent, first.retried) == (0, 1)
    row = rows_by_key(database)[key]
    assert row.status == OutboxStatus.SENDING  # awaiting a check: Slack may have posted it
    assert row.last_error is not None and "internal_error" in row.last_error
    assert deliverer.run_once().claimed == 0  # not before its backoff

    later = drain(deliverer, database, now=utcnow() + timedelta(seconds=3))

    assert (later.requeued, later.sent) == (1, 1)
    assert keys_in(twin, MEMBER) == [key]
    row = rows_by_key(database)[key]
    assert row.status == OutboxStatus.SENT and row.attempts == 2
    # The check looked at the DM once; the DM id is now cached for the member.
    assert len(twin.calls_to("conversations.history")) == 1
    with database.session() as session:
        preference = session.exec(select(NudgePreference)).one()
    assert preference.dm_channel == twin.dm_channel(MEMBER)


def test_lost_answer_after_slack_posted_is_recorded_without_a_resend(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    """The client times out but Slack posts the message anyway."""
    [key] = queue_dms(database, [MEMBER])
    twin.fail("chat.postMessage", timeout=1.5, times=1)
    deliverer = make(deliverers, database, client_for(twin, timeout=1))

    assert deliverer.run_once().retried == 1
    twin.wait_for(lambda: twin.dms(MEMBER), timeout=5)
    # With no answer, Slack gets half a lease to finish before anyone looks.
    assert deliverer.run_once(now=utcnow() + timedelta(seconds=20)).busy is False

    later = drain(deliverer, database, now=utcnow() + timedelta(seconds=31))

    assert (later.recovered, later.sent, later.requeued) == (1, 0, 0)
    assert keys_in(twin, MEMBER) == [key]
    row = rows_by_key(database)[key]
    assert row.status == OutboxStatus.SENT
    assert row.sent_ts == twin.dms(MEMBER)[0]["ts"]


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_slack_is_retried_with_backoff_then_given_up(
    database: Database,
    twin: SlackTwin,
    deliverers: list[Deliverer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    [key] = queue_dms(database, [MEMBER])
    nowhere = WebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{unused_port()}/api/")
    deliverer = make(deliverers, database, nowhere, max_attempts=3)
    now = utcnow()

    assert deliverer.run_once(now=now).retried == 1
    row = rows_by_key(database)[key]
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.due_at >= now + timedelta(seconds=2)
    assert deliverer.run_once(now=now).claimed == 0

    assert deliverer.run_once(now=now + timedelta(seconds=3)).retried == 1
    with caplog.at_level(logging.ERROR, logger="bot.platform.outbox"):
        last = deliverer.run_once(now=now + timedelta(minutes=1))
    assert last.undeliverable == 1
    row = rows_by_key(database)[key]
    assert row.status == OutboxStatus.UNDELIVERABLE and row.attempts == 3
    assert row.last_error is not None and row.last_error.startswith("gave up after 3 attempts")
    assert any(key in r.getMessage() for r in caplog.records)
    # A connection problem is not the member's fault: they are not marked.
    with database.session() as session:
        assert session.exec(select(NudgePreference)).all() == []
    assert deliverer.run_once(now=now + timedelta(hours=1)).claimed == 0


def test_member_who_left_is_marked_undeliverable_and_not_retried(
    database: Database,
    twin: SlackTwin,
    deliverers: list[Deliverer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = "U0GONE001"  # not in the workspace: Slack answers channel_not_found
    queue_dms(database, [gone, MEMBER])
    queue_dms(database, [gone], kind="challenge.opening")
    deliverer = make(deliverers, database, client_for(twin), batch=1)

    with caplog.at_level(logging.WARNING, logger="bot.platform.outbox"):
        report = drain(deliverer, database)

    assert report.sent == 1
    rows = rows_by_key(database)
    for key, row in rows.items():
        expected = OutboxStatus.SENT if key.startswith(MEMBER) else OutboxStatus.UNDELIVERABLE
        assert row.status == expected, key
    # One failed call: the member's other pending message ended without another.
    failed = [c for c in twin.calls_to("chat.postMessage") if c.args.get("channel") == gone]
    assert len(failed) == 1
    with database.session() as session:
        preference = session.exec(
            select(NudgePreference).where(NudgePreference.user_id == gone)
        ).one()
    assert preference.undeliverable_since is not None
    assert preference.undeliverable_reason == "channel_not_found"
    lines = [r.getMessage() for r in caplog.records if gone in r.getMessage()]
    assert len(lines) == 1 and "channel_not_found" in lines[0]
    assert "how is this week going" not in lines[0]  # never the message text
    assert BOT_TOKEN not in caplog.text

    assert deliverer.run_once(now=utcnow() + timedelta(days=1)).claimed == 0
    assert len(twin.calls_to("chat.postMessage")) == 2


def test_blocked_app_marks_an_existing_preference(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    with database.session() as session:
        session.add(NudgePreference(team_id=TEAM, user_id=OTHER, weekly_budget=2))
    [key] = queue_dms(database, [OTHER])
    twin.fail("chat.postMessage", status=400, error="messages_tab_disabled")
    deliverer = make(deliverers, database, client_for(twin))

    assert deliverer.run_once().undeliverable == 1

    assert rows_by_key(database)[key].last_error == "messages_tab_disabled"
    with database.session() as session:
        preference = session.exec(select(NudgePreference)).one()
    assert preference.undeliverable_reason == "messages_tab_disabled"
    assert preference.weekly_budget == 2


def test_a_malformed_message_is_undeliverable_but_the_member_is_not(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    [key] = queue_dms(database, [MEMBER], blocks=[{"type": "no_such_block"}])
    deliverer = make(deliverers, database, client_for(twin))

    assert deliverer.run_once().undeliverable == 1

    row = rows_by_key(database)[key]
    assert row.status == OutboxStatus.UNDELIVERABLE and row.last_error == "invalid_blocks"
    with database.session() as session:
        assert session.exec(select(NudgePreference)).all() == []


def test_a_refused_token_stops_delivery_loudly_and_keeps_the_rows(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 3)
    keys = queue_dms(database, users)
    deliverer = make(deliverers, database, client_for(twin, token="xoxb-revoked"))

    with pytest.raises(DeliveryHalted, match="invalid_auth"):
        deliverer.run_once()
    with pytest.raises(DeliveryHalted):
        deliverer.run_forever(threading.Event())

    rows = rows_by_key(database)
    assert all(rows[k].status == OutboxStatus.PENDING and rows[k].attempts == 0 for k in keys)
    with database.session() as session:
        assert session.exec(select(NudgePreference)).all() == []


def test_stopping_while_rate_limited_gives_the_rows_back(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 4)
    keys = queue_dms(database, users)
    twin.ratelimit("chat.postMessage", retry_after=30, times=10)
    deliverer = make(deliverers, database, client_for(twin), concurrency=2)
    stop = threading.Event()
    worker = threading.Thread(target=deliverer.run_forever, args=(stop,))
    worker.start()
    twin.wait_for(lambda: twin.calls_to("chat.postMessage"), timeout=5)
    stop.set()
    worker.join(timeout=5)

    assert not worker.is_alive()
    rows = rows_by_key(database)
    assert all(rows[k].status == OutboxStatus.PENDING and rows[k].attempts == 0 for k in keys)
    assert posts(twin) == []


# --------------------------------------------------------------------------- crash recovery


def leave_in_flight(database: Database, key: str, *, claimed_at: datetime) -> None:
    """What a worker killed between claiming and recording leaves behind."""
    with database.session() as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()
        row.status = OutboxStatus.SENDING
        row.claimed_by = "dead-worker"
        row.claimed_at = claimed_at
        row.attempts = 1
        session.add(row)


def test_crash_between_send_and_record_is_recovered_without_a_second_message(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 3)
    sent_key, unsent_key, fresh_key = queue_dms(database, users)
    old = utcnow() - timedelta(minutes=5)
    # Sent but not recorded: the message is in Slack with its key, the row still "sending".
    posted = client_for(twin).chat_postMessage(
        channel=users[0],
        text="Hello",
        metadata={"event_type": EVENT_TYPE, "event_payload": {"key": sent_key}},
    )
    leave_in_flight(database, sent_key, claimed_at=old)
    # Claimed but never sent.
    leave_in_flight(database, unsent_key, claimed_at=old)
    twin.reset_calls()
    deliverer = make(deliverers, database, client_for(twin))

    report = drain(deliverer, database)

    assert (report.recovered, report.requeued, report.sent) == (1, 1, 2)
    assert keys_in(twin, users[0]) == [sent_key]
    assert keys_in(twin, users[1]) == [unsent_key]
    assert keys_in(twin, users[2]) == [fresh_key]
    rows = rows_by_key(database)
    assert rows[sent_key].sent_ts == posted["ts"]
    assert rows[sent_key].status == OutboxStatus.SENT
    assert rows[unsent_key].attempts == 2
    # Recovery read each DM once; the first needed conversations.open, then it was cached.
    assert len(twin.calls_to("conversations.history")) == 2
    with database.session() as session:
        cached = {p.user_id: p.dm_channel for p in session.exec(select(NudgePreference))}
    assert cached[users[0]] == twin.dm_channel(users[0])


def test_a_live_claim_is_left_alone_until_its_lease_runs_out(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    [key] = queue_dms(database, [MEMBER])
    now = utcnow()
    leave_in_flight(database, key, claimed_at=now - timedelta(seconds=10))
    deliverer = make(deliverers, database, client_for(twin))

    assert deliverer.run_once(now=now).busy is False
    assert twin.calls_to("conversations.history") == []
    with database.session() as session:
        assert outbox.backlog(session, now=now)["sending"] == 1

    report = drain(deliverer, database, now=now + LEASE)
    assert (report.requeued, report.sent) == (1, 1)
    assert keys_in(twin, MEMBER) == [key]


def test_a_row_held_by_a_long_rate_limit_keeps_its_claim(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    """A sender waiting out Retry-After renews its claim, so recovery (here another worker's)
    never takes a row that is about to be sent."""
    [key] = queue_dms(database, [MEMBER])
    lease = timedelta(seconds=2)
    holder = make(deliverers, database, client_for(twin), lease=lease, worker_id="holder")
    other = make(deliverers, database, client_for(twin), lease=lease, worker_id="other")
    twin.ratelimit("chat.postMessage", retry_after=3)
    reports: list[DeliveryReport] = []
    sending = threading.Thread(target=lambda: reports.append(holder.run_once()))
    sending.start()
    twin.wait_for(lambda: twin.calls_to("chat.postMessage"), timeout=5)
    while sending.is_alive():
        assert other.run_once().busy is False
        sending.join(timeout=0.2)

    assert reports[0].sent == 1
    assert keys_in(twin, MEMBER) == [key]
    assert twin.calls_to("conversations.history") == []
    assert rows_by_key(database)[key].claimed_by == "holder"


def test_recovery_waits_out_a_rate_limit_on_history(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 2)
    keys = queue_dms(database, users)
    for key in keys:
        leave_in_flight(database, key, claimed_at=utcnow() - timedelta(minutes=5))
    twin.ratelimit("conversations.history", retry_after=1, times=1)
    deliverer = make(deliverers, database, client_for(twin))

    first = deliverer.run_once()
    assert first.rate_limit_waits == 1 and first.requeued == 0
    assert deliverer.run_once().requeued == 0  # recovery waits; nothing else is blocked

    requeued = twin.wait_for(lambda: deliverer.run_once().requeued, timeout=5)
    report = drain(deliverer, database)
    assert requeued + report.requeued == 2
    for user, key in zip(users, keys, strict=True):
        assert keys_in(twin, user) == [key]


# --------------------------------------------------------------------------- several workers


@pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="two workers claiming at once needs PostgreSQL (SKIP LOCKED); set TEST_DATABASE_URL",
)
def test_two_workers_on_postgresql_never_send_a_message_twice(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 80)
    keys = queue_dms(database, users)
    # Some rows a dead worker left behind, half of them already in Slack.
    old = utcnow() - timedelta(minutes=5)
    client = client_for(twin)
    for key, user in list(zip(keys, users, strict=True))[:10]:
        if int(user[-2:]) % 2 == 0:
            client.chat_postMessage(
                channel=user,
                text="Hello",
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}},
            )
        leave_in_flight(database, key, claimed_at=old)
    workers = [
        make(deliverers, database, client_for(twin), worker_id=f"w{n}", batch=5, concurrency=3)
        for n in range(2)
    ]
    reports: dict[str, list[DeliveryReport]] = {w.worker_id: [] for w in workers}
    failures: list[BaseException] = []

    def work(deliverer: Deliverer) -> None:
        try:
            for _ in range(100):
                reports[deliverer.worker_id].append(deliverer.run_once())
                with database.session() as session:
                    left = outbox.backlog(session)
                if left["pending_due"] == 0 and left["sending"] == 0:
                    return
        except BaseException as error:  # surfaced below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)

    assert not failures
    delivered = Counter(k for u in users for k in keys_in(twin, u))
    assert delivered == Counter(keys)  # every key exactly once
    rows = rows_by_key(database)
    assert all(row.status == OutboxStatus.SENT for row in rows.values())
    summed = total([r for rs in reports.values() for r in rs])
    assert summed.recovered == 5 and summed.requeued == 5
    assert summed.sent + summed.recovered == 80
    assert {row.claimed_by for row in rows.values()} <= {"w0", "w1"}


@pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="row locks and SKIP LOCKED are PostgreSQL's; set TEST_DATABASE_URL",
)
def test_a_worker_skips_rows_another_worker_is_claiming(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 6)
    keys = queue_dms(database, users)
    deliverer = make(deliverers, database, client_for(twin))
    reports: list[DeliveryReport] = []
    # Another worker is mid-claim: it holds row locks on the three oldest rows.
    with database.engine.connect() as other:
        transaction = other.begin()
        locked = (
            other.execute(text("SELECT key FROM outbox ORDER BY due_at, id LIMIT 3 FOR UPDATE"))
            .scalars()
            .all()
        )
        worker = threading.Thread(target=lambda: reports.append(deliverer.run_once()))
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive()  # skipped the locked rows instead of waiting
        transaction.rollback()

    assert reports[0].sent == 3
    assert set(locked) == set(keys[:3])
    assert all(keys_in(twin, u) == [] for u in users[:3])
    assert [keys_in(twin, u) for u in users[3:]] == [[k] for k in keys[3:]]
    assert drain(deliverer, database).sent == 3
    assert Counter(k for u in users for k in keys_in(twin, u)) == Counter(keys)


# --------------------------------------------------------------------------- metrics


def test_backlog_and_metrics_count_the_work(
    database: Database, twin: SlackTwin, deliverers: list[Deliverer]
) -> None:
    users = add_members(twin, 3)
    queue_dms(database, users[:2])
    now = utcnow()
    queue_dms(database, users[2:], due_at=now + timedelta(days=1))
    with database.session() as session:
        assert outbox.backlog(session, now=now) == {
            "pending_due": 2,
            "pending_later": 1,
            "sending": 0,
        }
        assert outbox.backlog(session, now=now, team_id="T0OTHER") == {
            "pending_due": 0,
            "pending_later": 0,
            "sending": 0,
        }
    before = outbox.metrics()
    deliverer = make(deliverers, database, client_for(twin))

    deliverer.run_once(now=now)

    assert outbox.metrics()["sent"] - before["sent"] == 2
    assert deliverer.totals.sent == 2
    with database.session() as session:
        assert outbox.backlog(session, now=now)["pending_later"] == 1
