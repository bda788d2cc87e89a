"""App Home over real HTTP with the twin: the view, profiles, settings, leads, roles."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from sqlmodel import select

from slacktwin import SlackDriver, SlackTwin
from storage import AuditEntry, Database, Member, Workspace
from tests.support import CHANNEL, LEAD, MEMBER, OTHER, TEAM, Copbot


def home_text(twin: SlackTwin, user: str) -> str:
    twin.wait_for(lambda: twin.home_view(user) is not None)
    view = twin.home_view(user)
    assert view is not None
    return json.dumps(view["blocks"])


def publishes_to(twin: SlackTwin, user: str) -> int:
    return len([call for call in twin.calls_to("views.publish") if call.args["user_id"] == user])


def open_home(driver: SlackDriver, twin: SlackTwin, user: str) -> str:
    published = publishes_to(twin, user)
    response = driver.app_home_opened(user)
    assert response.status_code == 200
    twin.wait_for(lambda: publishes_to(twin, user) > published)
    return home_text(twin, user)


def audit_entries(database: Database) -> list[AuditEntry]:
    with database.session() as session:
        return list(session.exec(select(AuditEntry)))


def test_app_home_opened_publishes_a_valid_home_view(driver: SlackDriver, twin: SlackTwin) -> None:
    text = open_home(driver, twin, MEMBER)
    publish = twin.calls_to("views.publish")[-1]
    assert publish.status == 200 and publish.response["ok"], publish.response
    assert "Welcome to copbot" in text
    assert "Edit profile" in text
    assert "Edit settings" not in text  # members don't see lead settings


def test_leads_see_the_settings_section(driver: SlackDriver, twin: SlackTwin) -> None:
    text = open_home(driver, twin, LEAD)
    assert "Community settings" in text
    assert "Edit settings" in text and "Manage leads" in text


def test_an_event_delivered_three_times_has_one_effect(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0MEMB001", "tab": "home"}
    first = driver.event(event, event_id="Ev0HOME0001")
    second = driver.event(event, event_id="Ev0HOME0001", retry_num=1, retry_reason="http_timeout")
    third = driver.event(event, event_id="Ev0HOME0001", retry_num=2, retry_reason="http_timeout")
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    # A new event afterwards is handled: its publish shows the retries' work is done.
    driver.event(event, event_id="Ev0HOME0002")
    twin.wait_for(lambda: len(twin.calls_to("views.publish")) >= 2)
    time.sleep(0.3)
    assert len(twin.calls_to("views.publish")) == 2


def test_concurrent_redeliveries_have_one_effect(driver: SlackDriver, twin: SlackTwin) -> None:
    event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0MEMB001", "tab": "home"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(
            pool.map(
                lambda n: driver.event(event, event_id="Ev0HOME0009", retry_num=n or None),
                range(4),
            )
        )
    assert all(response.status_code == 200 for response in responses)
    twin.wait_for(lambda: len(twin.calls_to("views.publish")) >= 1)
    time.sleep(0.3)
    assert len(twin.calls_to("views.publish")) == 1


def test_a_member_edits_their_profile_and_adds_their_organisation(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    open_home(driver, twin, MEMBER)
    driver.click(MEMBER, "Edit profile", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(
        MEMBER,
        {
            "Staff group": "Allied health professionals",
            "Or add your organisation": "Vale Community Health",
            "Organisation type": "Community trust",
        },
    )
    result = driver.submit(MEMBER)
    assert result.status == 200 and not result.errors
    text = home_text_after_change(twin, MEMBER, "Vale Community Health")
    assert "Allied health professionals" in text


def home_text_after_change(twin: SlackTwin, user: str, expected: str) -> str:
    twin.wait_for(lambda: expected in json.dumps((twin.home_view(user) or {}).get("blocks")))
    return home_text(twin, user)


def test_a_profile_needs_one_organisation_not_two(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    # Another member adds an organisation first, so the list has one to choose.
    open_home(driver, twin, OTHER)
    driver.click(OTHER, "Edit profile", home=True)
    twin.wait_for(lambda: twin.current_modal(OTHER) is not None)
    driver.fill(
        OTHER,
        {
            "Staff group": "Patient and citizen partners",
            "Or add your organisation": "Healthwatch Vale",
            "Organisation type": "Healthwatch",
        },
    )
    assert not driver.submit(OTHER).errors
    open_home(driver, twin, MEMBER)
    driver.click(MEMBER, "Edit profile", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(
        MEMBER,
        {
            "Staff group": "Pharmacy",
            "Organisation": "Healthwatch Vale",
            "Or add your organisation": "Kingsway Pharmacy",
            "Organisation type": "Community pharmacy",
        },
    )
    result = driver.submit(MEMBER)
    assert "not both" in json.dumps(result.errors)
    with database.session() as session:
        member = session.exec(select(Member).where(Member.slack_user_id == MEMBER)).one()
    assert member.staff_group is None  # nothing changed


def test_a_lead_changes_settings_and_it_is_audited(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    open_home(driver, twin, LEAD)
    driver.click(LEAD, "Edit settings", home=True)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(
        LEAD, {"Ideas channel": CHANNEL, "Time zone": "Europe/Dublin", "Anonymity minimum": 7}
    )
    result = driver.submit(LEAD)
    assert result.status == 200 and not result.errors
    text = home_text_after_change(twin, LEAD, "Europe/Dublin")
    assert f"<#{CHANNEL}>" in text and "7 answers" in text
    entries = audit_entries(database)
    assert [entry.action for entry in entries] == ["settings.update"]
    assert entries[0].actor_id == LEAD
    assert entries[0].before["anonymity_min"] == 5 and entries[0].after["anonymity_min"] == 7


def test_settings_refuse_a_low_anonymity_minimum_and_an_unknown_zone(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    open_home(driver, twin, LEAD)
    driver.click(LEAD, "Edit settings", home=True)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Time zone": "Mars/Olympus", "Anonymity minimum": 5})
    assert "time zone" in json.dumps(driver.submit(LEAD).errors)
    driver.fill(LEAD, {"Time zone": "Europe/London", "Anonymity minimum": 2})
    errors = driver.submit(LEAD).errors
    assert "anonymity_min" in errors or "below 3" in json.dumps(errors)
    assert audit_entries(database) == []
    with database.session() as session:
        workspace = session.get(Workspace, TEAM)
    assert workspace is None or workspace.anonymity_min is None


def send_interaction(driver: SlackDriver, payload: dict[str, Any]) -> Any:
    body = ("payload=" + quote(json.dumps(payload))).encode()
    return driver.send_raw(body, "application/x-www-form-urlencoded")


def forged(user: str, **fields: Any) -> dict[str, Any]:
    """An interaction a member could forge: for a button or form they were never shown."""
    return {
        "user": {"id": user, "username": user, "name": user, "team_id": TEAM},
        "team": {"id": TEAM, "domain": "test"},
        "api_app_id": "A0COPBOT",
        "token": "legacy",
        "trigger_id": "",
        **fields,
    }


def test_a_lead_only_action_by_a_member_is_refused_and_changes_nothing(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    open_home(driver, twin, MEMBER)
    click = forged(
        MEMBER,
        type="block_actions",
        container={"type": "view", "view_id": "V0HOME"},
        actions=[
            {
                "type": "button",
                "action_id": "home_edit_settings",
                "block_id": "b",
                "text": {"type": "plain_text", "text": "Edit settings"},
                "action_ts": "1700000000.000001",
            }
        ],
    )
    assert send_interaction(driver, click).status_code == 200
    twin.wait_for(lambda: any("Only leads" in json.dumps(m) for m in twin.dms(MEMBER)))
    assert not [
        call
        for call in twin.calls_to("views.open")
        if "Community settings" in json.dumps(call.args)
    ]
    # Submitting the settings form directly is refused on the server too.
    submission = forged(
        MEMBER,
        type="view_submission",
        view={
            "id": "V0FORGED",
            "type": "modal",
            "callback_id": "settings",
            "blocks": [
                {
                    "type": "input",
                    "block_id": "timezone",
                    "label": {"type": "plain_text", "text": "Time zone"},
                    "element": {"type": "plain_text_input", "action_id": "timezone"},
                },
            ],
            "state": {
                "values": {
                    "timezone": {"timezone": {"type": "plain_text_input", "value": "Asia/Tokyo"}},
                    "anonymity_min": {"anonymity_min": {"type": "number_input", "value": "3"}},
                }
            },
        },
    )
    response = send_interaction(driver, submission)
    assert response.status_code == 200
    assert "Only leads" in response.text
    assert audit_entries(database) == []
    with database.session() as session:
        workspace = session.get(Workspace, TEAM)
        assert workspace is None or workspace.timezone is None


def test_a_lead_names_another_lead_who_then_sees_the_settings(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    open_home(driver, twin, LEAD)
    driver.click(LEAD, "Manage leads", home=True)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Leads": [OTHER]})
    assert not driver.submit(LEAD).errors
    assert "Edit settings" in open_home(driver, twin, OTHER)
    assert [entry.action for entry in audit_entries(database)] == ["leads.update"]
    # ...and removes them again.
    driver.click(LEAD, "Manage leads", home=True)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Leads": []})
    assert not driver.submit(LEAD).errors
    assert "Edit settings" not in open_home(driver, twin, OTHER)


def test_restart_keeps_the_data(
    driver: SlackDriver, twin: SlackTwin, copbot: Copbot, database: Database
) -> None:
    open_home(driver, twin, MEMBER)
    driver.click(MEMBER, "Edit profile", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(
        MEMBER,
        {
            "Staff group": "Paramedics",
            "Or add your organisation": "Western Counties Ambulance",
            "Organisation type": "Ambulance trust",
        },
    )
    assert not driver.submit(MEMBER).errors
    copbot.restart()
    driver.app_url = f"{copbot.url}/slack/events"
    text = open_home(driver, twin, MEMBER)
    assert "Paramedics" in text and "Western Counties Ambulance" in text


def test_user_change_refreshes_the_cached_profile(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    open_home(driver, twin, MEMBER)
    user = {
        "id": MEMBER,
        "team_id": TEAM,
        "name": "max",
        "real_name": "Max Renamed",
        "tz": "America/New_York",
        "profile": {"real_name": "Max Renamed", "display_name": "maxr"},
    }
    assert driver.event({"type": "user_change", "user": user}).status_code == 200
    with database.session() as session:
        member = session.exec(select(Member).where(Member.slack_user_id == MEMBER)).one()
    assert (member.display_name, member.tz) == ("maxr", "America/New_York")


def test_a_failure_after_the_ack_gets_an_apology_not_a_traceback(
    driver: SlackDriver, twin: SlackTwin
) -> None:
    open_home(driver, twin, MEMBER)
    twin.fail("views.open", status=500, times=20)  # Slack keeps failing, retries included
    response = driver.click(MEMBER, "Edit profile", home=True)
    assert response.status_code == 200
    twin.wait_for(lambda: any("Sorry, something went wrong" in m["text"] for m in twin.dms(MEMBER)))
    apology = twin.dms(MEMBER)[-1]["text"]
    assert "Traceback" not in apology and "Error" not in apology
