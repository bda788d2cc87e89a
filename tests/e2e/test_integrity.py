"""Requests that cannot be replayed or forged: the same signed bytes twice, edited
private_metadata, another workspace's ids, shapes Slack never sends, text that grows
when escaped and a crash between Slack taking a card and copbot saving where it is."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import select

from bot.config import Settings
from bot.ideas import publish
from bot.slack import WebClientPort
from slacktwin import SlackDriver, SlackTwin
from storage import Database, Idea, OutboxMessage, PulseRun, Reflection, utcnow
from tests.support import CHANNEL, LEAD, MEMBER, TEAM, make_settings

FOREIGN_TEAM = "T0FOREIGN"
FOREIGN_LEAD = "U0FOREIGN"  # a lead of another workspace (named in COPBOT_LEADS)


@pytest.fixture
def settings(twin: SlackTwin, database_url: str) -> Settings:
    return make_settings(
        twin, database_url, copbot_ideas_channel=CHANNEL, copbot_leads=f"{LEAD},{FOREIGN_LEAD}"
    )


class Recorder:
    """Keeps the exact bytes and headers of each request the driver sends."""

    def __init__(self, driver: SlackDriver) -> None:
        self.requests: list[httpx.Request] = []
        driver.http.event_hooks["request"].append(self.requests.append)

    def replay(self, driver: SlackDriver, request: httpx.Request) -> httpx.Response:
        return driver.http.post(request.url, content=request.content, headers=request.headers)


def tamper_modal(twin: SlackTwin, user: str, **fields: Any) -> None:
    """What a person editing their own submission in flight can do to the open modal."""
    view = twin.current_modal(user)
    assert view is not None
    with twin.ws.lock:
        twin.ws.views[view["id"]].update(fields)


def send_form(driver: SlackDriver, payload: dict[str, Any]) -> httpx.Response:
    body = "payload=" + quote(json.dumps(payload))
    return driver.send_raw(body.encode(), "application/x-www-form-urlencoded")


def cards(twin: SlackTwin) -> list[dict[str, Any]]:
    return [m for m in twin.messages(CHANNEL) if m.get("bot_id") and m.get("blocks")]


# ----------------------------------------------------------------------------- replays


def test_a_replayed_command_has_no_second_effect(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    recorder = Recorder(driver)
    first = driver.command(MEMBER, "/copbot", "learned Shadowing a paramedic changed my referrals")
    assert first.status_code == 200
    again = recorder.replay(driver, recorder.requests[-1])
    assert again.status_code == 401
    with database.session() as session:
        assert len(session.exec(select(Reflection)).all()) == 1


def test_a_replayed_event_is_acknowledged_and_handled_once(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    recorder = Recorder(driver)
    driver.app_home_opened(MEMBER)
    # The twin shows the view before it logs the call: wait for the logged call.
    twin.wait_for(lambda: twin.calls_to("views.publish"), message="home")
    published = len(twin.calls_to("views.publish"))
    assert recorder.replay(driver, recorder.requests[-1]).status_code == 200
    assert len(twin.calls_to("views.publish")) == published


# ----------------------------------------------------------------------------- private_metadata


def open_idea_modal(driver: SlackDriver, twin: SlackTwin, user: str) -> None:
    driver.command(user, "/idea", "", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(user) is not None, message="idea modal")
    driver.fill(user, {"Title": "Protected time for QI on every ward"})


@pytest.mark.parametrize(
    "forged",
    [
        {"credited_author": LEAD},
        {"source_permalink": "https://x.invalid|<!channel>"},
    ],
)
def test_edited_private_metadata_is_refused_and_changes_nothing(
    driver: SlackDriver, twin: SlackTwin, database: Database, forged: dict[str, str]
) -> None:
    open_idea_modal(driver, twin, MEMBER)
    tamper_modal(twin, MEMBER, private_metadata=json.dumps(forged))
    result = driver.submit(MEMBER)
    assert result.status == 200
    assert "nothing was changed" in json.dumps(result.view)
    with database.session() as session:
        assert not session.exec(select(Idea)).all()
    assert not cards(twin)


def test_a_seal_moved_to_another_kind_of_form_is_refused(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    """The idea form's genuine seal pasted into a pulse answer form (which would redraw
    whatever message its metadata names) is not accepted."""
    open_idea_modal(driver, twin, MEMBER)
    sealed = twin.current_modal(MEMBER)["private_metadata"]
    tamper_modal(twin, MEMBER, callback_id="pulse_form")
    result = driver.submit(MEMBER)
    assert "nothing was changed" in json.dumps(result.view)
    assert sealed and not twin.calls_to("chat.update")


def test_a_genuine_seal_works_and_a_forged_permalink_never_reaches_a_card(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    open_idea_modal(driver, twin, MEMBER)
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: cards(twin), message="the card")
    from bot.ideas.rules import is_slack_permalink

    assert not is_slack_permalink("https://x.invalid|<!channel>")
    assert not is_slack_permalink("https://evil.example/archives/C1/p1")
    assert is_slack_permalink("https://test.slack.com/archives/C0IDEAS01/p1700000000000100")


# ----------------------------------------------------------------------------- other teams


def foreign_click(driver: SlackDriver, action: dict[str, Any]) -> httpx.Response:
    """A lead of another workspace presses a button carrying this workspace's ids."""
    return send_form(
        driver,
        {
            "type": "block_actions",
            "team": {"id": FOREIGN_TEAM, "domain": "elsewhere"},
            "user": {
                "id": FOREIGN_LEAD,
                "username": "eve",
                "name": "eve",
                "team_id": FOREIGN_TEAM,
            },
            "api_app_id": "A0COPBOT",
            "token": "legacy",
            "trigger_id": driver.ws.issue_trigger(FOREIGN_LEAD, "message"),
            "actions": [action],
        },
    )


@pytest.fixture
def open_run(driver: SlackDriver, twin: SlackTwin, database: Database) -> int:
    """An open run of this workspace's weekly 'secretplans' pulse."""
    for user in (LEAD, MEMBER):
        driver.command(user, "/copbot", "help", channel=CHANNEL)
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "secretplans",
            "Audience": "Everyone",
            "Your own questions": "Which ward closes first?",
            "Schedule": "Weekly",
            "Day": "Monday",
            "Time": "09:30",
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "every week" in json.dumps(twin.dms(LEAD)), message="scheduled")
    driver.command(LEAD, "/pulse", "send-now secretplans", channel=CHANNEL)
    with database.session() as session:
        run_id = twin.wait_for(lambda: session.exec(select(PulseRun.id)).first())
    return int(run_id)


def test_another_workspace_cannot_see_a_pulse_through_its_ids(
    driver: SlackDriver, twin: SlackTwin, open_run: int
) -> None:
    twin.reset_calls()
    close_the_loop = {
        "type": "button",
        "action_id": "pulse_respond",
        "block_id": "b",
        "value": str(open_run),
        "action_ts": "1",
    }
    answer = {
        **close_the_loop,
        "action_id": "pulse_open_form",
        "value": json.dumps({"r": open_run}),
    }
    for action in (close_the_loop, answer):
        response = foreign_click(driver, action)
        assert response.status_code == 200
    shown = json.dumps([c.args for c in twin.calls_to("views.open")])
    assert "secretplans" not in shown and "Which ward" not in shown


def test_copbot_schedule_lists_no_other_workspace_s_pulses(
    driver: SlackDriver, twin: SlackTwin, open_run: int
) -> None:
    ours = driver.command(LEAD, "/copbot", "schedule", channel=CHANNEL)
    assert "secretplans" in ours.text  # the job is there, and this workspace sees it
    theirs = send_form_command(driver, FOREIGN_LEAD, FOREIGN_TEAM, "/copbot", "schedule")
    assert theirs.status_code == 200 and "Upcoming" in theirs.text
    assert "secretplans" not in theirs.text


def send_form_command(
    driver: SlackDriver, user: str, team: str, command: str, text: str
) -> httpx.Response:
    from urllib.parse import urlencode

    fields = {
        "team_id": team,
        "team_domain": "elsewhere",
        "channel_id": "C0ELSEWHERE",
        "channel_name": "general",
        "user_id": user,
        "user_name": "eve",
        "command": command,
        "text": text,
        "api_app_id": "A0COPBOT",
        "trigger_id": driver.ws.issue_trigger(user, "command"),
        "response_url": "https://hooks.slack.invalid/commands/1",
    }
    return driver.send_raw(urlencode(fields).encode(), "application/x-www-form-urlencoded")


# ----------------------------------------------------------------------------- odd shapes


def test_shapes_slack_never_sends_get_400_and_change_nothing(
    driver: SlackDriver, database: Database
) -> None:
    user = {"id": MEMBER, "username": "max", "name": "max", "team_id": TEAM}
    no_type = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": user,
        "view": {"id": "V1", "callback_id": "idea_new", "state": {"values": {}}},
    }
    assert send_form(driver, no_type).status_code == 400
    as_json = {"type": "block_actions", "team": {"id": TEAM}, "user": user, "actions": "x"}
    assert driver.send_raw(json.dumps(as_json), "application/json").status_code == 400
    body = b"command=%2Fcopbot&text=help&user_id=U1&team_id=T1"
    signed = driver.signed_headers(body)
    superscript = {**signed, "X-Slack-Request-Timestamp": ("¹" * 10).encode("latin-1")}
    form = "application/x-www-form-urlencoded"
    assert driver.send_raw(body, form, superscript, sign=False).status_code == 401
    with database.session() as session:
        assert not session.exec(select(Reflection)).all()


# ----------------------------------------------------------------------------- limits


def test_a_description_that_grows_when_escaped_still_posts_its_card(
    driver: SlackDriver, twin: SlackTwin
) -> None:
    driver.command(MEMBER, "/idea", "", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="idea modal")
    driver.fill(MEMBER, {"Title": "Ampersands", "Description": "&" * 2900})
    assert not driver.submit(MEMBER).errors
    card = twin.wait_for(lambda: cards(twin), message="the card")[0]
    section = next(b for b in card["blocks"] if b["type"] == "section" and "text" in b)
    assert len(section["text"]["text"]) <= 3000
    assert section["text"]["text"].endswith("&amp;…")


# ----------------------------------------------------------------------------- post window


def test_a_card_slack_took_before_a_crash_is_linked_redrawn_and_its_author_thanked(
    twin: SlackTwin, database: Database, slack_port: WebClientPort
) -> None:
    """kill -9 between Slack's answer and the saved ts leaves an idea with no card_ts and a
    card in the channel; the recovery job links them, redraws and thanks the author."""
    with database.session() as session:
        idea = Idea(
            team_id=TEAM,
            title="Discharge lounge open at weekends",
            author_id=MEMBER,
            submitted_by=MEMBER,
            channel_id=CHANNEL,
            supporter_count=2,  # two Supports pressed while the card had no ts
        )
        from bot.workspaces import ensure_workspace

        ensure_workspace(session, TEAM)
        session.add(idea)
        session.flush()
        # What the dead process got done: Slack took the card (with its key) ...
        text, blocks = "Idea", [{"type": "section", "text": {"type": "mrkdwn", "text": "old"}}]
        metadata = {
            "event_type": publish.CARD_EVENT,
            "event_payload": {"key": publish.card_key(idea)},
        }
        posted = slack_port.post_message(CHANNEL, text, blocks=blocks, metadata=metadata)
        idea_id = idea.id
    # ... and a later message lands above it in the channel.
    slack_port.post_message(CHANNEL, "something else")

    assert publish.recover_unposted_cards(database, slack_port) == 0  # still in its window
    later = utcnow() + publish.POST_WINDOW * 2
    assert publish.recover_unposted_cards(database, slack_port, now=later) == 1
    with database.session() as session:
        idea = session.get(Idea, idea_id)
        assert idea is not None and idea.card_ts == posted and idea.permalink
        thanks = session.exec(select(OutboxMessage).where(OutboxMessage.channel == MEMBER)).one()
        assert "is posted" in thanks.text
    card = json.dumps(twin.message(CHANNEL, posted))
    assert "2 supporters" in card and "Discharge lounge" in card
    assert len([m for m in twin.messages(CHANNEL) if m.get("blocks")]) == 1  # no second card
    assert publish.recover_unposted_cards(database, slack_port, now=later) == 0
