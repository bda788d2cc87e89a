"""The request path over real HTTP: signatures, shapes, acks, health and metrics."""

from __future__ import annotations

import hmac
import json
import re
import time
from hashlib import sha256

import httpx
from sqlalchemy import text
from sqlmodel import func, select

from slacktwin import SlackDriver, SlackTwin
from storage import Database, Member
from storage.migrate import head_revision
from tests.support import CHANNEL, MEMBER, SIGNING_SECRET, Copbot


def member_count(database: Database) -> int:
    with database.session() as session:
        return session.exec(select(func.count()).select_from(Member)).one()


def test_url_verification_echoes_the_challenge(driver: SlackDriver) -> None:
    response = driver.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


def test_copbot_help_is_answered_within_three_seconds(driver: SlackDriver) -> None:
    started = time.monotonic()
    response = driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    guide = json.dumps(reply["blocks"])
    for command in ("/idea", "/pulse", "/exchange", "/copbot privacy"):
        assert command in guide
    assert "For leads" not in guide  # a member sees the member guide
    assert elapsed < 3


def test_copbot_without_text_shows_the_guide_and_leads_see_more(driver: SlackDriver) -> None:
    from tests.support import LEAD

    reply = driver.command(LEAD, "/copbot", "", channel=CHANNEL).json()
    assert "For leads" in json.dumps(reply["blocks"])
    assert "/pulse send-now" in json.dumps(reply["blocks"])


def test_bad_signature_is_refused_and_changes_nothing(
    driver: SlackDriver, database: Database
) -> None:
    body = f"command=%2Fcopbot&text=help&user_id={MEMBER}&team_id=T0TESTICS".encode()
    response = driver.send_raw(
        body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )
    assert response.status_code == 401
    assert member_count(database) == 0


def test_stale_timestamp_is_refused(driver: SlackDriver, database: Database) -> None:
    body = f"command=%2Fcopbot&text=help&user_id={MEMBER}&team_id=T0TESTICS".encode()
    response = driver.send_raw(
        body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 6 * 60
    )
    assert response.status_code == 401
    assert member_count(database) == 0


def test_unsigned_request_is_refused(copbot) -> None:
    response = httpx.post(f"{copbot.url}/slack/events", content=b"command=/copbot")
    assert response.status_code == 401


def test_malformed_bodies_get_400(driver: SlackDriver, database: Database) -> None:
    for body, kind in [
        (b"{not json", "application/json"),
        (b'{"type": "event_callback"}', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
        (b"hello=world", "application/x-www-form-urlencoded"),
    ]:
        response = driver.send_raw(body, kind)
        assert response.status_code == 400, body
    assert member_count(database) == 0


def test_a_signed_body_that_is_not_utf8_gets_400(copbot) -> None:
    body, timestamp = b"\xff\xfe payload", str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, sha256)
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = httpx.post(f"{copbot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 400


def test_unknown_command_gets_a_friendly_answer(driver: SlackDriver) -> None:
    response = driver.command(MEMBER, "/unknowable", "", channel=CHANNEL)
    assert response.status_code == 200
    assert "/copbot help" in response.json()["text"]


def test_unknown_copbot_subcommand_gets_the_guide(driver: SlackDriver) -> None:
    reply = driver.command(MEMBER, "/copbot", "dance", channel=CHANNEL).json()
    assert "don't know" in reply["text"]
    assert "/idea" in json.dumps(reply["blocks"])


def test_healthz_tells_live_from_ready(copbot, database: Database) -> None:
    response = httpx.get(f"{copbot.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "migrated": True}
    assert httpx.get(f"{copbot.url}/healthz/ready").status_code == 200
    with database.engine.begin() as connection:  # as if new code ran on an old schema
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert httpx.get(f"{copbot.url}/healthz/ready").status_code == 503
    assert httpx.get(f"{copbot.url}/healthz/live").json() == {"status": "live"}
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
        )
    assert httpx.get(f"{copbot.url}/healthz").status_code == 200


def test_every_slack_request_gets_an_id_for_its_log_lines(driver: SlackDriver) -> None:
    reply = driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    assert re.fullmatch(r"[0-9a-f]{16}", reply.headers["x-copbot-request-id"])
    other = driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    assert other.headers["x-copbot-request-id"] != reply.headers["x-copbot-request-id"]


def test_metrics_count_requests_and_ack_latency(driver: SlackDriver, copbot) -> None:
    driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    driver.send_raw(b"nonsense", "application/json")
    metrics = httpx.get(f"{copbot.url}/metrics").text
    assert 'copbot_requests_total{kind="command",status="200"} 1.0' in metrics
    assert 'copbot_requests_total{kind="unknown",status="400"} 1.0' in metrics
    assert 'copbot_ack_seconds_bucket{kind="command",le="3.0"} 1.0' in metrics
    assert 'copbot_outbox_messages{state="pending_due"} 0.0' in metrics
    assert 'copbot_outbox_delivery_total{outcome="sent"}' in metrics


def test_first_contact_creates_the_member_from_their_profile(
    driver: SlackDriver, database: Database, twin: SlackTwin, copbot: Copbot
) -> None:
    driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    copbot.settle()
    with database.session() as session:
        member = session.exec(select(Member).where(Member.slack_user_id == MEMBER)).one()
    assert member.real_name == "Max Member"
    assert member.tz == "Europe/London"
    for _ in range(2):
        driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    copbot.settle()
    assert len([c for c in twin.calls_to("users.info") if c.args.get("user") == MEMBER]) == 1


def test_when_slack_cannot_describe_a_person_they_are_still_answered(
    driver: SlackDriver, database: Database, twin: SlackTwin
) -> None:
    twin.fail("users.info", status=500, times=10)
    response = driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    assert response.status_code == 200
    assert "/idea" in json.dumps(response.json())
    twin.clear_faults()
    driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)

    def real_name() -> str:
        with database.session() as session:
            query = select(Member.real_name).where(Member.slack_user_id == MEMBER)
            return session.exec(query).one()

    # Fetched again on the next contact, after the ack.
    twin.wait_for(lambda: real_name() == "Max Member", message="the profile is refreshed")
