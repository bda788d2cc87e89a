"""A conversation in the browser: a colleague's message arrives without reloading, a
thread reply, and a message turned into an idea from its menu using only the keyboard."""

from __future__ import annotations

from tests.browser.conftest import Walk

TEXT = "The discharge lounge is shut at weekends, so patients wait in beds for transport"


def test_live_messages_threads_and_save_as_idea_by_keyboard(walk: Walk) -> None:
    page = walk.page
    walk.open("#general")
    lucy = next(p for p in walk.site.world.people if p.real_name == "Lucy Chen")
    # Someone else writes in Slack: the page shows it without a reload.
    walk.site.world.driver.post_message(lucy.user_id, "C0SBGENRL", f"*{TEXT}* :eyes:")
    message = walk.message(TEXT)
    message.wait_for(timeout=10000)
    assert message.locator("strong").inner_text() == TEXT  # mrkdwn drawn, not raw
    assert "👀" in message.inner_text()
    walk.shot("a colleague's message arrives")

    message.get_by_role("button", name="Reply in thread").click()
    walk.settled()
    reply = page.get_by_label("Reply in thread", exact=True)
    assert reply.evaluate("(el) => el === document.activeElement")
    reply.fill("Shall we make it an idea?")
    reply.press("Enter")
    walk.settled()
    thread = page.locator("#thread-body")
    assert "Shall we make it an idea?" in thread.inner_text()
    assert "1 reply" in walk.message(TEXT).inner_text()
    walk.shot("a reply in the thread")
    walk.axe("a thread")
    page.get_by_role("button", name="Close thread").click()

    menu = walk.message(TEXT).get_by_role("button", name="More actions")
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused == "Save as idea"
    page.keyboard.press("Enter")
    walk.settled()
    form = walk.modal
    form.wait_for()
    assert "discharge lounge" in form.get_by_label("Title").input_value().lower()
    walk.shot("the message becomes an idea form")
    walk.axe("the save as idea form")
    page.keyboard.press("Escape")
    walk.settled()
    assert walk.modal.count() == 0


IDEA = "Pharmacy could sign off discharge medicines the evening before"


def focused(walk: Walk) -> dict[str, str | None]:
    return walk.page.evaluate(
        """() => ({role: document.activeElement.getAttribute('role'),
                   text: document.activeElement.textContent.trim(),
                   label: document.activeElement.getAttribute('aria-label')})"""
    )


def test_a_bulb_reaction_from_the_keyboard_menu_offers_to_capture_the_idea(walk: Walk) -> None:
    page = walk.page
    walk.act_as("Tom Hughes")
    walk.open("#general")
    lucy = next(p for p in walk.site.world.people if p.real_name == "Lucy Chen")
    walk.site.world.driver.post_message(lucy.user_id, "C0SBGENRL", IDEA)
    message = walk.message(IDEA)
    message.wait_for(timeout=10000)

    # The reaction menu is a WAI-ARIA menu button, used here with the keyboard only.
    toggle = message.get_by_role("button", name="Add reaction")
    assert toggle.get_attribute("aria-haspopup") == "menu"
    toggle.focus()
    page.keyboard.press("ArrowDown")  # opens on the first item
    assert toggle.get_attribute("aria-expanded") == "true"
    menu = message.get_by_role("menu")
    assert menu.is_visible()
    assert focused(walk)["role"] == "menuitem" and "bulb" in focused(walk)["text"]
    page.keyboard.press("End")
    assert "raised hands" in focused(walk)["text"]
    page.keyboard.press("ArrowDown")  # wraps round to the first
    assert "bulb" in focused(walk)["text"]
    page.keyboard.press("e")  # a letter moves to the next item starting with it
    assert "eyes" in focused(walk)["text"]
    walk.shot("the reaction menu open")
    walk.axe("the reaction menu")
    page.keyboard.press("Escape")  # closes and gives the focus back to the button
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    assert focused(walk)["label"] == "Add reaction"
    page.keyboard.press("ArrowUp")  # opens on the last item
    assert "raised hands" in focused(walk)["text"]
    page.keyboard.press("Tab")  # leaving the menu closes it
    assert toggle.get_attribute("aria-expanded") == "false"

    toggle.focus()
    page.keyboard.press("Enter")  # Enter opens it too, on the first item: :bulb:
    assert toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Enter")
    walk.settled()
    message = walk.message(IDEA)
    chip = message.get_by_role("button", name="bulb reaction: 1 person, you too")
    assert chip.get_attribute("aria-pressed") == "true"
    offer = walk.message("Turn this message into an idea?")
    offer.wait_for()
    assert "Only visible to you" in offer.inner_text()
    walk.shot("copbot offers to capture the message")
    walk.axe("a reaction and copbot's offer")

    offer.get_by_role("button", name="Turn into an idea").click()
    walk.settled()
    form = walk.modal
    form.wait_for()
    assert "evening before" in form.get_by_label("Title").input_value()
    walk.shot("the idea form from the reaction")
    walk.press("Cancel", within=form)

    # Lucy sees Tom's reaction and adds hers by pressing it; Tom takes his off again.
    walk.act_as("Lucy Chen")
    walk.open("#general")
    walk.message(IDEA).get_by_role("button", name="bulb reaction: 1 person").click()
    walk.settled()
    walk.message(IDEA).get_by_role("button", name="bulb reaction: 2 people, you too").wait_for()
    assert "Turn this message into an idea?" in page.locator("#messages").inner_text()
    walk.act_as("Tom Hughes")
    walk.open("#general")
    walk.message(IDEA).get_by_role("button", name="bulb reaction: 2 people, you too").click()
    walk.settled()
    chip = walk.message(IDEA).get_by_role("button", name="bulb reaction: 1 person", exact=True)
    assert chip.get_attribute("aria-pressed") == "false"
    walk.shot("a reaction taken off")
