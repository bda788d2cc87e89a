"""A pulse cycle in the browser: a lead designs two pulses, five people answer one and four
the other, the clock moves past their close, and the lead sees results and the chart for
the first and nothing for the second (below the anonymity minimum of five)."""

from __future__ import annotations

import re

from tests.browser.conftest import Walk

ANSWERERS = ("Tom Hughes", "Gareth Jones", "Kwame Mensah", "Farah Iqbal", "Lucy Chen")
FEELING = "How are you feeling about improvement work this week?"
HANDOVER = "How well did handover go"


def design(walk: Walk, name: str, *, starter: str | None = None, own: str | None = None) -> None:
    walk.send("/pulse new")
    form = walk.modal
    form.get_by_label("Name").fill(name)
    if starter:
        form.get_by_label(starter).check()
    if own:
        form.get_by_label("Your own questions").fill(own)
    form.get_by_label("Open for (days)").fill("1")
    walk.shot(f"designing the {name} pulse")
    form.get_by_role("button", name="Create").click()
    walk.settled()
    assert walk.modal.count() == 0, walk.modal.inner_text()
    walk.send(f"/pulse send-now {name}")


def answer(walk: Walk, person: str, question: str, value: str) -> None:
    walk.act_as(person)
    walk.open("copbot · Messages")
    walk.message(question).get_by_role("button", name=value, exact=True).click()
    walk.settled()


def test_a_pulse_designed_answered_and_closed_shows_results_only_above_the_minimum(
    walk: Walk,
) -> None:
    page = walk.page
    walk.act_as("Amara Okafor")
    design(walk, "checkin", starter=FEELING)
    walk.axe("the pulse designer")  # drawn above, checked here once closed too
    design(walk, "handover", own=f"1-5: {HANDOVER}?")

    for person in ANSWERERS:
        answer(walk, person, FEELING, "4")
    walk.shot("a member's pulse DM after answering")
    walk.axe("a pulse DM")
    for person in ANSWERERS[:4]:
        answer(walk, person, HANDOVER, "3")

    walk.act_as("Amara Okafor")
    walk.open("copbot · Messages")
    for _ in range(2):  # at least a day passes, whatever the time now
        walk.press("Jump to tomorrow 09:00")
    walk.shot("the clock moved past the close")
    dm = page.locator("#messages")
    text = dm.inner_text()
    assert "Pulse checkin: 5 of" in text, text[-1500:]
    chart = dm.locator("img").last
    chart.wait_for()
    assert page.evaluate("(img) => img.naturalWidth > 100", chart.element_handle())
    # (A one-off pulse also opens at its own time: that run's results, with nobody
    # answered yet, may come too; the run sent now is the one answered by four.)
    handover = walk.message("Pulse handover: 4 of")
    assert "withheld" in handover.inner_text()
    # A distribution ("1: 0 · 2: 0 · 3: 4 ...") above the minimum, none below; the
    # message's time ("13:03") must not count as one.
    distribution = re.compile(r"\b\d: \d+ · \d: \d+")
    assert distribution.search(walk.message("Pulse checkin: 5 of").inner_text())
    assert not distribution.search(handover.inner_text())
    walk.message("Pulse checkin: 5 of").scroll_into_view_if_needed()
    walk.shot("results and the chart for five answers")
    handover.scroll_into_view_if_needed()
    walk.shot("withheld for four answers")
    walk.axe("pulse results")
