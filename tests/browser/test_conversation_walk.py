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
