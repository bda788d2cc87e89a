"""Forms ask only what applies: a choice that changes which fields make sense redraws the
form (Slack's dispatch_action, then views.update), fields shown as required are required,
and "(optional)" (a field Slack marks optional) can be left empty."""

from __future__ import annotations

import json
from typing import Any

from slacktwin import SlackDriver, SlackTwin
from tests.support import CHANNEL, LEAD, MEMBER


def labels(view: dict[str, Any] | None) -> dict[str, bool]:
    """Each input's label and whether Slack shows it as optional."""
    assert view is not None
    return {
        block["label"]["text"]: bool(block.get("optional"))
        for block in view["blocks"]
        if block["type"] == "input"
    }


def open_designer(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")


def test_the_pulse_designer_asks_only_what_applies(driver: SlackDriver, twin: SlackTwin) -> None:
    open_designer(driver, twin)
    first = labels(twin.current_modal(LEAD))
    assert "Audience" in first and "Schedule" in first
    for unasked in ("Channel", "Staff group", "Organisation", "Day"):
        assert unasked not in first  # Everyone, one-off: none of these apply

    driver.choose(LEAD, "Audience", "Members of a channel")
    twin.wait_for(lambda: "Channel" in labels(twin.current_modal(LEAD)), message="redrawn")
    shown = labels(twin.current_modal(LEAD))
    assert shown["Channel"] is False  # required now that it applies
    assert "Staff group" not in shown

    driver.choose(LEAD, "Audience", "A staff group")
    twin.wait_for(lambda: "Staff group" in labels(twin.current_modal(LEAD)), message="redrawn")
    shown = labels(twin.current_modal(LEAD))
    assert "Channel" not in shown and shown["Staff group"] is False

    driver.choose(LEAD, "Schedule", "Weekly")
    twin.wait_for(lambda: "Day" in labels(twin.current_modal(LEAD)), message="redrawn")
    assert labels(twin.current_modal(LEAD))["Day"] is False
    driver.choose(LEAD, "Schedule", "One-off")
    twin.wait_for(lambda: "Day" not in labels(twin.current_modal(LEAD)), message="redrawn")

    # What was typed before a redraw is kept.
    driver.fill(LEAD, {"Name": "ward", "Questions": ["What is working well?"]})
    driver.choose(LEAD, "Schedule", "Weekly")
    twin.wait_for(lambda: "Day" in labels(twin.current_modal(LEAD)), message="redrawn")
    assert set(driver.submit(LEAD).errors) == {"staff_group"}  # still to choose
    driver.fill(LEAD, {"Staff group": "Pharmacy", "Day": "Tuesday"})
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "every week" in json.dumps(twin.dms(LEAD)), message="scheduled")


def test_the_exchange_forms_ask_only_what_the_format_uses(
    driver: SlackDriver, twin: SlackTwin
) -> None:
    driver.command(LEAD, "/exchange", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="programme form")
    shown = labels(twin.current_modal(LEAD))
    assert "Group size" not in shown and "Mentees per mentor" not in shown
    driver.choose(LEAD, "Format", "Quad")
    twin.wait_for(lambda: "Group size" in labels(twin.current_modal(LEAD)), message="a set")
    view = twin.current_modal(LEAD)
    assert "Mentees per mentor" not in labels(view)
    size = next(b for b in view["blocks"] if b.get("block_id") == "group_size")
    assert size["element"]["initial_value"] == "4"  # a quad's default, so empty is fine too
    driver.choose(LEAD, "Format", "Mentoring")
    twin.wait_for(lambda: "Mentees per mentor" in labels(twin.current_modal(LEAD)), message="m")
    assert "Group size" not in labels(twin.current_modal(LEAD))
    driver.choose(LEAD, "Format", "Half-day swap")
    twin.wait_for(lambda: "Mentees per mentor" not in labels(twin.current_modal(LEAD)))
    driver.fill(LEAD, {"Name": "hereford"})
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "/exchange join hereford" in json.dumps(twin.dms(LEAD)))

    driver.command(MEMBER, "/exchange", "join hereford", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="sign-up")
    assert "Place" in labels(twin.current_modal(MEMBER))  # "Either" may meet in person
    driver.choose(MEMBER, "Format", "Virtual")
    twin.wait_for(lambda: "Place" not in labels(twin.current_modal(MEMBER)), message="virtual")
    driver.choose(MEMBER, "Format", "In person")
    twin.wait_for(lambda: "Place" in labels(twin.current_modal(MEMBER)), message="in person")
    driver.fill(
        MEMBER,
        {
            "Staff group": "Medical",
            "Organisation": "Wye Valley NHS Trust",
            "Professional interests": ["Frailty"],
            "Place": "Hereford",
        },
    )
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: "signed up to hereford" in json.dumps(twin.dms(MEMBER)).lower())
    kept = json.dumps(driver.command(MEMBER, "/copbot", "privacy", channel=CHANNEL).json())
    assert "1 sign-up," in kept and "0 reflections" in kept  # the noun agrees with the number
