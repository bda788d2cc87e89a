"""An exchange round in the browser: a lead creates a programme, four people from different
organisations sign up, the lead runs matching and approves, each pair meets copbot's
introduction in a group DM, and the clock moves on to the follow-up."""

from __future__ import annotations

import re

from tests.browser.conftest import Walk

PEOPLE = ("Tom Hughes", "Gareth Jones", "Kwame Mensah", "Lucy Chen")


def sign_up(walk: Walk, person: str, interest: str) -> None:
    walk.act_as(person)
    walk.send("/exchange join hereford")
    form = walk.modal
    form.get_by_label(re.compile("^Professional interests")).select_option(label=[interest])
    form.get_by_label("Personal interests").select_option(index=0)
    walk.shot(f"{person} signs up")
    form.get_by_role("button", name="Join").click()
    walk.settled()
    assert walk.modal.count() == 0 or "error" not in walk.modal.inner_text().lower()
    if walk.modal.count():
        walk.press("Close", within=walk.modal)


def test_an_exchange_round_from_sign_ups_to_introductions_and_follow_up(walk: Walk) -> None:
    page = walk.page
    walk.act_as("Amara Okafor")
    walk.send("/exchange new")
    form = walk.modal
    form.get_by_label("Name").fill("hereford")
    form.get_by_label("Format").select_option(label="Half-day swap")
    walk.shot("the lead creates a programme")
    walk.axe("the programme form")
    form.get_by_role("button", name="Create").click()
    walk.settled()
    assert walk.modal.count() == 0, walk.modal.inner_text()

    for person in PEOPLE:
        sign_up(walk, person, "Frailty")
    walk.axe("the sign-up form (after sign-ups)")

    walk.act_as("Amara Okafor")
    walk.send("/exchange match hereford")
    walk.open("copbot · Messages")
    review = walk.message("Proposed matches for hereford")
    review.wait_for()
    walk.shot("the lead reviews the proposal")
    walk.axe("the match review")
    review.get_by_role("button", name="Approve").click()
    walk.settled()
    assert "Introductions are on their way" in walk.message("approved by").inner_text()

    walk.act_as("Tom Hughes")
    group = page.locator("#groups .conv").first
    group.wait_for()
    group.click()
    walk.settled()
    intro = page.locator("#messages")
    assert "Why you were matched" in intro.inner_text()
    walk.shot("the group DM introduction")
    walk.axe("a group DM")

    for _ in range(2):  # more than a week passes, whatever the day today
        walk.press("Jump to next Monday")
    walk.shot("the follow-up after a week without a date")
    assert "found a date yet" in page.locator("#messages").inner_text()
