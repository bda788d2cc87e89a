"""The sandbox's own controls in the browser: the clock moves and says what ran, and
"Reset demo" asks first, then starts over."""

from __future__ import annotations

from datetime import timedelta

from sandbox.clock import tomorrow_at
from tests.browser.conftest import Walk

SAID = "Before the reset, a word in #ideas"


def test_the_clock_says_what_ran_and_reset_demo_asks_before_it_starts_over(walk: Walk) -> None:
    page = walk.page
    walk.send(SAID)
    walk.message(SAID).wait_for()
    before = page.locator("#clock").inner_text()
    expected = tomorrow_at(walk.site.now(), 9, "Europe/London")
    jump = page.get_by_role("button", name="Jump to tomorrow 09:00")
    jump.click()
    # While the clock moves, the jump buttons say they are unavailable, and pressing
    # again does not move it a second day.
    assert jump.get_attribute("aria-disabled") == "true"
    jump.click(force=True)  # force: Playwright itself would wait for it to be enabled
    walk.settled(timeout=120.0)
    page.wait_for_function("() => !document.querySelector('[data-jump][aria-disabled]')")
    walk.settled()
    moved = page.locator("#clock").inner_text()
    assert moved != before and moved.endswith("09:00"), (before, moved)
    assert expected <= walk.site.now() < expected + timedelta(hours=1), "it moved twice"
    said = "() => document.querySelector('#status').textContent.includes('The clock moved')"
    page.wait_for_function(said)
    walk.shot("the clock moved to tomorrow")

    reset = page.get_by_role("button", name="Reset demo", exact=True)
    reset.click()
    ask = page.get_by_role("dialog", name="Reset the demo?")
    ask.wait_for()
    assert "deleted" in ask.inner_text()
    # The safe answer has the focus: Enter or Escape keeps everything.
    assert page.evaluate("() => document.activeElement.textContent") == "Keep it"
    walk.shot("reset asks first")
    page.keyboard.press("Escape")
    assert not ask.is_visible()
    walk.settled()
    assert walk.message(SAID).is_visible()

    reset.click()
    ask.get_by_role("button", name="Reset demo").click()
    walk.settled(timeout=60.0)
    page.wait_for_function(
        "(said) => !document.querySelector('#messages').textContent.includes(said)", arg=SAID
    )
    assert page.locator("#clock").inner_text() != moved  # the clock starts again too
    walk.shot("the demo starts again")
