"""Rate limits, fault injection and the call log."""

from __future__ import annotations

import socket
import time
import urllib.error

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from slacktwin import RateLimits, SlackTwin


def test_rate_limit_answers_429_with_retry_after(twin: SlackTwin, client: WebClient) -> None:
    twin.set_rate_limit("users.info", per_minute=60, burst=1)
    client.users_info(user="U01NURSE")
    with pytest.raises(SlackApiError) as limited:
        client.users_info(user="U01NURSE")
    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "1"
    assert twin.calls_to("users.info")[-1].status == 429


def test_slack_sdk_retry_handler_recovers_from_429(twin: SlackTwin) -> None:
    twin.set_rate_limit("users.info", per_minute=60, burst=1)
    patient = WebClient(
        token="xoxb-twin",
        base_url=twin.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    patient.users_info(user="U01NURSE")
    started = time.monotonic()
    assert patient.users_info(user="U01NURSE")["user"]["id"] == "U01NURSE"
    assert time.monotonic() - started >= 0.9, "the client waited for Retry-After"
    assert [c.status for c in twin.calls_to("users.info")] == [200, 429, 200]


def test_post_message_is_limited_per_channel_not_per_workspace(
    twin: SlackTwin, client: WebClient
) -> None:
    statuses = []
    for i in range(6):
        try:
            client.chat_postMessage(channel="C01IDEAS", text=f"burst {i}")
            statuses.append(200)
        except SlackApiError as exc:
            statuses.append(exc.response.status_code)
    assert statuses[:4] == [200] * 4 and 429 in statuses[4:]
    # Another conversation has its own budget.
    assert client.chat_postMessage(channel="U01NURSE", text="still fine")["ok"]


def test_workspace_budget_and_config_objects() -> None:
    limits = RateLimits.from_mapping(
        {"post_message_workspace_per_minute": 60, "post_message_workspace_burst": 2}
    )
    with SlackTwin(rate_limits=limits) as twin:
        twin.add_user("U1", name="one")
        twin.add_user("U2", name="two")
        twin.add_user("U3", name="three")
        client = WebClient(token="xoxb-twin", base_url=twin.api_url)
        client.chat_postMessage(channel="U1", text="a")
        client.chat_postMessage(channel="U2", text="b")
        with pytest.raises(SlackApiError) as limited:
            client.chat_postMessage(channel="U3", text="c")
        assert limited.value.response.status_code == 429

    with SlackTwin(rate_limits=False) as free:
        client = WebClient(token="xoxb-twin", base_url=free.api_url)
        for _ in range(30):
            client.auth_test()

    with SlackTwin(rate_limits={"auth.test": (60, 1)}) as strict:
        client = WebClient(token="xoxb-twin", base_url=strict.api_url)
        client.auth_test()
        with pytest.raises(SlackApiError):
            client.auth_test()


def test_server_error_then_success(twin: SlackTwin, client: WebClient) -> None:
    twin.fail("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel="C01IDEAS", text="first try")
    assert failed.value.response.status_code == 500
    assert twin.messages("C01IDEAS") == []
    assert client.chat_postMessage(channel="C01IDEAS", text="second try")["ok"]

    twin.fail("chat.postMessage", status=503, times=2)
    retrying = WebClient(
        token="xoxb-twin",
        base_url=twin.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.05)
            )
        ],
    )
    retrying.chat_postMessage(channel="U01NURSE", text="third try")
    assert [c.status for c in twin.calls_to("chat.postMessage")][-3:] == [503, 503, 200]
    assert [m["text"] for m in twin.dms("U01NURSE")] == ["third try"]


def test_forced_ratelimit_and_clearing_faults(twin: SlackTwin, client: WebClient) -> None:
    twin.ratelimit("views.publish", retry_after=7, times=2)
    twin.fail("*", status=502)
    with pytest.raises(SlackApiError) as any_method:
        client.auth_test()
    assert any_method.value.response.status_code == 502
    with pytest.raises(SlackApiError) as limited:
        client.views_publish(user_id="U01NURSE", view={"type": "home", "blocks": []})
    assert limited.value.response.headers["Retry-After"] == "7"
    twin.clear_faults()
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    assert client.views_publish(user_id="U01NURSE", view=home)["ok"]


def test_slow_answer_times_the_client_out_but_takes_effect(
    twin: SlackTwin, client: WebClient
) -> None:
    twin.fail("chat.postMessage", timeout=0.6)
    impatient = WebClient(token="xoxb-twin", base_url=twin.api_url, timeout=0.2)
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        impatient.chat_postMessage(channel="C01IDEAS", text="slow")
    # Slack did the work even though the client gave up: the duplicate-post hazard.
    twin.wait_for(lambda: twin.messages("C01IDEAS"), timeout=2)
    assert client.chat_postMessage(channel="C01IDEAS", text="fast")["ok"]


def test_call_log_records_everything(twin: SlackTwin, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(SlackApiError):
        client.users_info(user="U404")
    calls = twin.calls
    assert [(c.method, c.status, c.ok) for c in calls] == [
        ("auth.test", 200, True),
        ("users.info", 200, False),
    ]
    assert calls[1].error == "user_not_found" and calls[1].args == {"user": "U404"}
    assert calls[0].at <= calls[1].at
    twin.reset_calls()
    assert twin.calls == []
