"""Ideas end to end through the Slack twin: capture, similar ideas, support, decisions,
merges, anonymity and bad input, as people in Slack would do them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from sqlmodel import func, select

from bot.config import Settings
from slacktwin import SlackDriver, SlackTwin
from storage import AuditEntry, Database, Idea, Support
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER, TEAM, make_settings

VALID_NHS_NUMBER = "943 476 5919"


@pytest.fixture
def settings(twin: SlackTwin, database_url: str) -> Settings:
    return make_settings(twin, database_url, copbot_ideas_channel=CHANNEL)


def cards(twin: SlackTwin) -> list[dict[str, Any]]:
    return [m for m in twin.messages(CHANNEL) if m.get("bot_id") and m.get("blocks")]


def card_text(twin: SlackTwin, ts: str) -> str:
    message = twin.message(CHANNEL, ts)
    assert message is not None
    return json.dumps(message["blocks"])


def share(
    driver: SlackDriver, twin: SlackTwin, user: str, values: dict[str, Any], text: str = ""
) -> Any:
    """/idea, fill the modal, submit; returns the submit result."""
    driver.command(user, "/idea", text, channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(user) is not None, message="capture modal")
    driver.fill(user, values)
    return driver.submit(user)


def post_idea(driver: SlackDriver, twin: SlackTwin, user: str, title: str, **more: Any) -> str:
    """Share an idea with no similar ideas in the way; returns its card's ts."""
    before = len(cards(twin))
    result = share(driver, twin, user, {"Title": title, **more})
    assert not result.errors, result.errors
    twin.wait_for(lambda: len(cards(twin)) > before, message="the idea card")
    return cards(twin)[-1]["ts"]


def dms_text(twin: SlackTwin, user: str) -> str:
    return json.dumps(twin.dms(user))


def wait_for_card(twin: SlackTwin, ts: str, words: str) -> str:
    twin.wait_for(lambda: words in card_text(twin, ts), message=f"card to show {words!r}")
    return card_text(twin, ts)


def test_slash_command_opens_the_modal_and_posts_a_card(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    result = share(
        driver,
        twin,
        MEMBER,
        {
            "Title": "Protected time for QI on the ward",
            "Description": "Two hours a month for each band 5 nurse.",
            "Themes": ["Workforce retention and wellbeing"],
        },
    )
    assert not result.errors
    twin.wait_for(lambda: cards(twin), message="a card")
    text = card_text(twin, cards(twin)[0]["ts"])
    for words in (
        "Protected time for QI on the ward",
        "Two hours a month",
        "Workforce retention and wellbeing",
        "New",
        "0 supporters",
        "By Max Member",
        "Support",
        "Unsupport",
        "Discuss",
        "Manage",
    ):
        assert words in text, words
    twin.wait_for(lambda: "is posted" in dms_text(twin, MEMBER), message="thank-you DM")
    with database.session() as session:
        idea = session.exec(select(Idea)).one()
    assert idea.permalink and idea.card_ts == cards(twin)[0]["ts"]


def test_idea_with_text_prefills_the_title(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(MEMBER, "/idea", "Text patients their discharge time. It saves calls.")
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    modal = json.dumps(twin.current_modal(MEMBER))
    assert "Text patients their discharge time." in modal
    assert "It saves calls." in modal


def test_global_shortcut_and_app_home_open_the_same_modal(
    driver: SlackDriver, twin: SlackTwin
) -> None:
    driver.shortcut(MEMBER, "share_idea")
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    assert twin.current_modal(MEMBER)["callback_id"] == "idea_new"
    driver.close(MEMBER)
    driver.app_home_opened(OTHER)
    twin.wait_for(lambda: twin.home_view(OTHER) is not None)
    driver.click(OTHER, "Share an idea", home=True)
    twin.wait_for(lambda: twin.current_modal(OTHER) is not None)
    labels = [b["label"]["text"] for b in twin.current_modal(OTHER)["blocks"] if "label" in b]
    assert labels == ["Title", "Description", "Themes", "Post anonymously"]


def test_message_shortcut_keeps_the_source_and_credits_the_author(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    ts, _ = driver.post_message(OTHER, CHANNEL, "We could open the discharge lounge at 7am.")
    driver.message_shortcut(MEMBER, "save_as_idea", CHANNEL, ts)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    assert "open the discharge lounge at 7am" in json.dumps(twin.current_modal(MEMBER))
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: cards(twin), message="a card")
    text = card_text(twin, cards(twin)[0]["ts"])
    assert "By Olive Other, shared by Max Member" in text
    assert "original message" in text
    twin.wait_for(lambda: "credited you" in dms_text(twin, OTHER), message="credit DM")
    with database.session() as session:
        idea = session.exec(select(Idea)).one()
    assert idea.author_id == OTHER and idea.submitted_by == MEMBER
    assert idea.source_permalink and ts.replace(".", "") in idea.source_permalink
    # The author declines the credit: the card no longer names them.
    credit = next(m for m in twin.dms(OTHER) if "credited you" in json.dumps(m))
    driver.click(OTHER, "Remove my name", message=(twin.dm_channel(OTHER), credit["ts"]))
    card = wait_for_card(twin, cards(twin)[0]["ts"], "By Max Member")
    assert "Olive" not in card
    with database.session() as session:
        assert session.exec(select(Idea.author_id)).one() == MEMBER


def test_a_bulb_reaction_offers_privately_once_and_leads_to_an_idea(
    driver: SlackDriver, twin: SlackTwin
) -> None:
    ts, _ = driver.post_message(
        OTHER, CHANNEL, "Pharmacy could check discharge meds the day before."
    )
    driver.react(MEMBER, CHANNEL, ts, "bulb")
    twin.wait_for(lambda: twin.ephemerals(MEMBER, CHANNEL), message="private offer")
    offers = twin.ephemerals(MEMBER, CHANNEL)
    assert "Turn into an idea" in json.dumps(offers[-1])
    assert not twin.ephemerals(OTHER, CHANNEL)  # only the reactor sees the offer
    driver.redeliver()  # Slack retries the event: no second offer
    again = {  # the same person's :bulb: again under a new event id (removed and re-added)
        "type": "reaction_added",
        "user": MEMBER,
        "reaction": "bulb",
        "item": {"type": "message", "channel": CHANNEL, "ts": ts},
        "item_user": OTHER,
        "event_ts": "1.000001",
    }
    driver.event(again)
    driver.click(MEMBER, "Turn into an idea", ephemeral=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="capture modal")
    assert "check discharge meds" in json.dumps(twin.current_modal(MEMBER))
    assert len(twin.ephemerals(MEMBER, CHANNEL)) == 1
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: cards(twin), message="a card")
    assert "By Olive Other" in card_text(twin, cards(twin)[0]["ts"])


def test_similar_ideas_are_offered_before_posting(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    first = post_idea(driver, twin, OTHER, "Open a discharge lounge to free beds earlier")
    result = share(driver, twin, MEMBER, {"Title": "An earlier discharge lounge to free up beds"})
    assert not result.errors
    modal = json.dumps(twin.current_modal(MEMBER))
    assert "Open a discharge lounge to free beds earlier" in modal
    assert "Support that one instead" in modal and "Post mine anyway" in modal
    driver.click(MEMBER, "Support that one instead", modal=True, index=0)
    card = wait_for_card(twin, first, "1 supporter")
    assert "1 supporters" not in card  # the noun agrees with the count
    assert len(cards(twin)) == 1  # the draft was not posted
    # Someone else posts theirs anyway.
    share(driver, twin, LEAD, {"Title": "Discharge lounge open earlier so beds free up"})
    driver.click(LEAD, "Post mine anyway", modal=True)
    twin.wait_for(lambda: len(cards(twin)) == 2, message="second card")


def test_support_toggles_one_per_person_and_not_your_own(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    ts = post_idea(driver, twin, MEMBER, "Shared care records for care homes")
    for user in (OTHER, LEAD, ADMIN):
        driver.click(user, "Support", message=(CHANNEL, ts))
    wait_for_card(twin, ts, "3 supporters")
    driver.click(OTHER, "Support", message=(CHANNEL, ts))
    twin.wait_for(lambda: "already support" in json.dumps(twin.ephemerals(OTHER)))
    driver.click(MEMBER, "Support", message=(CHANNEL, ts))
    twin.wait_for(lambda: "your own idea" in json.dumps(twin.ephemerals(MEMBER)))
    driver.click(LEAD, "Unsupport", message=(CHANNEL, ts))
    wait_for_card(twin, ts, "2 supporters")
    driver.click(LEAD, "Unsupport", message=(CHANNEL, ts))
    twin.wait_for(lambda: "haven't supported" in json.dumps(twin.ephemerals(LEAD)))
    with database.session() as session:
        supporters = set(session.exec(select(Support.user_id)))
    assert supporters == {OTHER, ADMIN}
    assert twin.calls_to("chat.update")  # updated in place, never reposted
    assert len(cards(twin)) == 1


def manage(driver: SlackDriver, twin: SlackTwin, ts: str, values: dict[str, Any]) -> Any:
    driver.click(LEAD, "Manage", message=(CHANNEL, ts))
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="manage modal")
    driver.fill(LEAD, values)
    return driver.submit(LEAD)


def test_each_status_change_updates_the_card_and_tells_author_and_supporters(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    ts = post_idea(driver, twin, MEMBER, "Virtual ward for frailty")
    driver.click(OTHER, "Support", message=(CHANNEL, ts))
    wait_for_card(twin, ts, "1 supporter")
    assert not manage(
        driver, twin, ts, {"Status": "Under review", "Rationale": "Design group looks at it."}
    ).errors
    wait_for_card(twin, ts, "Under review")
    assert "Design group looks at it." in card_text(twin, ts)
    for user in (MEMBER, OTHER):
        twin.wait_for(lambda user=user: "Under review" in dms_text(twin, user), message=user)
    assert "You said, we did" in dms_text(twin, OTHER)
    # In progress needs an owner and a next review date.
    result = manage(driver, twin, ts, {"Status": "In progress", "Rationale": "Pilot agreed."})
    assert "owner" in result.errors
    driver.fill(LEAD, {"Owner": ADMIN, "Next review": "2030-01-15"})
    assert not driver.submit(LEAD).errors
    text = wait_for_card(twin, ts, "In progress")
    assert "Ada Admin" in text and "2030-01-15" in text
    assert not manage(driver, twin, ts, {"Status": "Implemented", "Rationale": "Live."}).errors
    wait_for_card(twin, ts, "Implemented")
    twin.wait_for(lambda: "Implemented" in dms_text(twin, MEMBER))
    with database.session() as session:
        entries = list(session.exec(select(AuditEntry).where(AuditEntry.action == "idea.status")))
        idea = session.exec(select(Idea)).one()
    assert [e.after["status"] for e in entries] == ["under_review", "in_progress", "implemented"]
    assert all(e.actor_id == LEAD for e in entries)
    assert idea.decided_at is not None


def send_interaction(driver: SlackDriver, payload: dict[str, Any]) -> Any:
    return driver.send_raw(
        ("payload=" + quote(json.dumps(payload))).encode(), "application/x-www-form-urlencoded"
    )


def test_a_member_cannot_manage_even_with_a_forged_payload(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    ts = post_idea(driver, twin, OTHER, "Community pharmacy blood pressure checks")
    driver.click(MEMBER, "Manage", message=(CHANNEL, ts))
    twin.wait_for(lambda: "Only leads" in json.dumps(twin.ephemerals(MEMBER)))
    assert twin.current_modal(MEMBER) is None
    with database.session() as session:
        idea_id = session.exec(select(Idea.id)).one()
    forged = {
        "type": "view_submission",
        "user": {"id": MEMBER, "username": "max", "name": "max", "team_id": TEAM},
        "team": {"id": TEAM, "domain": "test"},
        "api_app_id": "A0COPBOT",
        "token": "legacy",
        "trigger_id": "",
        "view": {
            "id": "V0FORGED",
            "type": "modal",
            "callback_id": "idea_manage",
            "private_metadata": str(idea_id),
            "blocks": [],
            "state": {
                "values": {
                    "status": {
                        "status": {
                            "type": "static_select",
                            "selected_option": {"value": "implemented"},
                        }
                    },
                    "rationale": {"rationale": {"type": "plain_text_input", "value": "hax"}},
                }
            },
        },
    }
    response = send_interaction(driver, forged)  # its private_metadata is not copbot's seal
    assert response.status_code == 200 and "nothing was changed" in response.text
    with database.session() as session:
        assert session.exec(select(Idea.status)).one() == "new"
        assert not list(session.exec(select(AuditEntry)))


def test_merge_combines_unique_supporters_and_tells_everyone(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    source = post_idea(driver, twin, MEMBER, "Weekend physiotherapy on the stroke unit")
    target = post_idea(driver, twin, OTHER, "Seven-day therapy cover for rehab wards")
    driver.click(ADMIN, "Support", message=(CHANNEL, source))
    driver.click(LEAD, "Support", message=(CHANNEL, source))
    driver.click(LEAD, "Support", message=(CHANNEL, target))
    driver.click(MEMBER, "Support", message=(CHANNEL, target))
    wait_for_card(twin, source, "2 supporters")
    wait_for_card(twin, target, "2 supporters")
    result = manage(
        driver,
        twin,
        source,
        {
            "Status": "Under review",
            "Rationale": "Same ask; one conversation.",
            "Merge into another idea": "Seven-day therapy cover for rehab wards",
        },
    )
    assert not result.errors, result.errors
    # LEAD supported both: counted once. MEMBER authored the source and supports the target.
    wait_for_card(twin, target, "3 supporters")
    merged = wait_for_card(twin, source, "Merged into")
    assert "Seven-day therapy cover" in merged
    for user in (MEMBER, OTHER, ADMIN):
        twin.wait_for(lambda user=user: "was merged into" in dms_text(twin, user), message=user)
    with database.session() as session:
        target_id = session.exec(select(Idea.id).where(Idea.card_ts == target)).one()
        people = set(session.exec(select(Support.user_id).where(Support.idea_id == target_id)))
    assert people == {ADMIN, LEAD, MEMBER}
    # A merged idea's status can't change.
    driver.click(LEAD, "Discuss", message=(CHANNEL, source))  # still allowed
    with database.session() as session:
        source_id = session.exec(select(Idea.id).where(Idea.card_ts == source)).one()
    forged = {
        "type": "block_actions",
        "user": {"id": LEAD, "username": "lena", "name": "lena", "team_id": TEAM},
        "team": {"id": TEAM, "domain": "test"},
        "api_app_id": "A0COPBOT",
        "token": "legacy",
        "trigger_id": "",
        "container": {"type": "message", "message_ts": source, "channel_id": CHANNEL},
        "channel": {"id": CHANNEL, "name": "ideas"},
        "actions": [
            {
                "type": "button",
                "action_id": "idea_manage",
                "block_id": "b",
                "value": str(source_id),
                "action_ts": "1.1",
            }
        ],
    }
    send_interaction(driver, forged)
    twin.wait_for(
        lambda: (
            "was merged" in dms_text(twin, LEAD) or "merged into another" in dms_text(twin, LEAD)
        )
    )


def test_anonymous_ideas_show_no_name_but_the_author_hears_back(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    ts = post_idea(
        driver, twin, MEMBER, "Rota gaps are burning people out", **{"Post anonymously": True}
    )
    text = card_text(twin, ts)
    assert "Anonymous" in text
    assert "Max Member" not in text and MEMBER not in text and "max" not in text.lower().split()
    assert not manage(driver, twin, ts, {"Status": "Under review", "Rationale": "Heard."}).errors
    twin.wait_for(lambda: "Under review" in dms_text(twin, MEMBER), message="status DM")
    wait_for_card(twin, ts, "Under review")
    assert "Max Member" not in card_text(twin, ts)


def test_bad_input_is_refused_inline_and_changes_nothing(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    result = share(driver, twin, MEMBER, {"Title": "   "})
    assert result.errors  # the twin's client or copbot refuses a blank title
    driver.fill(
        MEMBER, {"Title": "Faster scans", "Description": f"Patient {VALID_NHS_NUMBER} waited."}
    )
    result = driver.submit(MEMBER)
    assert "NHS number" in json.dumps(result.errors)
    driver.fill(MEMBER, {"Description": "DOB: 12/03/1948 and waited long"})
    assert "date of birth" in json.dumps(driver.submit(MEMBER).errors)
    with database.session() as session:
        assert session.exec(select(func.count()).select_from(Idea)).one() == 0
    assert not cards(twin)


def test_mentions_in_ideas_are_escaped_so_nobody_is_pinged(
    driver: SlackDriver, twin: SlackTwin
) -> None:
    ts = post_idea(
        driver,
        twin,
        MEMBER,
        "<!channel> please read <@U0LEAD001>",
        Description="<!here> and <!everyone> @here",
    )
    text = card_text(twin, ts)
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U0LEAD001>"):
        assert raw not in text


def test_clicks_on_a_card_whose_idea_is_gone_are_answered_kindly(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    ts = post_idea(driver, twin, MEMBER, "Idea about to vanish")
    # A card whose idea no longer exists: its button points at an id copbot doesn't have.
    message = twin.message(CHANNEL, ts)
    forged = {
        "type": "block_actions",
        "user": {"id": OTHER, "username": "olive", "name": "olive", "team_id": TEAM},
        "team": {"id": TEAM, "domain": "test"},
        "api_app_id": "A0COPBOT",
        "token": "legacy",
        "trigger_id": "",
        "response_url": "",
        "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL},
        "channel": {"id": CHANNEL, "name": "ideas"},
        "message": message,
        "actions": [
            {
                "type": "button",
                "action_id": "idea_support",
                "block_id": "b",
                "value": "999999",
                "action_ts": "1.1",
            }
        ],
    }
    assert send_interaction(driver, forged).status_code == 200
    twin.wait_for(lambda: "no longer available" in dms_text(twin, OTHER))
    with database.session() as session:
        assert session.exec(select(func.count()).select_from(Support)).one() == 0


def ephemeral_text(twin: SlackTwin, user: str) -> str:
    """What the person reads in their latest private answer."""
    latest = twin.ephemerals(user)[-1]
    return json.dumps({"text": latest.get("text"), "blocks": latest.get("blocks")})


def test_search_and_mine_answer_privately(driver: SlackDriver, twin: SlackTwin) -> None:
    post_idea(driver, twin, MEMBER, "Falls prevention exercise classes in care homes")
    post_idea(driver, twin, OTHER, "Anonymous rota feedback box", **{"Post anonymously": True})
    ts = post_idea(driver, twin, LEAD, "Pharmacist-led medication reviews")
    driver.click(MEMBER, "Support", message=(CHANNEL, ts))
    wait_for_card(twin, ts, "1 supporter")
    driver.command(OTHER, "/idea", "search falls care homes", channel=CHANNEL)
    found = ephemeral_text(twin, OTHER)
    assert "Falls prevention exercise classes" in found and "New" in found
    assert "0 supporters" in found
    assert "Pharmacist" not in found
    driver.command(OTHER, "/idea", "search rota", channel=CHANNEL)
    assert "Anonymous rota feedback box" in ephemeral_text(twin, OTHER)
    assert OTHER not in ephemeral_text(twin, OTHER) and "Olive" not in ephemeral_text(twin, OTHER)
    driver.command(OTHER, "/idea", "search zebra crossings", channel=CHANNEL)
    assert "No ideas match" in ephemeral_text(twin, OTHER)
    driver.command(OTHER, "/idea", "search", channel=CHANNEL)
    assert "Add some words" in ephemeral_text(twin, OTHER)
    driver.command(MEMBER, "/idea", "mine", channel=CHANNEL)
    mine = ephemeral_text(twin, MEMBER)
    assert "Falls prevention" in mine and "Pharmacist-led medication reviews" in mine
    assert "Anonymous rota" not in mine


def test_stats_and_export_are_for_leads(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    ts = post_idea(driver, twin, MEMBER, '=HYPERLINK("http://x") formula title')
    post_idea(driver, twin, OTHER, "Anonymous idea for export", **{"Post anonymously": True})
    driver.click(LEAD, "Support", message=(CHANNEL, ts))
    wait_for_card(twin, ts, "1 supporter")
    driver.command(MEMBER, "/idea", "stats", channel=CHANNEL)
    assert "Only leads" in ephemeral_text(twin, MEMBER)
    driver.command(MEMBER, "/idea", "export", channel=CHANNEL)
    assert "Only leads" in ephemeral_text(twin, MEMBER)
    driver.command(LEAD, "/idea", "stats", channel=CHANNEL)
    stats = ephemeral_text(twin, LEAD)
    assert "*Ideas:* 2" in stats and "*supporters:* 1" in stats
    assert "Waiting for review over 14 days" in stats
    driver.command(LEAD, "/idea", "export", channel=CHANNEL)
    twin.wait_for(lambda: twin.files, message="the CSV")
    content = twin.files[-1]["content"].decode("utf-8-sig")
    lines = content.splitlines()
    assert lines[0].startswith("ID,Title,Description,Themes,Status,Rationale,Owner,Supporters")
    assert "'=HYPERLINK" in content  # a formula is never run by a spreadsheet
    assert "Anonymous" in content and "Olive" not in content
    assert twin.files[-1]["ims"] == [twin.dm_channel(LEAD)]


def test_app_home_shows_my_ideas_support_and_the_week(driver: SlackDriver, twin: SlackTwin) -> None:
    mine = post_idea(driver, twin, MEMBER, "Hospital at home for heart failure")
    theirs = post_idea(driver, twin, OTHER, "Social prescribing link workers in PCNs")
    driver.click(MEMBER, "Support", message=(CHANNEL, theirs))
    driver.click(LEAD, "Support", message=(CHANNEL, theirs))
    wait_for_card(twin, theirs, "2 supporters")
    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Your ideas" in json.dumps(twin.home_view(MEMBER) or {}))
    home = json.dumps(twin.home_view(MEMBER))
    assert "Hospital at home for heart failure" in home
    assert "Social prescribing link workers" in home  # supported, and the week's top
    assert "+2 this week" in home
    assert "Waiting for review" not in home  # a lead's section
    driver.app_home_opened(LEAD)
    twin.wait_for(lambda: "Waiting for review" in json.dumps(twin.home_view(LEAD) or {}))
    assert mine


def test_a_challenge_from_creation_to_close_with_summary_and_csv(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    driver.command(LEAD, "/idea", "challenge", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="challenge modal")
    driver.fill(
        LEAD,
        {
            "Question": "How could we give staff protected time for improvement?",
            "Description": "Answers feed the design-group workshop.",
            "Tags": ["Resources and protected time"],
            "Channel": CHANNEL,
            "Closes": "2099-12-31",
            "Target groups": ["Nursing and midwifery"],
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(
        lambda: any("Challenge: How could we" in json.dumps(m) for m in twin.messages(CHANNEL)),
        message="announcement",
    )
    announcement = next(
        m for m in twin.messages(CHANNEL) if "Challenge: How could we" in json.dumps(m)
    )
    # Ideas for the challenge, from its button and from the modal's Challenge field.
    driver.click(MEMBER, "Share an idea for this challenge", message=(CHANNEL, announcement["ts"]))
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(MEMBER, {"Title": "Ring-fenced QI half day each month"})
    assert not driver.submit(MEMBER).errors
    share(
        driver,
        twin,
        OTHER,
        {
            "Title": "Backfill budget for improvement projects",
            "Challenge": "How could we give staff protected time for improvement?",
            "Themes": ["Workforce retention and wellbeing"],
        },
    )
    twin.wait_for(lambda: len(cards(twin)) >= 2, message="two idea cards")
    card = cards(twin)[-1]["ts"]
    driver.click(ADMIN, "Support", message=(CHANNEL, card))
    wait_for_card(twin, card, "1 supporter")
    assert "Challenge:" in card_text(twin, card)
    # A member can't close it; the lead can.
    driver.click(MEMBER, "Close now", message=(CHANNEL, announcement["ts"]))
    twin.wait_for(lambda: "Only leads" in json.dumps(twin.ephemerals(MEMBER)))
    driver.click(LEAD, "Close now", message=(CHANNEL, announcement["ts"]))
    twin.wait_for(
        lambda: any("Challenge closed" in json.dumps(m) for m in twin.messages(CHANNEL)),
        message="summary",
    )
    summary = json.dumps(
        next(m for m in twin.messages(CHANNEL) if "Challenge closed" in json.dumps(m))
    )
    assert "*2* ideas from *2* people" in summary
    assert "Backfill budget for improvement projects" in summary  # most supported
    assert "Workforce retention and wellbeing" in summary
    assert "Voices by staff group" in summary
    twin.wait_for(lambda: twin.files, message="CSV to the lead")
    assert twin.files[-1]["ims"] == [twin.dm_channel(LEAD)]
    assert "Ring-fenced QI half day" in twin.files[-1]["content"].decode("utf-8-sig")
    # Closed: no more ideas for it.
    driver.click(MEMBER, "Share an idea for this challenge", message=(CHANNEL, announcement["ts"]))
    twin.wait_for(lambda: "has closed" in json.dumps(twin.ephemerals(MEMBER)))


def test_similar_ideas_use_embeddings_when_a_model_is_configured(
    twin: SlackTwin, database_url: str
) -> None:
    from llmtwin import LLMTwin
    from tests.support import SIGNING_SECRET, Copbot

    with LLMTwin(api_key="sk-test") as llm:
        settings = make_settings(
            twin,
            database_url,
            copbot_ideas_channel=CHANNEL,
            openai_api_key="sk-test",
            openai_base_url=llm.base_url,
        )
        served = Copbot(settings).start()
        try:
            driver = SlackDriver(
                twin, app_url=f"{served.url}/slack/events", signing_secret=SIGNING_SECRET
            )
            post_idea(driver, twin, OTHER, "Open a discharge lounge to free beds earlier")
            share(driver, twin, MEMBER, {"Title": "An earlier discharge lounge to free beds"})
            assert "Support that one instead" in json.dumps(twin.current_modal(MEMBER))
            assert llm.requests_to("/v1/embeddings")
            # The known idea's vector is cached: a second check embeds only the new text.
            before = len(llm.requests_to("/v1/embeddings"))
            driver.close(MEMBER)
            share(driver, twin, LEAD, {"Title": "Discharge lounge opening earlier"})
            calls = llm.requests_to("/v1/embeddings")[before:]
            assert len(calls) == 1
            assert (
                calls[0].body["input"] == ["Discharge lounge opening earlier\n"]
                or len(calls[0].body["input"]) == 1
            )
        finally:
            served.stop()


def test_a_card_slack_refuses_leaves_no_idea_and_the_kept_draft_posts_in_one_tap(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    post_idea(driver, twin, OTHER, "Open a discharge lounge to free beds earlier")
    twin.wait_for(lambda: "is posted" in dms_text(twin, OTHER), message="thank-you DM")
    share(driver, twin, MEMBER, {"Title": "An earlier discharge lounge to free up beds"})
    twin.fail("chat.postMessage", status=503, times=3)  # the first try and both retries
    driver.click(MEMBER, "Post mine anyway", modal=True)
    twin.wait_for(  # in the modal, or by DM once the click's trigger has expired
        lambda: (
            "isn't posted yet" in json.dumps(twin.current_modal(MEMBER)) + dms_text(twin, MEMBER)
        ),
        message="the refusal",
    )
    kept = twin.wait_for(
        lambda: [m for m in twin.dms(MEMBER) if "Post it now" in json.dumps(m)],
        message="the kept idea in a DM",
    )[0]
    assert "An earlier discharge lounge" in kept["text"]
    assert len(cards(twin)) == 1
    with database.session() as session:
        assert session.exec(select(func.count()).select_from(Idea)).one() == 1

    driver.click(MEMBER, "Post it now", message=(twin.dm_channel(MEMBER), kept["ts"]))
    twin.wait_for(lambda: len(cards(twin)) == 2, message="the card on the second try")
    ts = cards(twin)[-1]["ts"]
    assert "An earlier discharge lounge" in card_text(twin, ts)
    twin.wait_for(lambda: "is posted" in dms_text(twin, MEMBER), message="thank-you DM")
    driver.click(OTHER, "Support", message=(CHANNEL, ts))
    wait_for_card(twin, ts, "1 supporter")
    replaced = twin.message(twin.dm_channel(MEMBER), kept["ts"])
    assert replaced is not None and "Your idea is posted" in replaced["text"]
    assert "Post it now" not in json.dumps(replaced)  # it can't be posted twice
