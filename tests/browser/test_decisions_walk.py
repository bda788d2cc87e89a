"""A lead decides on an idea in the browser and the people behind it hear; the lead's CSV
export is downloaded and opened; "Forget me" asks before it acts."""

from __future__ import annotations

import csv
import io
import json

from tests.browser.conftest import Walk

TITLE = "Text reminders for frailty clinic appointments"


def test_a_lead_decides_and_author_and_supporter_see_the_dm_then_export_csv(walk: Walk) -> None:
    page = walk.page
    walk.act_as("Lucy Chen")
    walk.send("/idea")
    walk.modal.get_by_label("Title").fill(TITLE)
    walk.modal.get_by_label("Description").fill("Half of our DNAs are people who forgot.")
    walk.modal.get_by_role("button", name="Share").click()
    walk.settled()
    card = walk.message(TITLE)
    card.wait_for()

    walk.act_as("Tom Hughes")
    card.get_by_role("button", name="Support", exact=True).click()
    walk.settled()
    assert "1 supporter" in walk.message(TITLE).inner_text()
    walk.shot("a colleague supports the idea")

    walk.act_as("Amara Okafor")
    walk.message(TITLE).get_by_role("button", name="Manage").click()
    walk.settled()
    manage = walk.modal
    manage.get_by_label("Status").select_option(label="Under review")
    manage.get_by_label("Rationale").fill("We will pilot it in the Tuesday clinic first.")
    walk.shot("the lead's decision form")
    walk.axe("the manage idea form")
    manage.get_by_role("button", name="Save").click()
    walk.settled()
    assert walk.modal.count() == 0
    assert "Under review" in walk.message(TITLE).inner_text()
    walk.shot("the card shows the decision")

    for person in ("Lucy Chen", "Tom Hughes"):
        walk.act_as(person)
        walk.open("copbot · Messages")
        dm = page.locator("#messages")
        assert "pilot it in the Tuesday clinic" in dm.inner_text(), person
        walk.shot(f"{person} reads the decision")
    walk.axe("the app's DM")

    walk.act_as("Amara Okafor")
    walk.send("/idea export")
    walk.open("copbot · Messages")
    link = page.get_by_role("link", name="Download ideas.csv").last
    link.wait_for()
    walk.shot("the export in the lead's DM")
    with page.expect_download() as download_info:
        link.click()
    path = download_info.value.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert any(TITLE in " ".join(row.values()) for row in rows), rows[:2]


def test_forget_me_asks_before_it_acts(walk: Walk) -> None:
    page = walk.page
    walk.act_as("Lucy Chen")
    walk.open("copbot · Home")
    home = page.locator("#messages")
    home.get_by_role("button", name="Forget me").wait_for()
    walk.shot("lucy's home tab")
    walk.axe("the App Home")
    home.get_by_role("button", name="Forget me").click()
    walk.settled()
    ask = walk.modal
    assert "can't be undone" in ask.inner_text()
    walk.shot("copbot asks before forgetting")
    walk.axe("the forget me question")
    ask.get_by_role("button", name="Cancel").click()
    walk.settled()
    assert walk.modal.count() == 0
    walk.open("copbot · Home")
    assert page.locator("#messages").get_by_role("button", name="Forget me").is_visible()
    walk.shot("nothing was forgotten")

    # Her data, as the JSON file Slack would offer to download.
    home.get_by_role("button", name="Download my data").click()
    walk.settled()
    walk.open("copbot · Messages")
    link = page.get_by_role("link", name="Download copbot-my-data.json").last
    link.wait_for()
    walk.shot("lucy's data in her DM")
    with page.expect_download() as download_info:
        link.click()
    mine = json.loads(download_info.value.path().read_text(encoding="utf-8"))
    assert isinstance(mine, dict) and mine  # a JSON object she can open
    lucy = next(p for p in walk.site.world.people if p.real_name == "Lucy Chen")
    assert lucy.user_id in json.dumps(mine)


def test_in_progress_needs_an_owner_and_a_date_and_copbot_says_so_under_the_fields(
    walk: Walk,
) -> None:
    page = walk.page
    walk.send("/idea")
    walk.modal.get_by_label("Title").fill("A frailty hotline for care homes")
    walk.modal.get_by_role("button", name="Share").click()
    walk.settled()
    walk.message("A frailty hotline").get_by_role("button", name="Manage").click()
    walk.settled()
    manage = walk.modal
    manage.get_by_label("Status").select_option(label="In progress")
    manage.get_by_label("Rationale").fill("Funded for six months by the ICB.")
    manage.get_by_role("button", name="Save").click()
    walk.settled()
    owner_error = manage.locator(".bk-input", has_text="Owner").locator(".bk-error")
    owner_error.wait_for()
    assert "who owns" in owner_error.inner_text()
    # What was typed is still there, and the focus is on the first field with an error.
    assert manage.get_by_label("Rationale").input_value() == "Funded for six months by the ICB."
    assert page.evaluate("() => document.activeElement.getAttribute('aria-invalid')") == "true"
    walk.shot("copbot's errors under their fields")
    walk.axe("a form with copbot's errors")

    manage.get_by_label("Owner").select_option(label="Kwame Mensah")
    manage.get_by_label("Next review").fill("2030-01-15")
    manage.get_by_role("button", name="Save").click()
    walk.settled()
    assert walk.modal.count() == 0
    card = walk.message("A frailty hotline").inner_text()
    assert "In progress" in card
    walk.shot("in progress with an owner")
