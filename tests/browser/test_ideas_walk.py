"""Ideas in the browser, as people use them: post one, meet the similar-ideas step and
support the existing idea instead; a lead decides and author and supporters hear."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Walk

FIRST = "Open the discharge lounge at weekends"
SECOND = "Weekend opening for the discharge lounge"


def post_idea(walk: Walk, title: str, description: str) -> None:
    walk.send("/idea")
    modal = walk.modal
    modal.get_by_label("Title").fill(title)
    modal.get_by_label("Description").fill(description)
    walk.shot(f"idea form {title[:20]}")
    modal.get_by_role("button", name="Share").click()
    walk.settled()


def idea_cards(walk: Walk) -> Any:
    return walk.page.locator("#messages article", has_text="supporter")


def test_a_duplicate_idea_becomes_support_for_the_first(walk: Walk) -> None:
    page = walk.page
    walk.shot("the sandbox opens in ideas")
    walk.axe("the channel")
    assert page.get_by_role("heading", name="#ideas").is_visible()

    post_idea(walk, FIRST, "Patients wait in beds on Saturday for transport; the lounge is shut.")
    card = walk.message(FIRST)
    card.wait_for()
    walk.shot("the idea card in ideas")
    walk.axe("an idea card")
    assert "0 supporters" in card.inner_text()

    walk.act_as("Lucy Chen")
    walk.open("#ideas")
    walk.send("/idea")
    walk.axe("the idea form")
    walk.modal.get_by_label("Title").fill(SECOND)
    walk.modal.get_by_role("button", name="Share").click()
    walk.settled()
    similar = walk.modal
    similar.get_by_role("button", name="Support that one instead").wait_for()
    walk.shot("the similar ideas step")
    walk.axe("the similar ideas step")
    assert FIRST in similar.inner_text()

    similar.get_by_role("button", name="Support that one instead").first.click()
    walk.settled()
    walk.shot("copbot thanks the supporter")
    assert "You now support" in walk.modal.inner_text()
    walk.press("Close", within=walk.modal)
    assert walk.modal.count() == 0
    walk.shot("one card, one supporter")
    assert idea_cards(walk).count() == 1, "the duplicate was not posted"
    assert "1 supporter" in walk.message(FIRST).inner_text()
    assert SECOND not in page.locator("#messages").inner_text()


def test_keyboard_only_a_member_can_open_the_form_and_see_required_errors(walk: Walk) -> None:
    page = walk.page
    box = page.get_by_label("Message", exact=True)
    box.focus()
    page.keyboard.type("/idea")
    page.keyboard.press("Enter")
    walk.settled()
    dialog = walk.modal
    # The focus moves into the form, on its first field.
    assert page.evaluate("() => document.activeElement.closest('.modal') !== null")
    assert page.evaluate("() => document.activeElement.id") == dialog.get_by_label(
        "Title"
    ).get_attribute("id")
    # Submitting empty shows Slack's error under the field, with the focus on it.
    page.keyboard.press("Enter")
    walk.settled()
    error = dialog.locator(".bk-error").first
    error.wait_for()
    walk.shot("a required field left empty")
    walk.axe("a form with an error")
    assert "required" in error.inner_text().lower()
    assert dialog.get_by_label("Title").get_attribute("aria-invalid") == "true"
    page.keyboard.press("Escape")
    walk.settled()
    assert walk.modal.count() == 0
