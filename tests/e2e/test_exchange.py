"""An exchange programme end to end through the twin: a lead creates it, 32 people sign up
(one paused, one asking not to be paired with someone), the lead reviews, swaps, re-runs
and approves; pairs are introduced in group DMs, follow through to done and feedback;
round two avoids the pairs of round one."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.exchange import followup
from bot.slack import WebClientPort, make_web_client
from slacktwin import SlackDriver, SlackTwin
from storage import (
    Database,
    ExchangeFeedback,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    ExchangeRound,
    OutboxMessage,
    utcnow,
)
from tests.support import BOT_TOKEN, CHANNEL, LEAD, MEMBER

ORGANISATIONS = ("Wye Valley NHS Trust", "Taurus Healthcare", "Herefordshire Council")
THEMES = ("Frailty", "Discharge and flow", "Mental health", "Prevention")
PEOPLE = [f"U0EX{n:05d}" for n in range(32)]
PAUSED, AVOIDS, AVOIDED = PEOPLE[31], PEOPLE[0], PEOPLE[1]


def org_of(user: str) -> str:
    return ORGANISATIONS[PEOPLE.index(user) % 3]


def review(twin: SlackTwin) -> dict:
    """The lead's review message (the latest), redrawn in place as it changes."""
    return next(m for m in reversed(twin.dms(LEAD)) if "Proposed matches" in m["text"])


def queued(database: Database, kind: str) -> list[OutboxMessage]:
    with database.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def working_hours(when: datetime) -> bool:
    """A weekday, 08:00 to 19:00 in the community's time zone (the default quiet hours)."""
    local = when.astimezone(ZoneInfo("Europe/London"))
    return local.weekday() < 5 and time(8) <= local.time() < time(19)


def matches_of_round(database: Database, number: int) -> list[list[str]]:
    with database.session() as session:
        round_ = session.exec(select(ExchangeRound).where(ExchangeRound.number == number)).one()
        ids = session.exec(select(ExchangeMatch.id).where(ExchangeMatch.round_id == round_.id))
        return [
            sorted(
                session.exec(
                    select(ExchangeMatchMember.user_id).where(ExchangeMatchMember.match_id == i)
                )
            )
            for i in ids
        ]


def create_programme(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(LEAD, "/exchange", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="programme form")
    driver.fill(
        LEAD,
        {
            "Name": "hereford",
            "Format": "Half-day swap",
            "Sign-up deadline": utcnow().date().isoformat(),
            "Rounds": "Monthly",
        },
    )
    assert not driver.submit(LEAD).errors
    twin.wait_for(lambda: "/exchange join hereford" in json.dumps(twin.dms(LEAD)))


def sign_up(driver: SlackDriver, twin: SlackTwin, user: str, **extra: object) -> None:
    driver.command(user, "/exchange", "join hereford", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(user) is not None, message=f"sign-up {user}")
    n = PEOPLE.index(user)
    values = {
        "Staff group": ("Medical", "Nursing and midwifery", "Pharmacy")[n % 3],
        "Organisation": org_of(user),
        "Professional interests": [THEMES[n % 4], THEMES[(n // 4) % 4]],
        "Personal interests": ["Walking and the outdoors"] if n % 2 else ["Music"],
        "I can offer": "quality improvement coaching" if n % 5 == 0 else "",
        "I want to learn": "quality improvement coaching" if n % 5 == 1 else "",
        **extra,
    }
    driver.fill(user, {k: v for k, v in values.items() if v != ""})
    assert not driver.submit(user).errors


@pytest.fixture
def community(driver: SlackDriver, twin: SlackTwin) -> list[str]:
    for user in PEOPLE:
        twin.add_user(user, name=user.lower(), real_name=f"Person {user[-2:]}")
    create_programme(driver, twin)
    for user in PEOPLE:
        if user == PAUSED:
            sign_up(driver, twin, user, Pause=True)
        elif user == AVOIDS:
            sign_up(driver, twin, user, **{"People I should not be paired with": [AVOIDED]})
        else:
            sign_up(driver, twin, user)
    return PEOPLE


def test_a_programme_from_creation_to_completed_exchanges_and_a_second_round(
    driver: SlackDriver, twin: SlackTwin, database: Database, community: list[str]
) -> None:
    # Bad input first: a non-lead can't create or match; a join that names no interest.
    assert "Only leads" in driver.command(MEMBER, "/exchange", "match hereford").text
    driver.command(MEMBER, "/exchange", "join hereford", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(MEMBER, {"Staff group": "Medical", "Organisation": "Wye Valley NHS Trust"})
    assert "at least one" in json.dumps(driver.submit(MEMBER).errors)

    reply = driver.command(LEAD, "/exchange", "match hereford", channel=CHANNEL)
    assert "proposal comes to your DMs" in reply.text
    twin.wait_for(lambda: "Proposed matches for hereford" in json.dumps(twin.dms(LEAD)))
    shown = json.dumps(review(twin)["blocks"])
    assert all(label in shown for label in ("Approve", "Swap", "Re-run"))
    assert "paused" in shown.lower()  # the paused member is told apart, not dropped
    first = matches_of_round(database, 1)
    matched = [u for group in first for u in group]
    assert sorted(matched) == sorted(PEOPLE[:31])  # 31 people: everyone placed, one trio
    assert sorted(len(g) for g in first) == [2] * 14 + [3]
    assert all(len({org_of(u) for u in g}) > 1 for g in first)
    assert not any({AVOIDS, AVOIDED} <= set(g) for g in first)
    assert not twin.group_dms(PEOPLE[2])  # nothing reaches members before approval

    # Swap two people of the same organisation from two pairs: allowed, the review redraws.
    pairs = [g for g in first if len(g) == 2 and PAUSED not in g]
    x = pairs[0][0]
    y = next(
        u for g in pairs[1:] for u in g if org_of(u) == org_of(x) and u not in (AVOIDS, AVOIDED)
    )
    x_partner = next(u for u in pairs[0] if u != x)
    driver.click(LEAD, "Swap", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="swap form")
    driver.fill(LEAD, {"Person": x, "Other person": y})
    assert not driver.submit(LEAD).errors
    swapped = matches_of_round(database, 1)
    assert sorted([y, x_partner]) in swapped
    # A swap that would pair two people of one organisation is refused; nothing changes.
    z = next(
        u
        for u in matched
        if org_of(u) == org_of(x_partner)
        and u not in (x_partner, y)
        and u not in (x, AVOIDS, AVOIDED)
    )
    driver.click(LEAD, "Swap", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Person": y, "Other person": z})
    errors = json.dumps(driver.submit(LEAD).errors)
    assert "break one of the programme's rules" in errors
    assert matches_of_round(database, 1) == swapped
    driver.close(LEAD)

    # Re-run with more weight on professional interests: a fresh proposal, still valid.
    driver.click(LEAD, "Re-run", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="re-run form")
    driver.fill(LEAD, {"Shared professional interests": "8"})
    assert not driver.submit(LEAD).errors

    def reran() -> bool:
        with database.session() as session:
            found = session.exec(select(ExchangeRound)).one()
            return found.weights.get("professional") == 8.0

    twin.wait_for(reran, message="re-run stored")
    twin.wait_for(lambda: len(matches_of_round(database, 1)) == 15, message="re-run matches")

    # A member can't approve; the lead can, once.
    driver.click(MEMBER, "Approve", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    with database.session() as session:
        assert session.exec(select(ExchangeRound)).one().approved_at is None
    driver.click(LEAD, "Approve", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    final = matches_of_round(database, 1)
    for group in final:
        twin.wait_for(lambda g=group: twin.group_dms(g[0]), message="introduction")
    twin.wait_for(lambda: "approved by" in json.dumps(review(twin)), message="review redrawn")
    twin.wait_for(lambda: "paused" in json.dumps(twin.dms(PAUSED)).lower(), message="told why")

    # Each group DM: who, why, next step, and the three buttons.
    group = final[0]
    channel = twin.group_dms(group[0])[0]
    twin.wait_for(lambda: twin.messages(channel), message="intro message")
    intro = twin.messages(channel)[-1]
    text = json.dumps(intro["blocks"])
    assert "Why you were matched" in text and "two half-day visits" in text
    assert all(label in text for label in ("We've set a date", "Done", "Can't go ahead"))
    outsider = next(u for u in PEOPLE[:31] if u not in group)
    driver.click(outsider, "Done", message=(channel, intro["ts"]))
    twin.wait_for(lambda: "Only the people in this match" in json.dumps(twin.ephemerals(outsider)))
    driver.click(group[0], "We've set a date", message=(channel, intro["ts"]))
    twin.wait_for(lambda: "A date is set" in json.dumps(twin.messages(channel)[-1]))

    # Every match completes; two people give feedback.
    for members in final:
        ch = twin.group_dms(members[0])[0]
        twin.wait_for(lambda ch=ch: twin.messages(ch), message="intro")
        driver.click(members[-1], "Done", message=(ch, twin.messages(ch)[-1]["ts"]))
    with database.session() as session:
        twin.wait_for(lambda: all(m.status == "done" for m in session.exec(select(ExchangeMatch))))
    # Whoever pressed Done is asked at once; the others as a nudge, in their working hours.
    for user, rating in ((final[0][-1], "5 of 5"), (final[1][-1], "4 of 5")):
        twin.wait_for(lambda u=user: "Give feedback" in json.dumps(twin.dms(u)), message="ask")
        request = next(m for m in twin.dms(user) if "Give feedback" in json.dumps(m))
        driver.click(user, "Give feedback", message=(twin.dm_channel(user), request["ts"]))
        twin.wait_for(lambda u=user: twin.current_modal(u) is not None, message="feedback form")
        driver.fill(
            user,
            {
                "Rating": rating,
                "What I learned": "How discharge works from the other side",
                "Would you recommend it?": "Yes",
            },
        )
        assert not driver.submit(user).errors
    with database.session() as session:
        assert len(session.exec(select(ExchangeFeedback)).all()) == 2

    stats = json.dumps(driver.command(LEAD, "/exchange", "stats hereford").json())
    assert "Sign-ups: 32" in stats
    assert "Matches: 15" in stats and "exchanges completed: 15" in stats
    assert "Across organisations: 100%" in stats
    assert "Feedback returned: 2 of" in stats and "average rating: 4.5 out of 5" in stats

    driver.app_home_opened(LEAD)
    twin.wait_for(
        lambda: (
            "32 signed up · 15 matches · 15 done"
            in json.dumps(twin.home_view(LEAD) or {}, ensure_ascii=False)
        ),
        message="programme figures in App Home",
    )

    # Round two (monthly): nobody meets the same person again.
    driver.command(LEAD, "/exchange", "match hereford", channel=CHANNEL)
    twin.wait_for(lambda: "round 2" in json.dumps(review(twin)), message="round two proposal")
    met = {frozenset(p) for g in final for p in combinations(g, 2)}
    second = matches_of_round(database, 2)
    assert second and not any(frozenset(p) in met for g in second for p in combinations(g, 2))


def test_follow_through_proposes_at_the_deadline_nudges_and_reports_stalls(
    driver: SlackDriver,
    twin: SlackTwin,
    database: Database,
    settings: Settings,
    community: list[str],
) -> None:
    port = WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    after_deadline = utcnow() + timedelta(days=2)
    report = followup.steps(database.session, port, settings, after_deadline)
    assert report.proposed == 1  # sign-ups closed: the proposal goes to the lead
    twin.wait_for(lambda: "Proposed matches for hereford" in json.dumps(twin.dms(LEAD)))
    assert followup.steps(database.session, port, settings, after_deadline).proposed == 0
    driver.click(LEAD, "Approve", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    twin.wait_for(lambda: twin.group_dms(PEOPLE[2]), message="introduced")
    with database.session() as session:
        twin.wait_for(
            lambda: all(m.status == "introduced" for m in session.exec(select(ExchangeMatch)))
        )
    channel = twin.group_dms(PEOPLE[2])[0]
    twin.wait_for(lambda: twin.messages(channel), message="intro")

    week_later = utcnow() + timedelta(days=8)
    assert followup.steps(database.session, port, settings, week_later).nudged == 15
    assert followup.steps(database.session, port, settings, week_later).nudged == 0  # once
    nudges = queued(database, "exchange.no_date")
    assert len(nudges) == 15 and {n.channel for n in nudges} >= {channel}
    assert all(working_hours(n.due_at) and n.due_at >= week_later for n in nudges)

    month_later = utcnow() + timedelta(days=29)
    assert followup.steps(database.session, port, settings, month_later).stalled_reported == 15
    (note,) = queued(database, "exchange.lead")
    assert note.channel == LEAD and "15 hereford matches have stalled" in note.text
    assert working_hours(note.due_at)
    with database.session() as session:
        programme = session.exec(select(ExchangeProgramme)).one()
        assert programme.round_number == 2
